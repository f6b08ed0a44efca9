package dev.herald.client;

import dev.herald.protocol.ServerMessage.ConnectResult;

/**
 * Connection life cycle notifications. All methods have empty defaults; they run on the client's
 * event thread, in order, and must not block (doing so delays every other callback).
 *
 * <p>Typical sequence: {@code onConnecting, onConnected, onReconnecting, onConnecting, onConnected,
 * ..., onClosed}.
 */
public interface ConnectionListener {
  /** A connection attempt starts (state {@link ConnectionState#CONNECTING}). */
  default void onConnecting() {}

  /** The server accepted the connect message (state {@link ConnectionState#CONNECTED}). */
  default void onConnected(ConnectResult result) {}

  /**
   * The connection ended, or an attempt failed, and the client will try again after {@code delayMs}
   * (state {@link ConnectionState#RECONNECTING}).
   */
  default void onReconnecting(CloseInfo cause, long delayMs) {}

  /**
   * No automatic reconnect will happen (state {@link ConnectionState#CLOSED}): the server closed
   * with a terminal code (1000, 4500-4999; for example 4500 when authentication failed), or the
   * application called {@link HeraldClient#close()} ({@code remote} false, code 1000).
   */
  default void onClosed(CloseInfo reason) {}

  /**
   * Something went wrong that the client handles by itself but the application may want to log: a
   * failed connection attempt (the cause), a refused connect ({@link HeraldException} with the
   * error), an error message from the server, an undecodable message.
   */
  default void onError(Throwable error) {}
}
