package dev.herald.core.limits;

/**
 * A token bucket on integer arithmetic: {@code burst} tokens at most, refilled at {@code perSecond}
 * tokens per second. No allocation per call. Not thread-safe: each connection owns one and uses it
 * on its executor only.
 */
public final class TokenBucket {
  /** Tokens are counted in thousandths, so a refill of {@code perSecond} per ms is exact. */
  private static final long SCALE = 1000;

  private final long capacity;
  private final long perSecond;
  private long tokens;
  private long lastMillis;

  /** A bucket that starts full; {@code perSecond <= 0} means unlimited. */
  public TokenBucket(int perSecond, int burst, long nowMillis) {
    this.perSecond = perSecond;
    this.capacity = Math.max(1, burst) * SCALE;
    this.tokens = capacity;
    this.lastMillis = nowMillis;
  }

  /** Takes one token if there is one. */
  public boolean tryTake(long nowMillis) {
    if (perSecond <= 0) {
      return true;
    }
    long elapsed = nowMillis - lastMillis;
    if (elapsed > 0) {
      // perSecond tokens per 1000 ms = perSecond thousandths per ms. Elapsed time is capped at what
      // fills the bucket before multiplying, so neither a long idle period nor a huge rate or burst
      // (any int) can overflow: the product stays below capacity + perSecond.
      long toFill = (capacity - tokens + perSecond - 1) / perSecond;
      long refill = Math.min(elapsed, toFill) * perSecond;
      tokens = Math.min(capacity, tokens + refill);
      lastMillis = nowMillis;
    }
    if (tokens >= SCALE) {
      tokens -= SCALE;
      return true;
    }
    return false;
  }
}
