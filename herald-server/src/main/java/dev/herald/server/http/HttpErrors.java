package dev.herald.server.http;

import dev.herald.protocol.ErrorCode;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** JSON error bodies for HTTP endpoints: {@code {"error":{"code":N,"message":"..."}}}. */
public final class HttpErrors {
  private HttpErrors() {}

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
