package dev.herald.core.limits;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Live connections per key (a user id or a remote address) with an upper bound. Thread-safe; an
 * entry disappears when its count drops to zero, so the map only holds keys that have connections.
 */
public final class ConnectionCounter {
  private final int limit;
  private final ConcurrentHashMap<String, Integer> counts = new ConcurrentHashMap<>();

  /** {@code limit <= 0} means unbounded (still counted, for {@link #count}). */
  public ConnectionCounter(int limit) {
    this.limit = limit;
  }

  /** Counts one more connection for {@code key} unless that would pass the limit. */
  public boolean tryAcquire(String key) {
    return tryAcquire(key, limit);
  }

  /**
   * Counts one more connection for {@code key} unless that would pass {@code max} ({@code <= 0}:
   * none).
   */
  public boolean tryAcquire(String key, int max) {
    boolean[] ok = {false};
    counts.compute(
        key,
        (k, n) -> {
          int current = n == null ? 0 : n;
          if (max > 0 && current >= max) {
            return n;
          }
          ok[0] = true;
          return current + 1;
        });
    return ok[0];
  }

  /** Whether one more connection for {@code key} would be admitted right now. */
  public boolean admits(String key) {
    return limit <= 0 || counts.getOrDefault(key, 0) < limit;
  }

  public void release(String key) {
    counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
  }

  public int count(String key) {
    return counts.getOrDefault(key, 0);
  }

  public int limit() {
    return limit;
  }
}
