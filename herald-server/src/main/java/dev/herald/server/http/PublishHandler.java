package dev.herald.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.core.broker.IdempotencyKey;
import dev.herald.core.hub.Hub;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.JsonCodec;
import dev.herald.server.auth.ApiKeys;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /api/v1/publish}: back-end services publish with an API key. Body {@code
 * {"channel":"...","data":<json>}}; answers the publication's position, or an error with a protocol
 * error code (docs/protocol.md, section 9). An {@code Idempotency-Key} header makes a retry of the
 * same publication answer the first one's position instead of publishing again.
 */
public final class PublishHandler {
  /** The request header naming the publication (see {@link IdempotencyKey}). */
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  private final Hub hub;
  private final ApiKeys keys;
  private final JsonCodec codec;

  public PublishHandler(Hub hub, ApiKeys keys) {
    this.hub = hub;
    this.keys = keys;
    this.codec = hub.codec();
  }

  public void handle(RoutingContext ctx) {
    if (!HttpErrors.authorized(ctx, keys)) {
      return;
    }
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (type == null || !type.toLowerCase().startsWith("application/json")) {
      HttpErrors.send(ctx, 415, ErrorCode.BAD_REQUEST, "Content-Type must be application/json");
      return;
    }
    JsonNode body;
    try {
      body = codec.mapper().readTree(ctx.body().asString("UTF-8"));
    } catch (Exception e) {
      HttpErrors.send(ctx, 400, ErrorCode.BAD_REQUEST, "malformed JSON body");
      return;
    }
    if (body == null
        || !body.isObject()
        || !body.path("channel").isTextual()
        || !body.has("data")) {
      HttpErrors.send(
          ctx,
          400,
          ErrorCode.BAD_REQUEST,
          "body must be {\"channel\": string, \"data\": any JSON}");
      return;
    }
    String key = ctx.request().getHeader(IDEMPOTENCY_KEY);
    String keyProblem = key == null ? null : IdempotencyKey.problem(key);
    if (keyProblem != null) {
      HttpErrors.send(ctx, 400, ErrorCode.BAD_REQUEST, IDEMPOTENCY_KEY + ": " + keyProblem);
      return;
    }
    hub.publish(
            body.get("channel").textValue(),
            codec.raw(body.get("data")),
            key == null ? null : IdempotencyKey.of(key))
        .whenComplete(
            (pos, err) -> {
              if (err == null) {
                ctx.response()
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .end("{\"epoch\":\"" + pos.epoch() + "\",\"offset\":" + pos.offset() + "}");
                return;
              }
              HttpErrors.fail(ctx, err, "publish");
            });
  }
}
