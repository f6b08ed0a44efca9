package dev.herald.app.session;

import dev.herald.server.http.TrustedProxies;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpServerRequest;
import java.util.Locale;

/**
 * How the session cookie is set: always HttpOnly, SameSite=Lax, path {@code /}; {@code Secure}
 * according to {@code app.session.cookie-secure}:
 *
 * <ul>
 *   <li>{@code always}: always (the app is only ever reached over HTTPS);
 *   <li>{@code never}: never (plain-HTTP development only);
 *   <li>{@code auto} (default): when the request came over TLS, or from one of {@code
 *       server.trusted-proxies} (or {@code app.trusted-proxies}) saying {@code https} in {@code
 *       X-Forwarded-Proto} or {@code Forwarded}. The headers are ignored from any other address, so
 *       a client cannot talk the server out of (or into) the flag.
 * </ul>
 */
public final class CookiePolicy {
  public enum Secure {
    AUTO,
    ALWAYS,
    NEVER
  }

  private final Secure secure;
  private final TrustedProxies proxies;

  public CookiePolicy(Secure secure, TrustedProxies proxies) {
    this.secure = secure;
    this.proxies = proxies;
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
      case AUTO -> proxies.secure(req);
    };
  }

  /** The client's address, as the real-time endpoints count it (see {@link TrustedProxies}). */
  public String clientAddress(HttpServerRequest req) {
    return proxies.clientAddress(req);
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
