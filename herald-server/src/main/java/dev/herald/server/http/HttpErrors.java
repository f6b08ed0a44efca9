package dev.herald.server.http;

import dev.herald.core.hub.HubException;
import dev.herald.protocol.ErrorCode;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** JSON error bodies for HTTP endpoints: {@code {"error":{"code":N,"message":"..."}}}. */
public final class HttpErrors {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HttpErrors.class);

  private HttpErrors() {}

  /**
   * The HTTP status of a refusal with {@code code} by the publish and server APIs: 404 for an
   * unknown channel or connection, 413 for data too large, 403 when denied, 503 when the broker is
   * unreachable, 400 for anything else the caller got wrong.
   */
  public static int status(ErrorCode code) {
    return switch (code) {
      case UNKNOWN_CHANNEL, NOT_FOUND -> 404;
      case PAYLOAD_TOO_LARGE -> 413;
      case PERMISSION_DENIED -> 403;
      case UNAVAILABLE -> 503;
      case INTERNAL -> 500;
      default -> 400;
    };
  }

  /**
   * Answers a failed API call: a {@link HubException} with its code and message and the status of
   * {@link #status}, anything else as {@code 500} (logged, the details not sent).
   */
  public static void fail(RoutingContext ctx, Throwable err, String what) {
    Throwable cause =
        err instanceof java.util.concurrent.CompletionException && err.getCause() != null
            ? err.getCause()
            : err;
    if (cause instanceof HubException he) {
      send(ctx, status(he.code()), he.code(), he.getMessage());
    } else {
      log.warn("{} failed", what, cause);
      send(ctx, 500, ErrorCode.INTERNAL, what + " failed");
    }
  }

  /**
   * Whether the request carries one of {@code keys} as {@code Authorization: Bearer}; if not,
   * answers {@code 401} with {@code 101} and says why.
   */
  public static boolean authorized(RoutingContext ctx, dev.herald.server.auth.ApiKeys keys) {
    if (keys.allows(ctx.request().getHeader(io.vertx.core.http.HttpHeaders.AUTHORIZATION))) {
      return true;
    }
    ctx.response().putHeader("WWW-Authenticate", "Bearer");
    send(
        ctx,
        401,
        ErrorCode.UNAUTHORIZED,
        keys.isEmpty()
            ? "the HTTP API is disabled: no publish.api-keys configured"
            : "missing or invalid API key");
    return false;
  }

  public static void send(RoutingContext ctx, int status, ErrorCode code, String message) {
    if (ctx.response().ended()) {
      return;
    }
    JsonObject body =
        new JsonObject()
            .put("error", new JsonObject().put("code", code.code()).put("message", message));
    ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body.encode());
  }
}
