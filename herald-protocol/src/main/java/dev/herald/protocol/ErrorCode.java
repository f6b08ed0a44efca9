package dev.herald.protocol;

import java.util.HashMap;
import java.util.Map;

/**
 * Error codes carried in {@code reply.error.code} and in standalone {@code error} messages. An
 * error never closes the connection by itself; see {@link CloseCode} for what does.
 */
public enum ErrorCode {
  INTERNAL(100, "internal", "the server failed to process the request; it may be retried"),
  UNAUTHORIZED(101, "unauthorized", "credentials are missing or invalid"),
  UNKNOWN_CHANNEL(
      102, "unknown_channel", "the channel name is invalid or its namespace is not configured"),
  PERMISSION_DENIED(103, "permission_denied", "the user may not do this on this channel"),
  METHOD_NOT_FOUND(104, "method_not_found", "unknown message type"),
  ALREADY_SUBSCRIBED(
      105, "already_subscribed", "this connection is already subscribed to the channel"),
  LIMIT_EXCEEDED(106, "limit_exceeded", "a per-connection limit was reached (e.g. subscriptions)"),
  BAD_REQUEST(107, "bad_request", "the message is malformed or a field is missing or invalid"),
  NOT_AVAILABLE(108, "not_available", "the feature is disabled for this channel's namespace"),
  TOKEN_EXPIRED(109, "token_expired", "the credential has expired; obtain a fresh one"),
  NOT_SUBSCRIBED(110, "not_subscribed", "the command needs a subscription to the channel first"),
  TOO_MANY_REQUESTS(111, "too_many_requests", "the client sends commands faster than allowed"),
  NOT_CONNECTED(112, "not_connected", "the command was sent before a successful connect"),
  ALREADY_CONNECTED(113, "already_connected", "connect was sent twice on one connection"),
  PAYLOAD_TOO_LARGE(
      114, "payload_too_large", "the publication data or presence state is too large"),
  UNAVAILABLE(
      115,
      "unavailable",
      "the server cannot reach its broker right now (e.g. Redis is down); retry later"),
  STREAM_RESET(
      116,
      "stream_reset",
      "the channel's stream could not be continued for this subscription (its history was lost"
          + " or trimmed); resubscribe with since: the reply says whether the client recovered"),
  USER_MISMATCH(
      117,
      "user_mismatch",
      "the refreshed credential is for another user; the connection keeps its current one"),
  NOT_FOUND(
      118,
      "not_found",
      "(server API only) the named connection is not held by any node that answered");

  private static final Map<Integer, ErrorCode> BY_CODE = new HashMap<>();

  static {
    for (ErrorCode c : values()) {
      BY_CODE.put(c.code, c);
    }
  }

  private final int code;
  private final String label;
  private final String description;

  ErrorCode(int code, String label, String description) {
    this.code = code;
    this.label = label;
    this.description = description;
  }

  public int code() {
    return code;
  }

  /** Short snake_case name, stable across versions. */
  public String label() {
    return label;
  }

  public String description() {
    return description;
  }

  /** Returns the code for a number, or {@link #INTERNAL} for numbers this version does not know. */
  public static ErrorCode of(int code) {
    return BY_CODE.getOrDefault(code, INTERNAL);
  }
}
