package dev.herald.app.session;

import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How the session cookie is set: always HttpOnly, SameSite=Lax, path {@code /}; {@code Secure}
 * according to {@code app.session.cookie-secure}:
 *
 * <ul>
 *   <li>{@code always}: always (the app is only ever reached over HTTPS);
 *   <li>{@code never}: never (plain-HTTP development only);
 *   <li>{@code auto} (default): when the request came over TLS, or from one of {@code
 *       app.trusted-proxies} with {@code X-Forwarded-Proto: https}. The header is ignored from any
 *       other address, so a client cannot talk the server out of (or into) the flag.
 * </ul>
 */
public final class CookiePolicy {
  public enum Secure {
    AUTO,
    ALWAYS,
    NEVER
  }

  private final Secure secure;
  private final Set<String> trustedProxies;

  public CookiePolicy(Secure secure, List<String> trustedProxies) {
    this.secure = secure;
    this.trustedProxies = Set.copyOf(trustedProxies);
  }

  /** Parses {@code auto}, {@code always} or {@code never}. */
  public static Secure parse(String value) {
    try {
      return Secure.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "app.session.cookie-secure must be auto, always or never, not '" + value + "'");
    }
  }

  public boolean secure(HttpServerRequest req) {
    return switch (secure) {
      case ALWAYS -> true;
      case NEVER -> false;
      case AUTO ->
          req.isSSL()
              || (fromTrustedProxy(req)
                  && "https".equalsIgnoreCase(req.getHeader("X-Forwarded-Proto")));
    };
  }

  /** The client's address: the peer, or the last X-Forwarded-For hop from a trusted proxy. */
  public String clientAddress(HttpServerRequest req) {
    String peer = req.remoteAddress() == null ? "unknown" : req.remoteAddress().hostAddress();
    String xff = req.getHeader("X-Forwarded-For");
    if (xff == null || !trustedProxies.contains(peer)) {
      return peer;
    }
    String[] hops = xff.split(",");
    return hops[hops.length - 1].trim();
  }

  private boolean fromTrustedProxy(HttpServerRequest req) {
    return req.remoteAddress() != null
        && trustedProxies.contains(req.remoteAddress().hostAddress());
  }

  /** The session cookie carrying {@code value} for {@code maxAgeSeconds} (0 expires it). */
  public Cookie sessionCookie(HttpServerRequest req, String value, long maxAgeSeconds) {
    return Cookie.cookie(SessionStore.COOKIE, value)
        .setPath("/")
        .setHttpOnly(true)
        .setSameSite(CookieSameSite.LAX)
        .setSecure(secure(req))
        .setMaxAge(maxAgeSeconds);
  }
}
