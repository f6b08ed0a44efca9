package dev.herald.protocol;

/** Heartbeat request, sent by either side. The other side answers with {@link Pong}. */
public record Ping() implements ClientMessage, ServerMessage {
  public static final Ping INSTANCE = new Ping();
}
