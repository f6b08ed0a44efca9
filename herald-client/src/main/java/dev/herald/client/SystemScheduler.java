package dev.herald.client;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/** The default scheduler: one daemon timer thread, owned and shut down by the client. */
final class SystemScheduler implements ClientScheduler, AutoCloseable {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  private final ScheduledThreadPoolExecutor executor;
  private final ClientScheduler delegate;

  SystemScheduler() {
    int n = COUNTER.incrementAndGet();
    executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "herald-client-timer-" + n);
              t.setDaemon(true);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
    delegate = ClientScheduler.of(executor);
  }

  @Override
  public long nowMillis() {
    return delegate.nowMillis();
  }

  @Override
  public Cancellable schedule(long delayMs, Runnable task) {
    return delegate.schedule(delayMs, task);
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
