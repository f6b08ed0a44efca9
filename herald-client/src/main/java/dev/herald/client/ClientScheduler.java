package dev.herald.client;

import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Time source and timer used by the client for reconnect delays, heartbeat checks and request
 * timeouts. Injectable so that tests can run the client on fake time.
 *
 * <p>The client never runs its logic on the scheduler's thread: every task it schedules only hands
 * work over to the client's event thread, so implementations may run tasks on any thread (including
 * the caller's, for fake schedulers driven by a test).
 */
public interface ClientScheduler {
  /** A monotonic clock in milliseconds (only differences are meaningful). */
  long nowMillis();

  /**
   * Runs {@code task} once, after {@code delayMs} milliseconds (0 or less: as soon as possible).
   */
  Cancellable schedule(long delayMs, Runnable task);

  /**
   * A scheduler on top of an executor the caller owns (and shuts down). The clock is {@link
   * System#nanoTime()}.
   */
  static ClientScheduler of(ScheduledExecutorService executor) {
    Objects.requireNonNull(executor, "executor");
    return new ClientScheduler() {
      @Override
      public long nowMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
      }

      @Override
      public Cancellable schedule(long delayMs, Runnable task) {
        try {
          ScheduledFuture<?> f =
              executor.schedule(task, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
          return () -> f.cancel(false);
        } catch (RejectedExecutionException e) {
          return () -> {};
        }
      }
    };
  }
}
