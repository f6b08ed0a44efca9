package dev.herald.server.fallback;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Bounds what clients may report ({@code /connection/report}, {@code /connection/lag}): per client
 * address, and per session when the report names one, a burst of {@link #BURST} reports and then
 * one every {@link #REFILL_MILLIS}. Reports are diagnostics: anonymous, so without a bound anyone
 * could inflate the failure counts or skew the lag histogram. A browser sends a handful per page
 * load; behind a large NAT some reports are refused, which only makes the counts lower. The keys
 * kept are bounded too (the least recently seen go first). Thread-safe.
 */
final class ReportLimiter {
  static final int BURST = 20;
  static final long REFILL_MILLIS = 30_000;
  static final int MAX_KEYS = 10_000;

  private final LongSupplier clock;
  // key -> {tokens, last refill time}; access-ordered, guarded by "this".
  private final Map<String, long[]> buckets =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, long[]> eldest) {
          return size() > MAX_KEYS;
        }
      };

  ReportLimiter(LongSupplier clock) {
    this.clock = clock;
  }

  /** Whether a report from this address (and session, when not null) may be taken now. */
  synchronized boolean allow(String address, @Nullable String session) {
    long now = clock.getAsLong();
    long[] a = bucket("a:" + address, now);
    long[] s = session == null ? null : bucket("s:" + session, now);
    if (a[0] < 1 || (s != null && s[0] < 1)) {
      return false;
    }
    a[0]--;
    if (s != null) {
      s[0]--;
    }
    return true;
  }

  /** Seconds until the address (or session) may report again: for {@code Retry-After}. */
  static long retryAfterSeconds() {
    return REFILL_MILLIS / 1000;
  }

  private long[] bucket(String key, long now) {
    long[] b = buckets.get(key);
    if (b == null) {
      b = new long[] {BURST, now};
      buckets.put(key, b);
      return b;
    }
    long refills = (now - b[1]) / REFILL_MILLIS;
    if (refills > 0) {
      b[0] = Math.min(BURST, b[0] + refills);
      b[1] += refills * REFILL_MILLIS;
    }
    return b;
  }
}
