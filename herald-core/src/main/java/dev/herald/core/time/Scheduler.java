package dev.herald.core.time;

/**
 * The hub's only source of time: a clock and delayed tasks. Production uses {@link
 * SystemScheduler}; tests use a manual implementation so heartbeat, timeout and expiry logic runs
 * on fake time.
 */
public interface Scheduler {
  /** Milliseconds since the Unix epoch. */
  long nowMillis();

  /**
   * Runs {@code task} once after {@code delayMillis}. The task runs on a scheduler thread, not on
   * any connection's thread; it must hand work to the right executor itself.
   */
  Cancellable schedule(long delayMillis, Runnable task);

  /** A scheduled task that may be cancelled; cancelling a task that already ran does nothing. */
  interface Cancellable {
    void cancel();

    Cancellable NONE = () -> {};
  }
}
