package dev.herald.client;

import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * Reconnect delays: exponential backoff with full jitter. The n-th consecutive failed attempt (n
 * counted from 0) waits {@code random(0, min(cap, base * 2^n))}; a successful connect resets the
 * count ({@link #reset()}). When the server suggests a delay ({@code retry_ms}) it is honoured
 * instead, plus a small jitter of at most a tenth of it (and at most {@value #MAX_RETRY_JITTER_MS}
 * ms). Close codes that mean "do not reconnect" (1000, 4500-4999) stop reconnecting altogether.
 *
 * <p>Not thread-safe: the client uses it on its event thread only. Pure logic: the random source is
 * injected, there is no clock.
 */
final class BackoffPolicy {
  static final long DEFAULT_BASE_MS = 500;
  static final long DEFAULT_CAP_MS = 30_000;

  /** Upper bound on an honoured server suggestion, against absurd values. */
  static final long MAX_SUGGESTED_MS = 10 * 60_000;

  static final long MAX_RETRY_JITTER_MS = 1_000;

  /** Upper bound on the cap (a day), which also keeps the arithmetic far from overflow. */
  static final long MAX_CAP_MS = 86_400_000;

  /** What to do after a connection ended. */
  record Decision(boolean reconnect, long delayMs) {
    static final Decision STOP = new Decision(false, 0);
  }

  private final long baseMs;
  private final long capMs;
  private final DoubleSupplier random;
  private int attempt;

  /**
   * @param random returns values in [0, 1); values outside are clamped
   */
  BackoffPolicy(long baseMs, long capMs, DoubleSupplier random) {
    if (baseMs <= 0) {
      throw new IllegalArgumentException("backoff base must be positive: " + baseMs);
    }
    if (capMs < baseMs || capMs > MAX_CAP_MS) {
      throw new IllegalArgumentException("backoff cap must be between base and a day: " + capMs);
    }
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.random = Objects.requireNonNull(random, "random");
  }

  /** Number of delays handed out since the last {@link #reset()}. */
  int attempt() {
    return attempt;
  }

  /** Call after a successful connect. */
  void reset() {
    attempt = 0;
  }

  /** {@code min(cap, base * 2^attempt)}: the upper bound of the delay for that attempt. */
  long ceiling(int attempt) {
    long c = baseMs;
    for (int i = 0; i < attempt && c < capMs; i++) {
      c <<= 1;
    }
    return Math.min(c, capMs);
  }

  /** The next backoff delay (full jitter); counts an attempt. */
  long nextDelay() {
    long delay = (long) (unit() * ceiling(attempt));
    countAttempt();
    return delay;
  }

  /**
   * The delay to use when the server suggested {@code retryMs}: that delay (capped at {@value
   * #MAX_SUGGESTED_MS} ms) plus a small jitter. Without a suggestion (0), {@link #nextDelay()}.
   * Counts an attempt either way, so that repeated failures still back off.
   */
  long delayFor(long retryMs) {
    if (retryMs <= 0) {
      return nextDelay();
    }
    long suggested = Math.min(retryMs, MAX_SUGGESTED_MS);
    long delay = suggested + (long) (unit() * retryJitterCeiling(suggested));
    countAttempt();
    return delay;
  }

  /** Decides what to do after a connection ended with {@code close}. */
  Decision decide(CloseInfo close) {
    if (!close.reconnect()) {
      return Decision.STOP;
    }
    return new Decision(true, delayFor(close.retryMs()));
  }

  static long retryJitterCeiling(long suggestedMs) {
    return Math.min(MAX_RETRY_JITTER_MS, Math.max(1, suggestedMs / 10));
  }

  private void countAttempt() {
    if (attempt < Integer.MAX_VALUE) {
      attempt++;
    }
  }

  private double unit() {
    double r = random.getAsDouble();
    if (!(r >= 0)) { // also catches NaN
      return 0;
    }
    return r >= 1 ? Math.nextDown(1.0) : r;
  }
}
