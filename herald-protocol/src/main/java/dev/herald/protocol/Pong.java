package dev.herald.protocol;

/** Heartbeat answer, sent by either side. */
public record Pong() implements ClientMessage, ServerMessage {
  public static final Pong INSTANCE = new Pong();
}
