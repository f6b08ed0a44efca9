package dev.herald.core.limits;

import java.util.function.LongSupplier;

/**
 * Lets a repeating warning through at most once per interval and counts what it held back, so a
 * failure that repeats every few milliseconds (a store that is down, a read that keeps failing)
 * says what failed, at warn, without flooding the log. Thread-safe.
 *
 * <pre>{@code
 * long held = limiter.admit();
 * if (held >= 0) {
 *   log.warn("catching up {} failed ({} more since the last report): {}", channel, held, err);
 * }
 * }</pre>
 */
public final class WarnLimiter {
  private final long intervalMillis;
  private final LongSupplier clock;
  // Guarded by this.
  private long nextAt = Long.MIN_VALUE;
  private long held;

  /**
   * @param intervalMillis least time between two warnings let through
   * @param clock current time in milliseconds (injected, so tests run on fake time)
   */
  public WarnLimiter(long intervalMillis, LongSupplier clock) {
    if (intervalMillis < 0) {
      throw new IllegalArgumentException("interval must be >= 0");
    }
    this.intervalMillis = intervalMillis;
    this.clock = clock;
  }

  /**
   * One occurrence: returns how many occurrences were held back since the last one let through (0
   * or more) if this one should be logged, or -1 if it is held back.
   */
  public synchronized long admit() {
    long now = clock.getAsLong();
    if (nextAt != Long.MIN_VALUE && now < nextAt) {
      held++;
      return -1;
    }
    nextAt = now + intervalMillis;
    long n = held;
    held = 0;
    return n;
  }
}
