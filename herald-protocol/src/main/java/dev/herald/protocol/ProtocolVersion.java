package dev.herald.protocol;

/** Constants that identify wire protocol v1. */
public final class ProtocolVersion {
  /** The protocol version number carried in {@code connect} and in replies. */
  public static final int CURRENT = 1;

  /** WebSocket subprotocol name a client offers in {@code Sec-WebSocket-Protocol}. */
  public static final String WEBSOCKET_SUBPROTOCOL = "herald.v1.json";

  /** Separator between messages when several travel in one frame or chunk. */
  public static final char MESSAGE_SEPARATOR = '\n';

  private ProtocolVersion() {}
}
