package dev.herald.app.events;

import dev.herald.outbox.RelayListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The outbox relay's metrics in Micrometer: {@code herald.outbox.lag} (commit to publish), {@code
 * herald.outbox.backlog} and {@code herald.outbox.backlog.oldest.seconds}, {@code
 * herald.outbox.published}, {@code herald.outbox.failed}, {@code herald.outbox.removed} and {@code
 * herald.outbox.leader} (1 while this instance's relay is the leader). No per-channel labels: the
 * number of channels is unbounded.
 */
public final class OutboxMetrics implements RelayListener {
  private final Timer lag;
  private final Counter published;
  private final Counter failed;
  private final Counter compacted;
  private final Counter expired;
  private final AtomicLong backlog = new AtomicLong();
  private final AtomicLong oldestMillis = new AtomicLong();
  private final AtomicLong leader = new AtomicLong();

  public OutboxMetrics(MeterRegistry registry) {
    lag =
        Timer.builder("herald.outbox.lag")
            .description("Time from recording an event (in its transaction) to the hub taking it")
            .register(registry);
    published =
        Counter.builder("herald.outbox.published")
            .description("Events the hub took")
            .register(registry);
    failed =
        Counter.builder("herald.outbox.failed")
            .description("Publications that failed or timed out (retried)")
            .register(registry);
    compacted =
        Counter.builder("herald.outbox.removed")
            .tag("reason", "compacted")
            .description("Published events removed by maintenance")
            .register(registry);
    expired =
        Counter.builder("herald.outbox.removed")
            .tag("reason", "expired")
            .description("Published events removed by maintenance")
            .register(registry);
    Gauge.builder("herald.outbox.backlog", backlog, AtomicLong::get)
        .description("Events recorded but not published yet (reported by the leader)")
        .register(registry);
    Gauge.builder("herald.outbox.backlog.oldest.seconds", oldestMillis, m -> m.get() / 1000.0)
        .description("Age of the oldest unpublished event")
        .register(registry);
    Gauge.builder("herald.outbox.leader", leader, AtomicLong::get)
        .description("1 while this instance's relay holds the lease")
        .register(registry);
  }

  @Override
  public void published(String channel, long seq, Duration lag) {
    this.lag.record(lag);
    published.increment();
  }

  @Override
  public void publishFailed(String channel, long seq, Throwable error) {
    failed.increment();
  }

  @Override
  public void backlog(long events, Duration oldest) {
    backlog.set(events);
    oldestMillis.set(oldest.toMillis());
  }

  @Override
  public void leadership(boolean isLeader) {
    leader.set(isLeader ? 1 : 0);
    if (!isLeader) {
      backlog.set(0);
      oldestMillis.set(0);
    }
  }

  @Override
  public void removed(int compacted, int expired) {
    this.compacted.increment(compacted);
    this.expired.increment(expired);
  }
}
