package dev.herald.protocol;

import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Why the server ends a connection. Over WebSocket the value is the close frame's status code; over
 * the HTTP transports it travels in a {@code disconnect} message.
 *
 * <p>Ranges tell a client what to do without knowing every code: 4000-4499 and the standard 1xxx
 * codes mean "reconnect (with backoff, or after the suggested delay) and recover"; 4500-4999 mean
 * "do not reconnect automatically: something must change first (credentials, client version)".
 */
public enum CloseCode {
  NORMAL(1000, "normal closure"),
  GOING_AWAY(1001, "going away"),
  PROTOCOL_ERROR(1002, "protocol error"),
  UNSUPPORTED_DATA(1003, "binary frames are not supported"),
  INVALID_PAYLOAD(1007, "invalid UTF-8 in a text frame"),
  MESSAGE_TOO_BIG(1009, "message too big"),
  INTERNAL_ERROR(1011, "internal server error"),
  SHUTDOWN(4001, "server restart"),
  HEARTBEAT_TIMEOUT(4002, "heartbeat timeout"),
  SLOW_CONSUMER(4003, "slow consumer"),
  CONNECT_TIMEOUT(4004, "no connect message in time"),
  TOKEN_EXPIRED(4005, "credentials expired"),
  RATE_LIMITED(4006, "too many requests"),
  FORCE_RECONNECT(4007, "reconnect requested by server"),
  CONNECTION_LIMIT(4008, "too many connections"),
  UNAUTHORIZED(4500, "authentication failed"),
  FORBIDDEN(4501, "access revoked"),
  UNSUPPORTED_PROTOCOL(4502, "unsupported protocol version");

  private static final Map<Integer, CloseCode> BY_CODE = new HashMap<>();

  static {
    for (CloseCode c : values()) {
      BY_CODE.put(c.code, c);
    }
  }

  private final int code;
  private final String reason;

  CloseCode(int code, String reason) {
    this.code = code;
    this.reason = reason;
  }

  public int code() {
    return code;
  }

  /** Default human-readable reason, short enough for a WebSocket close frame. */
  public String reason() {
    return reason;
  }

  /** Whether a client should reconnect on its own after this code. */
  public boolean reconnect() {
    return reconnect(code);
  }

  /** The range rule applied to any code, known or not. */
  public static boolean reconnect(int code) {
    if (code == NORMAL.code) {
      return false;
    }
    return code < 4500 || code > 4999;
  }

  /** The known code for a number, or null. */
  public static @Nullable CloseCode of(int code) {
    return BY_CODE.get(code);
  }
}
