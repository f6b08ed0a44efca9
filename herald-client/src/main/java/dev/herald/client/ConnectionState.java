package dev.herald.client;

/** Where the client's connection stands. */
public enum ConnectionState {
  /** Built, {@link HeraldClient#connect()} not called yet. */
  IDLE,
  /**
   * Opening a connection: fetching the token, WebSocket handshake, waiting for the connect reply.
   */
  CONNECTING,
  /** Connected: requests flow, subscriptions are (being) re-established. */
  CONNECTED,
  /** The connection ended; waiting for the reconnect delay to pass. */
  RECONNECTING,
  /**
   * No automatic reconnect: either {@link HeraldClient#close()} was called (final), or the server
   * ended the connection with a code that forbids reconnecting (1000, 4500-4999). In the second
   * case the application may call {@link HeraldClient#connect()} again once the cause is fixed (for
   * example after a new login); subscriptions are kept for that.
   */
  CLOSED
}
