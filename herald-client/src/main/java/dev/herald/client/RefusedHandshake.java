package dev.herald.client;

import java.io.IOException;

/**
 * The server answered the WebSocket handshake with an HTTP status instead of {@code 101}: what it
 * answered ({@code X-Herald-Error}, and the delay of its {@code Retry-After}, 0 for none). A node
 * that drains answers {@code 503 shutting-down} with {@code Retry-After}; the client then waits
 * that long and tries the next of its servers.
 */
final class RefusedHandshake extends IOException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final long retryMs;

  RefusedHandshake(String message, int status, long retryMs, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.retryMs = Math.max(0, retryMs);
  }

  int status() {
    return status;
  }

  /** The delay the server asked for, in ms (0: none). */
  long retryMs() {
    return retryMs;
  }
}
