package dev.herald.client;

import org.jspecify.annotations.Nullable;

/**
 * The heartbeat interval to ask for in {@code connect} ({@code ping_ms}, docs/protocol.md), and
 * what a proxy's idle cuts teach about it, as herald.js's liveness does (docs/client-js.md,
 * "Proxies that cut idle connections").
 *
 * <p>An abnormal close (no close frame) of a live connection after at least {@link #MIN_CUT_MS}
 * without a message from the server, before its next heartbeat was due (with a second of slack),
 * looks like a proxy's idle timeout, not a broken network. When two such cuts in a row came after
 * about the same silence (within a quarter of it, or a second), the client asks for heartbeats at
 * half that silence from then on, for the client's lifetime. Confined to the client's event thread.
 */
final class IdleCuts {
  /** The shortest interval the server grants (protocol section 4, {@code ping_ms}). */
  static final long MIN_PING_MS = 1_000;

  /** Less silence than this before a cut says nothing about an idle timeout. */
  static final long MIN_CUT_MS = 2 * MIN_PING_MS;

  private static final double TOLERANCE = 0.25;

  /** The interval configured with {@link HeraldClient.Builder#pingInterval}, 0 for none. */
  private final long configuredMs;

  /** The interval learned from two idle cuts, 0 while none was learned. */
  private long learnedMs;

  /** The silence before the last cut that looked like an idle timeout, or null. */
  private @Nullable Long lastCutMs;

  IdleCuts(long configuredMs) {
    if (configuredMs < 0) {
      throw new IllegalArgumentException("ping interval must be >= 0, got " + configuredMs);
    }
    this.configuredMs = configuredMs;
  }

  /** What to send as {@code ping_ms}: 0 leaves the interval to the server. */
  long wantedPingMs() {
    if (learnedMs == 0) {
      return configuredMs;
    }
    return configuredMs > 0 ? Math.min(configuredMs, learnedMs) : learnedMs;
  }

  /**
   * A live connection ended without a close frame after {@code silenceMs} without a message from
   * the server, whose heartbeat interval on it was {@code grantedPingMs} (0 if none). Returns what
   * was learned, for the log, or null when the cut does not look like an idle timeout.
   */
  @Nullable String observe(long silenceMs, long grantedPingMs) {
    if (silenceMs < MIN_CUT_MS || (grantedPingMs > 0 && silenceMs >= grantedPingMs + MIN_PING_MS)) {
      lastCutMs = null;
      return null;
    }
    Long previous = lastCutMs;
    lastCutMs = silenceMs;
    String what =
        "the connection was cut after "
            + silenceMs
            + " ms without traffic (a proxy's idle timeout?)";
    if (previous == null
        || Math.abs(silenceMs - previous) > Math.max(MIN_PING_MS, previous * TOLERANCE)) {
      return what;
    }
    long ping = Math.max(MIN_PING_MS, Math.min(silenceMs, previous) / 2);
    long current = wantedPingMs();
    if (current > 0 && ping >= current && grantedPingMs <= ping) {
      return what; // already asking for heartbeats at least this often
    }
    learnedMs = learnedMs == 0 ? ping : Math.min(learnedMs, ping);
    lastCutMs = null;
    return what + "; asking for heartbeats every " + learnedMs + " ms";
  }
}
