package dev.herald.server.config;

import java.time.Duration;

/**
 * The HTTP fallback transports.
 *
 * @param sse Server-Sent Events for server-to-client, POSTs for commands
 * @param longPolling long-polling, the last resort
 * @param pollTimeout how long a poll waits for messages before answering 204
 * @param sessionTimeout how long a session may go without a poll before it counts as gone
 */
public record HttpTransports(
    boolean sse, boolean longPolling, Duration pollTimeout, Duration sessionTimeout) {
  public static HttpTransports defaults() {
    return new HttpTransports(true, true, Duration.ofSeconds(25), Duration.ofSeconds(45));
  }
}
