package dev.herald.client;

import dev.herald.protocol.CloseCode;
import dev.herald.protocol.ServerMessage.Disconnect;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Why a connection ended: the close code, the human-readable reason (without the {@code retry_ms}
 * suffix), the delay the server suggested before reconnecting (0 for none) and whether the server
 * decided it ({@code remote}) or the client did (connection failure, dead heartbeat, connect
 * timeout, {@link HeraldClient#close()}).
 *
 * <p>Failures detected by the client use code {@value #ABNORMAL} (abnormal closure), which is in
 * the "reconnect" range.
 */
public record CloseInfo(int code, String reason, long retryMs, boolean remote) {
  /** Code used for connections that ended without a close frame (network error, timeouts). */
  public static final int ABNORMAL = 1006;

  // "<text>; retry_ms=<n>" (docs/protocol.md section 4, disconnect). The text part is optional.
  private static final Pattern RETRY_SUFFIX =
      Pattern.compile("^(?:(.*?)\\s*;\\s*)?retry_ms\\s*=\\s*(\\d{1,18})\\s*$", Pattern.DOTALL);

  public CloseInfo {
    reason = reason == null ? "" : reason;
    retryMs = Math.max(0, retryMs);
  }

  /**
   * Reads a WebSocket close frame: the reason text may end in {@code ; retry_ms=<n>}, which is
   * split off into {@link #retryMs()}. Reasons that do not match are kept verbatim.
   */
  public static CloseInfo fromCloseFrame(int code, String closeReason) {
    String text = closeReason == null ? "" : closeReason.strip();
    Matcher m = RETRY_SUFFIX.matcher(text);
    if (m.matches()) {
      String prefix = m.group(1) == null ? "" : m.group(1);
      return new CloseInfo(code, prefix, Long.parseLong(m.group(2)), true);
    }
    return new CloseInfo(code, text, 0, true);
  }

  /** The information of a {@code disconnect} message. */
  public static CloseInfo fromDisconnect(Disconnect d) {
    return new CloseInfo(d.code(), d.reason(), d.retryMs(), true);
  }

  /** A failure detected by the client itself. */
  static CloseInfo local(String reason) {
    return new CloseInfo(ABNORMAL, reason, 0, false);
  }

  /**
   * Whether the client reconnects on its own: false for 1000 (normal closure) and 4500-4999
   * (something must change first), true otherwise (docs/protocol.md section 8).
   */
  public boolean reconnect() {
    return CloseCode.reconnect(code);
  }

  /** The known close code, or null for codes this version does not know. */
  public @Nullable CloseCode closeCode() {
    return CloseCode.of(code);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder().append(code);
    if (!reason.isEmpty()) {
      sb.append(' ').append(reason);
    }
    if (retryMs > 0) {
      sb.append(" (retry_ms=").append(retryMs).append(')');
    }
    return sb.toString();
  }
}
