package dev.herald.server.config;

import java.time.Duration;

/**
 * Limits of the HTTP server against slow or abusive clients (see docs/security.md).
 *
 * @param maxHttpSessions SSE and long-polling sessions this node holds at once; more are refused
 *     with 429 {@code too-many-sessions}
 * @param requestTimeout how long a client may take to send a request's headers (counted from the
 *     moment the connection opens for the first request, from the end of the previous response for
 *     later ones on a kept-alive connection) and, for requests with a body, the body (from the
 *     moment the headers arrived); past it the connection is closed. Stops slowloris-style
 *     half-open requests and WebSocket handshakes
 * @param idleTimeout a connection with no traffic in either direction for this long is closed
 *     (WebSockets and SSE streams carry heartbeats, so only dead or parked connections hit it);
 *     must be longer than {@code longpoll.timeout}
 */
public record HttpLimits(int maxHttpSessions, Duration requestTimeout, Duration idleTimeout) {
  public HttpLimits {
    if (maxHttpSessions < 1) {
      throw new IllegalArgumentException("maxHttpSessions must be >= 1");
    }
    if (requestTimeout == null || requestTimeout.isZero() || requestTimeout.isNegative()) {
      throw new IllegalArgumentException("requestTimeout must be positive");
    }
    if (idleTimeout == null || idleTimeout.isZero() || idleTimeout.isNegative()) {
      throw new IllegalArgumentException("idleTimeout must be positive");
    }
  }

  public static HttpLimits defaults() {
    return new HttpLimits(10_000, Duration.ofSeconds(10), Duration.ofSeconds(120));
  }
}
