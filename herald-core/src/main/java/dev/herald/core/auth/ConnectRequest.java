package dev.herald.core.auth;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What a transport knows about a connecting client, handed to the {@link Authenticator}.
 *
 * @param token the token from the connect message, or null
 * @param headers handshake headers with lower-case names (cookie, user-agent, origin, ...)
 * @param remoteAddress peer address as the transport sees it
 * @param transport transport name, e.g. "websocket"
 */
public record ConnectRequest(
    @Nullable String token, Map<String, String> headers, String remoteAddress, String transport) {
  public ConnectRequest {
    headers = headers == null ? Map.of() : Map.copyOf(headers);
  }

  /** The value of one cookie from the Cookie header, or null. */
  public @Nullable String cookie(String name) {
    String header = headers.get("cookie");
    if (header == null) {
      return null;
    }
    for (String part : header.split(";", -1)) {
      String p = part.trim();
      int eq = p.indexOf('=');
      if (eq > 0 && p.substring(0, eq).equals(name)) {
        return p.substring(eq + 1);
      }
    }
    return null;
  }
}
