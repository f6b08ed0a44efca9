package dev.herald.client;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * How the client reaches the server: opens one message connection per attempt. The production
 * implementation is {@link JdkWebSocketTransport}; tests substitute a fake to drive the client
 * state machine without a network.
 */
interface Transport {
  /**
   * Opens a connection. The future completes when the connection is usable (for WebSocket: after
   * the handshake). The listener is given before the connection exists and may be called from any
   * thread, but never concurrently for one connection.
   */
  CompletableFuture<Connection> open(
      URI uri, Map<String, List<String>> headers, Duration connectTimeout, Listener listener);

  /** One open connection. Methods may be called from any thread. */
  interface Connection {
    /**
     * Queues one message for sending; messages go out in call order. Failures reach {@link
     * Listener#onError}.
     */
    void send(String text);

    /** Starts a clean close after the queued messages; aborts if the peer does not answer soon. */
    void close(int code, String reason);

    /** Drops the connection at once, without a close handshake. */
    void abort();
  }

  /** Receives what happens on one connection. */
  interface Listener {
    /** Anything arrived (a part of a message, a transport-level ping): the peer is alive. */
    void onActivity();

    /**
     * One complete text message (all its parts). The transport reads the next message only when the
     * returned stage completes, so a slow consumer slows the connection down instead of buffering
     * without bound.
     */
    CompletionStage<?> onMessage(String text);

    /** The peer closed the connection. */
    void onClosed(int code, String reason);

    /** The connection failed (I/O error, send failure, protocol violation). */
    void onError(Throwable error);
  }
}
