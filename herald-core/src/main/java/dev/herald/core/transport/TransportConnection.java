package dev.herald.core.transport;

import java.util.List;

/**
 * What the hub needs from a transport for one client connection. Implemented by each transport
 * (WebSocket, SSE, long-polling); holds no channel or recovery logic.
 *
 * <p>Threading: the connection belongs to one {@link #loop()}, which owns its state; the hub calls
 * {@link #send}, {@link #writable} and {@link #close} only from that loop, and the transport calls
 * the session ({@code onText}, {@code onWritable}, {@code onTransportClosed}) only from it.
 */
public interface TransportConnection {
  /** Transport name as reported in stats and to clients, e.g. "websocket". */
  String transport();

  /**
   * The event loop that owns this connection. Connections served by one thread return the same
   * instance, so that the hub can deliver to all of them in one task and flush them together.
   */
  EventLoop loop();

  /**
   * Writes messages in order. The transport may put several into one frame, separated by LF. Must
   * not block. The list is reused by the hub after the call returns: copy it to keep it.
   */
  void send(List<OutboundMessage> batch);

  /**
   * False while the transport's own buffer is full; the hub then stops sending until the transport
   * calls {@link dev.herald.core.hub.ClientSession#onWritable()}.
   */
  boolean writable();

  /** Closes the connection after what was sent so far. */
  void close(int code, String reason);
}
