package dev.herald.app.events;

import dev.herald.app.db.Database;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes committed changes on their channels, in seq order, and marks them published. It runs as
 * soon as a write commits ({@link #wake()}) and also on a fixed interval, which picks up rows left
 * unpublished by a crash between commit and publish. Delivery to the hub is at least once: a crash
 * after publishing but before marking publishes the row again after restart; events carry {@code
 * seq}, so clients drop the repeat.
 */
public final class OutboxRelay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);
  private static final int BATCH = 200;

  /** A publish that takes longer fails the drain; the rows stay pending and are retried. */
  private static final long PUBLISH_TIMEOUT_SECONDS = 10;

  private final Database db;
  private final ChangeLog changes;
  private final BiFunction<String, String, CompletionStage<?>> publisher;
  private final ScheduledExecutorService executor;
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final long intervalMillis;
  private volatile boolean started;

  /**
   * @param publisher publishes (channel, JSON payload) to the hub; its stage completes when the hub
   *     has taken the publication
   */
  public OutboxRelay(
      Database db,
      ChangeLog changes,
      BiFunction<String, String, CompletionStage<?>> publisher,
      long intervalMillis) {
    this.db = db;
    this.changes = changes;
    this.publisher = publisher;
    this.intervalMillis = intervalMillis;
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "herald-outbox");
              t.setDaemon(true);
              return t;
            });
  }

  public void start() {
    started = true;
    executor.scheduleWithFixedDelay(this::runSafely, 0, intervalMillis, TimeUnit.MILLISECONDS);
  }

  /** Publishes pending changes soon (called after each committing write); no-op before start. */
  public void wake() {
    if (started && scheduled.compareAndSet(false, true)) {
      executor.execute(
          () -> {
            scheduled.set(false);
            runSafely();
          });
    }
  }

  private void runSafely() {
    try {
      drain();
    } catch (RuntimeException e) {
      log.warn("outbox relay failed; will retry", e);
    }
  }

  /** Publishes everything pending, in order; stops at the first failure (retried later). */
  void drain() {
    while (true) {
      // Under the write lock: changes commit in seq order, and if several app instances share
      // the database, only one relay publishes at a time, so events leave in seq order.
      int published =
          db.write(
              h -> {
                List<ChangeLog.Entry> batch = ChangeLog.pending(h, BATCH);
                for (ChangeLog.Entry e : batch) {
                  publisher
                      .apply(e.channel(), e.payload())
                      .toCompletableFuture()
                      .orTimeout(PUBLISH_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                      .join();
                  changes.markPublished(h, e.seq());
                }
                return batch.size();
              });
      if (published < BATCH) {
        return;
      }
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
