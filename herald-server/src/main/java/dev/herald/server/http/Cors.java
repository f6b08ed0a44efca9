package dev.herald.server.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.jspecify.annotations.Nullable;

/**
 * CORS headers for the origins the {@link OriginPolicy} allows (the server's own and {@code
 * server.allowed-origins}), so a page on another origin can use what Herald serves: the browser
 * client at {@code /herald/*} (a module script is fetched in CORS mode), the demo token endpoint
 * and the HTTP transports. Credentials are allowed, so a session cookie travels with requests made
 * {@code credentials: 'include'}; the origin is echoed, never {@code *}.
 */
public final class Cors {
  private Cors() {}

  /** Adds the headers that let {@code origin} read the response (with credentials). */
  public static void allow(
      HttpServerResponse response, String origin, @Nullable String exposeHeaders) {
    response
        .putHeader("Access-Control-Allow-Origin", origin)
        .putHeader("Access-Control-Allow-Credentials", "true")
        .putHeader("Vary", "Origin");
    if (exposeHeaders != null) {
      response.putHeader("Access-Control-Expose-Headers", exposeHeaders);
    }
  }

  /**
   * A handler for public resources (scripts, the demo token): an allowed {@code Origin} gets the
   * CORS headers, any other gets none (its page cannot read the answer, but nothing is refused: the
   * resource is public); {@code OPTIONS} preflights are answered here. Every response says {@code
   * Vary: Origin}, so caches keep the answers per origin.
   */
  public static Handler<RoutingContext> forPublicResources(OriginPolicy origins, String methods) {
    return ctx -> {
      HttpServerRequest req = ctx.request();
      HttpServerResponse res = ctx.response();
      String origin = req.getHeader(HttpHeaders.ORIGIN);
      if (origin != null && origins.allows(origin, req.getHeader(HttpHeaders.HOST))) {
        allow(res, origin, null);
      } else {
        res.putHeader("Vary", "Origin");
      }
      if (req.method().equals(HttpMethod.OPTIONS)) {
        res.setStatusCode(204)
            .putHeader("Access-Control-Allow-Methods", methods)
            .putHeader("Access-Control-Max-Age", "600")
            .end();
        return;
      }
      ctx.next();
    };
  }
}
