package dev.herald.protocol;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** Messages the server sends to a client. */
public sealed interface ServerMessage
    permits ServerMessage.Reply,
        ServerMessage.Error,
        ServerMessage.Pub,
        ServerMessage.Join,
        ServerMessage.Leave,
        ServerMessage.PresenceUpdate,
        ServerMessage.Disconnect,
        ServerMessage.Unsubscribed,
        Ping,
        Pong {

  /** Answer to a request: exactly one of {@code result} and {@code error} is set. */
  record Reply(long id, @Nullable Result result, @Nullable ErrorInfo error)
      implements ServerMessage {
    public static Reply ok(long id, Result result) {
      return new Reply(id, Objects.requireNonNull(result), null);
    }

    public static Reply error(long id, ErrorCode code, String message) {
      return new Reply(id, null, new ErrorInfo(code.code(), message));
    }

    public boolean isError() {
      return error != null;
    }
  }

  /** An error that cannot be tied to a request, for example unparseable JSON. */
  // Named after the wire type "error"; always written ServerMessage.Error, so it never hides
  // java.lang.Error where it is used.
  @SuppressWarnings("JavaLangClash")
  record Error(ErrorInfo error) implements ServerMessage {}

  /** A publication in a channel. {@code user} is set when a connected client published it. */
  /**
   * A publication. {@code recovered} marks one sent by a recovery (it was missed, and follows a
   * subscribe reply with {@code recovered: true}); live publications have it false.
   */
  record Pub(
      String channel,
      String epoch,
      long offset,
      long ts,
      RawJson data,
      @Nullable String user,
      boolean recovered)
      implements ServerMessage {
    public Pub {
      Objects.requireNonNull(channel, "channel");
      Objects.requireNonNull(epoch, "epoch");
      Objects.requireNonNull(data, "data");
    }

    /** A live publication. */
    public Pub(
        String channel, String epoch, long offset, long ts, RawJson data, @Nullable String user) {
      this(channel, epoch, offset, ts, data, user, false);
    }

    public StreamPosition position() {
      return new StreamPosition(epoch, offset);
    }

    /** This publication as sent by a recovery. */
    public Pub asRecovered() {
      return recovered ? this : new Pub(channel, epoch, offset, ts, data, user, true);
    }
  }

  record Join(String channel, ClientInfo client) implements ServerMessage {}

  record Leave(String channel, ClientInfo client) implements ServerMessage {}

  /** A present client changed its state in the channel. */
  record PresenceUpdate(String channel, ClientInfo client) implements ServerMessage {}

  /**
   * Sent just before the server ends a connection. {@code retryMs} is the suggested delay before
   * reconnecting (0 when the client should use its own backoff).
   */
  record Disconnect(int code, String reason, boolean reconnect, long retryMs)
      implements ServerMessage {}

  /**
   * The server ended one subscription on its own, for example because the user lost access to the
   * channel. {@code code} is an {@link ErrorCode} ({@code 103} when access was revoked). The client
   * MUST NOT resubscribe automatically; the connection stays open.
   */
  record Unsubscribed(String channel, int code, String reason) implements ServerMessage {
    public Unsubscribed {
      Objects.requireNonNull(channel, "channel");
      reason = reason == null ? "" : reason;
    }
  }

  /** {@code error} in replies and error messages. */
  record ErrorInfo(int code, String message) {
    public ErrorCode errorCode() {
      return ErrorCode.of(code);
    }
  }

  /** The result part of a successful reply; its shape depends on the request. */
  sealed interface Result
      permits ConnectResult,
          RefreshResult,
          SubscribeResult,
          PublishResult,
          PresenceResult,
          EmptyResult,
          RawResult {}

  /**
   * Result of connect. {@code expiresMs}: when the connection's credential expires (epoch
   * milliseconds), 0 when it does not; a client refreshes before it (see {@link
   * ClientMessage.Refresh}).
   */
  record ConnectResult(
      String client,
      String user,
      String node,
      int protocol,
      long pingMs,
      long pongMs,
      int maxMessageBytes,
      long expiresMs)
      implements Result {
    /** A result whose credential does not expire. */
    public ConnectResult(
        String client,
        String user,
        String node,
        int protocol,
        long pingMs,
        long pongMs,
        int maxMessageBytes) {
      this(client, user, node, protocol, pingMs, pongMs, maxMessageBytes, 0);
    }
  }

  /** Result of refresh: when the new credential expires (epoch milliseconds; 0: it does not). */
  record RefreshResult(long expiresMs) implements Result {}

  /**
   * Result of subscribe. {@code epoch}/{@code offset} are the stream's position when the
   * subscription went live: publications that follow carry higher offsets, except recovered ones
   * when {@code recovered} is true, which fill the gap from {@code since}. {@code recovered} false
   * after a recovery request means the gap could not be filled: the client must refetch its state.
   */
  record SubscribeResult(
      String epoch, long offset, boolean recoverable, boolean recovered, int missed)
      implements Result {}

  record PublishResult(String epoch, long offset) implements Result {}

  record PresenceResult(List<ClientInfo> clients) implements Result {
    public PresenceResult {
      clients = List.copyOf(clients);
    }
  }

  /** Result of requests that return nothing but success. */
  record EmptyResult() implements Result {
    public static final EmptyResult INSTANCE = new EmptyResult();
  }

  /**
   * A result as decoded by a client, before it knows the request type; turn it into a typed result
   * with {@link JsonCodec#readResult}.
   */
  record RawResult(RawJson json) implements Result {}
}
