package dev.herald.core.transport;

import java.util.List;
import java.util.concurrent.Executor;

/**
 * What the hub needs from a transport for one client connection. Implemented by each transport
 * (WebSocket, and later SSE and long-polling); holds no channel or recovery logic.
 *
 * <p>Threading: {@link #executor()} runs tasks one at a time, in order; the hub calls {@link
 * #send}, {@link #writable} and {@link #close} only from it.
 */
public interface TransportConnection {
  /** Transport name as reported in stats and to clients, e.g. "websocket". */
  String transport();

  /** Serial executor that owns this connection's I/O. */
  Executor executor();

  /**
   * Where the hub runs the task that writes newly queued messages. By default {@link #executor()}:
   * the write happens as soon as the connection's thread gets to it. A transport with a write delay
   * runs the task on the same thread up to that delay later, so that messages queued meanwhile go
   * out together in one frame and one write.
   */
  default Executor writeExecutor() {
    return executor();
  }

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
