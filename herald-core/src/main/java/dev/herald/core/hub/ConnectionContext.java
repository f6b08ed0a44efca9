package dev.herald.core.hub;

import java.util.Map;

/**
 * What a transport learned from the client's handshake.
 *
 * @param headers handshake headers, names in lower case (cookie, user-agent, origin, ...)
 * @param remoteAddress the peer's address
 */
public record ConnectionContext(Map<String, String> headers, String remoteAddress) {
  public ConnectionContext {
    headers = headers == null ? Map.of() : Map.copyOf(headers);
  }
}
