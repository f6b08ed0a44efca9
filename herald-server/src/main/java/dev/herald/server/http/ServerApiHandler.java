package dev.herald.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.herald.core.api.ApiJson;
import dev.herald.core.api.ClusterResult;
import dev.herald.core.api.ServerApi;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.JsonCodec;
import dev.herald.server.auth.ApiKeys;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The server API over HTTP, under {@code /api/v1/} beside {@code POST /api/v1/publish} and with the
 * same API keys ({@code publish.api-keys}): connections, disconnect, unsubscribe, presence,
 * history, channels and nodes (docs/server-api.md). Every call is {@link ServerApi}'s; this class
 * only reads parameters and writes JSON.
 */
public final class ServerApiHandler {
  /** The history limit when the request gives none. */
  static final int DEFAULT_HISTORY_LIMIT = 10;

  private final ServerApi api;
  private final ApiKeys keys;
  private final ApiJson json;

  public ServerApiHandler(ServerApi api, ApiKeys keys, JsonCodec codec) {
    this.api = api;
    this.keys = keys;
    this.json = new ApiJson(codec);
  }

  /** Adds the routes; {@code maxBodyBytes} bounds the POST bodies. */
  public void install(Router router, int maxBodyBytes) {
    router.get("/api/v1/node").handler(this::node);
    router.get("/api/v1/nodes").handler(this::nodes);
    router.get("/api/v1/connections").handler(this::connections);
    router.get("/api/v1/channels").handler(this::channels);
    router.get("/api/v1/presence").handler(this::presence);
    router.get("/api/v1/presence-stats").handler(this::presenceStats);
    router.get("/api/v1/history").handler(this::history);
    BodyHandler body = BodyHandler.create(false).setBodyLimit(maxBodyBytes);
    router.post("/api/v1/disconnect").handler(body).handler(this::disconnect);
    router.post("/api/v1/unsubscribe").handler(body).handler(this::unsubscribe);
  }

  private void node(RoutingContext ctx) {
    if (HttpErrors.authorized(ctx, keys)) {
      ok(ctx, json.node(api.node()));
    }
  }

  private void nodes(RoutingContext ctx) {
    if (HttpErrors.authorized(ctx, keys)) {
      reply(ctx, "nodes", api.nodes(), r -> cluster(r, "nodes", list(r.value(), json::node)));
    }
  }

  private void connections(RoutingContext ctx) {
    if (!HttpErrors.authorized(ctx, keys)) {
      return;
    }
    String user = ctx.request().getParam("user");
    String id = ctx.request().getParam("id");
    if ((user == null) == (id == null)) {
      badRequest(ctx, "give exactly one of the parameters user and id");
    } else if (user != null) {
      reply(
          ctx,
          "connections",
          api.connections(user),
          r -> cluster(r, "connections", list(r.value(), json::connection)));
    } else {
      reply(
          ctx,
          "connections",
          api.connection(id),
          r -> {
            ArrayNode one = json.array().add(json.connection(r.value()));
            return cluster(r, "connections", one);
          });
    }
  }

  private void channels(RoutingContext ctx) {
    if (HttpErrors.authorized(ctx, keys)) {
      String prefix = ctx.request().getParam("prefix", "");
      reply(
          ctx,
          "channels",
          api.channels(prefix),
          r -> cluster(r, "channels", list(r.value(), json::channel)));
    }
  }

  private void presence(RoutingContext ctx) {
    String channel = channelParam(ctx);
    if (channel != null) {
      reply(ctx, "presence", api.presence(channel), json::presence);
    }
  }

  private void presenceStats(RoutingContext ctx) {
    String channel = channelParam(ctx);
    if (channel != null) {
      reply(ctx, "presence-stats", api.presenceStats(channel), json::presenceStats);
    }
  }

  private void history(RoutingContext ctx) {
    String channel = channelParam(ctx);
    if (channel == null) {
      return;
    }
    String limitParam = ctx.request().getParam("limit");
    int limit;
    try {
      limit = limitParam == null ? DEFAULT_HISTORY_LIMIT : Integer.parseInt(limitParam);
    } catch (NumberFormatException e) {
      badRequest(ctx, "limit must be a number from 1 to " + ServerApi.MAX_HISTORY_LIMIT);
      return;
    }
    reply(ctx, "history", api.history(channel, limit), json::history);
  }

