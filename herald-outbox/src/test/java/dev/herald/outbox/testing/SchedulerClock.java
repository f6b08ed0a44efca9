package dev.herald.outbox.testing;

import dev.herald.core.time.Scheduler;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A {@link Clock} that reads a {@link Scheduler}: the outbox stamps events on the relay's time. */
public final class SchedulerClock extends Clock {
  private final Scheduler scheduler;

  public SchedulerClock(Scheduler scheduler) {
    this.scheduler = scheduler;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(scheduler.nowMillis());
  }
}
