package dev.herald.core.time;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** Wall-clock time and a single daemon timer thread. Tasks must be short and never block. */
public final class SystemScheduler implements Scheduler, AutoCloseable {
  private final ScheduledExecutorService executor;

  public SystemScheduler() {
    ScheduledThreadPoolExecutor ex =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = Executors.defaultThreadFactory().newThread(r);
              t.setName("herald-timer");
              t.setDaemon(true);
              return t;
            });
    // Cancelled heartbeat timers of closed connections must not pile up in the queue.
    ex.setRemoveOnCancelPolicy(true);
    this.executor = ex;
  }

  @Override
  public long nowMillis() {
    return System.currentTimeMillis();
  }

  @Override
  public Cancellable schedule(long delayMillis, Runnable task) {
    var future = executor.schedule(task, Math.max(0, delayMillis), TimeUnit.MILLISECONDS);
    return () -> future.cancel(false);
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