  private void disconnect(RoutingContext ctx) {
    JsonNode body = jsonBody(ctx);
    if (body == null) {
      return;
    }
    JsonNode user = body.path("user");
    JsonNode connection = body.path("connection");
    JsonNode reconnect = body.path("reconnect");
    JsonNode reason = body.path("reason");
    if (user.isTextual() == connection.isTextual()
        || !(reconnect.isMissingNode() || reconnect.isBoolean())
        || !(reason.isMissingNode() || reason.isTextual())) {
      badRequest(
          ctx,
          "body must be {\"user\": string} or {\"connection\": string}, with optional"
              + " \"reconnect\": boolean and \"reason\": string");
      return;
    }
    String why = reason.isTextual() ? reason.textValue() : null;
    CompletableFuture<ClusterResult<Integer>> done =
        user.isTextual()
            ? api.disconnectUser(user.textValue(), reconnect.asBoolean(false), why)
            : api.disconnectConnection(connection.textValue(), reconnect.asBoolean(false), why);
    reply(ctx, "disconnect", done, r -> cluster(r, "disconnected", r.value()));
  }

  private void unsubscribe(RoutingContext ctx) {
    JsonNode body = jsonBody(ctx);
    if (body == null) {
      return;
    }
    if (!body.path("user").isTextual() || !body.path("channel").isTextual()) {
      badRequest(ctx, "body must be {\"user\": string, \"channel\": string}");
      return;
    }
    reply(
        ctx,
        "unsubscribe",
        api.unsubscribe(body.get("user").textValue(), body.get("channel").textValue()),
        r -> cluster(r, "unsubscribed", r.value()));
  }

  // ------------------------------------------------------------------ helpers

  /** The {@code channel} parameter after the key check, or null when a reply was sent. */
  private @Nullable String channelParam(RoutingContext ctx) {
    if (!HttpErrors.authorized(ctx, keys)) {
      return null;
    }
    String channel = ctx.request().getParam("channel");
    if (channel == null) {
      badRequest(ctx, "the parameter channel is required");
    }
    return channel;
  }

  /** The JSON object body after the key and content type checks, or null when a reply was sent. */
  private @Nullable JsonNode jsonBody(RoutingContext ctx) {
    if (!HttpErrors.authorized(ctx, keys)) {
      return null;
    }
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
      HttpErrors.send(ctx, 415, ErrorCode.BAD_REQUEST, "Content-Type must be application/json");
      return null;
    }
    JsonNode body;
    try {
      body = json.parse(ctx.body().asString("UTF-8"));
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null || !body.isObject()) {
      badRequest(ctx, "the body must be a JSON object");
      return null;
    }
    return body;
  }

  private <T> ArrayNode list(java.util.List<T> items, Function<T, ObjectNode> each) {
    ArrayNode a = json.array();
    items.forEach(i -> a.add(each.apply(i)));
    return a;
  }

  private ObjectNode cluster(ClusterResult<?> r, String field, JsonNode value) {
    ObjectNode n = json.object();
    n.set(field, value);
    return json.cluster(r, n);
  }

  private ObjectNode cluster(ClusterResult<?> r, String field, int value) {
    ObjectNode n = json.object().put(field, value);
    return json.cluster(r, n);
  }

  private <T> void reply(
      RoutingContext ctx, String what, CompletableFuture<T> call, Function<T, ObjectNode> body) {
    call.whenComplete(
        (v, err) -> {
          if (err != null) {
            HttpErrors.fail(ctx, err, what);
          } else {
            ok(ctx, body.apply(v));
          }
        });
  }

  private static void ok(RoutingContext ctx, JsonNode body) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toString());
  }

  private static void badRequest(RoutingContext ctx, String message) {
    HttpErrors.send(ctx, 400, ErrorCode.BAD_REQUEST, message);
  }
}
