package dev.herald.server.fallback;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.core.hub.ClientSession;
import dev.herald.core.hub.ConnectionContext;
import dev.herald.core.hub.Hub;
import dev.herald.protocol.CloseCode;
import dev.herald.protocol.ProtocolVersion;
import dev.herald.server.auth.ApiKeys;
import dev.herald.server.config.HeraldConfig;
import dev.herald.server.http.Cors;
import dev.herald.server.http.OriginPolicy;
import dev.herald.server.http.TrustedProxies;
import dev.herald.server.transport.VertxLoops;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP fallback transports and their diagnostics, under {@code /connection}:
 *
 * <ul>
 *   <li>{@code GET /connection/info}: which transports this server offers.
 *   <li>{@code GET /connection/sse}: opens a session whose server-to-client half is an SSE stream.
 *   <li>{@code POST /connection/poll}: opens a long-polling session; {@code GET
 *       /connection/poll/{session}?ack=N} polls.
 *   <li>{@code POST /connection/send/{session}}: client-to-server messages of either session.
 *   <li>{@code POST /connection/report}: a client reports a transport that failed it; {@code GET
 *       /connection/diagnostics} (API key) shows the counts and recent reports.
 *   <li>{@code POST /connection/lag}: a client reports end-to-end delivery lag samples ({@code
 *       {"samples":[ms,...]}}, at most {@value #MAX_LAG_SAMPLES} per request).
 * </ul>
 *
 * Every request passes the same Origin check as the WebSocket handshake; allowed cross-origin
 * requests get CORS headers (with credentials). All protocol logic is in the hub.
 */
public final class FallbackEndpoints {
  private static final String BASE = "/connection";
  private static final int SSE_PADDING = 2048;

  /** Most lag samples accepted in one report. */
  public static final int MAX_LAG_SAMPLES = 100;

  /** Lag samples are clamped to 0..10 minutes. */
  public static final long MAX_LAG_MILLIS = 600_000;

  private final Vertx vertx;
  private final Hub hub;
  private final HeraldConfig config;
  private final TrustedProxies proxies;
  private final OriginPolicy origins;
  private final ApiKeys apiKeys;
  private final HttpSessions sessions;
  private final UpgradeDiagnostics diagnostics;
  private final VertxLoops loops;
  private final ObjectMapper json = new ObjectMapper();
  private final ReportLimiter reports = new ReportLimiter(System::currentTimeMillis);
  private volatile java.util.function.LongConsumer lagSink = ms -> {};
  private volatile @Nullable SessionRouter router; // in a cluster only (routeVia)

  public FallbackEndpoints(
      Vertx vertx,
      Hub hub,
      HeraldConfig config,
      OriginPolicy origins,
      ApiKeys apiKeys,
      UpgradeDiagnostics diagnostics,
      VertxLoops loops) {
    this.vertx = vertx;
    this.hub = hub;
    this.config = config;
    this.proxies = config.proxies().resolver();
    this.origins = origins;
    this.apiKeys = apiKeys;
    this.sessions = new HttpSessions(config.hub().node());
    this.diagnostics = diagnostics;
    this.loops = loops;
  }

  public void install(Router router) {
    int ceiling =
        Math.max(4 * config.hub().maxMessageBytes(), config.hub().maxMessageBytes() + 65_536);
    router.route(BASE + "/info").handler(this::originCheck);
    router.route(BASE + "/sse").handler(this::originCheck);
    router.route(BASE + "/poll").handler(this::originCheck);
    router.route(BASE + "/poll/:session").handler(this::originCheck);
    router.route(BASE + "/send/:session").handler(this::originCheck);
    router.route(BASE + "/report").handler(this::originCheck);
    router.route(BASE + "/lag").handler(this::originCheck);
    router.get(BASE + "/info").handler(this::info);
    router.get(BASE + "/sse").handler(this::openSse);
    router.post(BASE + "/poll").handler(this::openPoll);
    router.get(BASE + "/poll/:session").handler(this::poll);
    router.delete(BASE + "/poll/:session").handler(this::endPoll);
    router
        .post(BASE + "/send/:session")
        .handler(BodyHandler.create(false).setBodyLimit(ceiling))
        .handler(this::send)
        .failureHandler(this::sendFailed);
    router
        .post(BASE + "/report")
        .handler(BodyHandler.create(false).setBodyLimit(4096))
        .handler(this::report);
    router
        .post(BASE + "/lag")
        .handler(BodyHandler.create(false).setBodyLimit(4096))
        .handler(this::lag);
    router.get(BASE + "/diagnostics").handler(this::diagnostics);
  }

  /** Where client-reported delivery lag samples (milliseconds) go; ignored by default. */
  public FallbackEndpoints lagSink(java.util.function.LongConsumer sink) {
    this.lagSink = sink == null ? ms -> {} : sink;
    return this;
  }

  /**
   * In a cluster: route requests for sessions owned by other nodes to them. {@code lookup} finds a
   * live node's internal URL by name; {@code timeout} bounds the wait beyond a long poll's own.
   */
  public FallbackEndpoints routeVia(
      java.util.function.Function<String, java.util.concurrent.CompletableFuture<Optional<String>>>
          lookup,
      java.time.Duration timeout) {
    this.router =
        new SessionRouter(
            vertx, config.hub().node(), lookup, timeout, config.httpLimits().requestTimeout());
    return this;
  }

  /** Sessions carried over HTTP on this node (for stats). */
  public int sessionCount() {
    return sessions.size();
  }

  // ---------------------------------------------------------------- origin and CORS

  private void originCheck(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String origin = req.getHeader(HttpHeaders.ORIGIN);
    if (!origins.allows(origin, req.getHeader(HttpHeaders.HOST))) {
      refuse(
          ctx,
          403,
          "origin-not-allowed",
          "Origin '" + origin + "' is not allowed (server.allowed-origins)");
      return;
    }
    if (origin != null) {
      Cors.allow(ctx.response(), origin, LongPollConnection.BATCH_HEADER + ", X-Herald-Error");
    }
    if (req.method().equals(HttpMethod.OPTIONS)) {
      ctx.response()
          .setStatusCode(204)
          .putHeader("Access-Control-Allow-Methods", "GET, POST, DELETE")
          .putHeader("Access-Control-Allow-Headers", "Content-Type")
          .putHeader("Access-Control-Max-Age", "600")
          .end();
      return;
    }
    ctx.next();
  }

  // ---------------------------------------------------------------- info

  private void info(RoutingContext ctx) {
    JsonObject body =
        new JsonObject()
            .put("protocol", ProtocolVersion.CURRENT)
            .put("node", config.hub().node())
            .put(
                "websocket",
                new JsonObject()
                    .put("enabled", config.websocketEnabled())
                    .put("path", config.websocketPath()))
            .put(
                "sse",
                new JsonObject().put("enabled", config.http().sse()).put("path", BASE + "/sse"))
            .put(
                "longPolling",
                new JsonObject()
                    .put("enabled", config.http().longPolling())
                    .put("path", BASE + "/poll")
                    .put("timeoutMs", config.http().pollTimeout().toMillis()))
            .put(
                "heartbeat",
                new JsonObject().put("intervalMs", config.hub().pingInterval().toMillis()));
    ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(body.encode());
  }

  // ---------------------------------------------------------------- SSE

  private void openSse(RoutingContext ctx) {
    if (!config.http().sse()) {
      refuse(
          ctx,
          404,
          "sse-disabled",
          "Server-Sent Events are disabled on this server (sse.enabled=false)");
      return;
    }
    if (!accepting(ctx)) {
      return;
    }
    HttpServerResponse res = ctx.response();
    res.setChunked(true)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache, no-store, no-transform")
        .putHeader("X-Accel-Buffering", "no"); // nginx: do not buffer this response
    String id = sessions.newId();
    SseConnection connection =
        new SseConnection(res, loops.of(vertx.getOrCreateContext()), () -> sessions.remove(id));
    ClientSession session = hub.openSession(connection, context(ctx.request()));
    sessions.put(new HttpSession(id, session, connection));
    // The hub stops writing while the response's write queue is full; resume when it drains.
    res.drainHandler(v -> connection.loop().execute(session::onWritable));
    res.closeHandler(
        v ->
            connection
                .loop()
                .execute(
                    () -> {
                      sessions.remove(id);
                      session.onTransportClosed();
                    }));
    res.write(Buffer.buffer(SseEncoder.padding(SSE_PADDING)));
    res.write(Buffer.buffer(SseEncoder.event("session", opened(id, "sse"))));
  }

  // ---------------------------------------------------------------- long-polling

  /**
   * The shortest hold a poll may ask for ({@code hold}): a client behind a proxy whose read timeout
   * is shorter than {@code longpoll.timeout} asks for less, so idle polls end with 204 before the
   * proxy answers 504.
   */
  static final long MIN_POLL_HOLD_MS = 1000;

  private void openPoll(RoutingContext ctx) {
    if (!config.http().longPolling()) {
      refuse(
          ctx,
          404,
          "longpoll-disabled",
          "Long-polling is disabled on this server (longpoll.enabled=false)");
      return;
    }
    if (!accepting(ctx)) {
      return;
    }
    String id = sessions.newId();
    LongPollConnection connection =
        new LongPollConnection(
            vertx,
            loops.of(vertx.getOrCreateContext()),
            config.http().pollTimeout().toMillis(),
            config.http().sessionTimeout().toMillis(),
            () -> sessions.remove(id));
    ClientSession session = hub.openSession(connection, context(ctx.request()));
    connection.attach(session);
    sessions.put(new HttpSession(id, session, connection));
    ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(opened(id, "long-polling"));
  }

  private void poll(RoutingContext ctx) {
    Optional<HttpSession> s = session(ctx);
    if (s.isEmpty()) {
      return;
    }
    if (!(s.get().connection() instanceof LongPollConnection connection)) {
      refuse(ctx, 400, "not-long-polling", "This session is not a long-polling session");
      return;
    }
    long ack;
    try {
      String a = ctx.request().getParam("ack");
      ack = a == null ? 0 : Long.parseLong(a);
    } catch (NumberFormatException e) {
      refuse(ctx, 400, "bad-ack", "ack must be the number of the last batch received");
      return;
    }
    long hold = config.http().pollTimeout().toMillis();
    String h = ctx.request().getParam("hold");
    if (h != null) {
      long asked;
      try {
        asked = Long.parseLong(h);
      } catch (NumberFormatException e) {
        asked = -1;
      }
      if (asked <= 0) {
        refuse(
            ctx,
            400,
            "bad-hold",
            "hold must be a positive number of milliseconds (how long a poll may wait)");
        return;
      }
      hold = Math.min(hold, Math.max(MIN_POLL_HOLD_MS, asked));
    }
    HttpServerResponse res = ctx.response();
    long holdMillis = hold;
    connection.loop().execute(() -> connection.poll(res, ack, holdMillis));
  }

  /** The client is done with a long-polling session: end it now (leave presence at once). */
  private void endPoll(RoutingContext ctx) {
    Optional<HttpSession> s = session(ctx);
    if (s.isEmpty()) {
      return;
    }
    if (!(s.get().connection() instanceof LongPollConnection connection)) {
      refuse(ctx, 400, "not-long-polling", "This session is not a long-polling session");
      return;
    }
    connection
        .loop()
        .execute(
            () -> {
              connection.clientClosed();
              ctx.response().setStatusCode(204).end();
            });
  }

  // ---------------------------------------------------------------- commands

  private void send(RoutingContext ctx) {
    Optional<HttpSession> found = session(ctx);
    if (found.isEmpty()) {
      return;
    }
    HttpSession s = found.get();
    if (s.session().isClosed()) {
      // ended (a long-polling session stays until its last words are acknowledged)
      if (!hub.accepting()) {
        refuseShuttingDown(ctx); // ended by the drain: as its 4001 says, elsewhere and later
      } else {
        refuse(ctx, 404, "session-unknown", "This session has ended: open a new one");
      }
      return;
    }
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      refuse(ctx, 400, "empty", "Send protocol messages as the request body");
      return;
    }
    if (body.length() > config.hub().maxMessageBytes()) {
      s.session()
          .disconnect(
              CloseCode.MESSAGE_TOO_BIG,
              "message larger than " + config.hub().maxMessageBytes() + " bytes",
              0);
      refuse(
          ctx,
          413,
          "message-too-big",
          "Message larger than "
              + config.hub().maxMessageBytes()
              + " bytes; the session is closed (1009)");
      return;
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .decode(java.nio.ByteBuffer.wrap(body.getBytes()))
              .toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      s.session().disconnect(CloseCode.INVALID_PAYLOAD, CloseCode.INVALID_PAYLOAD.reason(), 0);
      refuse(ctx, 400, "invalid-utf8", "The body is not valid UTF-8; the session is closed (1007)");
      return;
    }
    // Answer only after the session has taken the messages, so a client that awaits each POST
    // before the next one keeps its messages in order.
    s.connection()
        .loop()
        .execute(
            () -> {
              s.session().onText(text);
              ctx.response().setStatusCode(204).end();
            });
  }

  /** A body beyond what the body handler reads at all: refused like any other oversize body. */
  private void sendFailed(RoutingContext ctx) {
    if (ctx.statusCode() != 413) {
      ctx.next();
      return;
    }
    sessions
        .find(ctx.pathParam("session"))
        .ifPresent(
            s ->
                s.session()
                    .disconnect(
                        CloseCode.MESSAGE_TOO_BIG,
                        "message larger than " + config.hub().maxMessageBytes() + " bytes",
                        0));
    refuse(
        ctx,
        413,
        "message-too-big",
        "Message larger than "
            + config.hub().maxMessageBytes()
            + " bytes; the session is closed (1009)");
  }

  // ---------------------------------------------------------------- diagnostics

  private void report(RoutingContext ctx) {
    JsonNode r;
    try {
      r = json.readTree(ctx.body().asString("UTF-8"));
    } catch (Exception e) {
      r = null;
    }
    if (r == null
        || !r.isObject()
        || !r.path("transport").isTextual()
        || !r.path("symptom").isTextual()) {
      refuse(
          ctx,
          400,
          "bad-report",
          "Body must be {\"transport\": ..., \"symptom\": ..., \"detail\": ...}");
      return;
    }
    HttpServerRequest req = ctx.request();
    if (!reportAllowed(ctx, r)) {
      return;
    }
    diagnostics.record(
        r.get("transport").asText(),
        r.get("symptom").asText(),
        r.path("detail").asText(null),
        req.getHeader(HttpHeaders.USER_AGENT),
        proxies.clientAddress(req),
        req.getHeader("Via"));
    ctx.response().setStatusCode(204).end();
  }

  private void lag(RoutingContext ctx) {
    JsonNode r;
    try {
      r = json.readTree(ctx.body().asString("UTF-8"));
    } catch (Exception e) {
      r = null;
    }
    if (r == null || !lagSamples(r.path("samples"))) {
      refuse(
          ctx,
          400,
          "bad-lag-report",
          "Body must be {\"samples\": [milliseconds, ...]} with at most "
              + MAX_LAG_SAMPLES
              + " numbers");
      return;
    }
    if (!reportAllowed(ctx, r)) {
      return;
    }
    java.util.function.LongConsumer sink = lagSink;
    for (JsonNode n : r.path("samples")) {
      sink.accept(Math.max(0, Math.min(MAX_LAG_MILLIS, n.asLong())));
    }
    ctx.response().setStatusCode(204).end();
  }

  private static boolean lagSamples(JsonNode samples) {
    if (!samples.isArray() || samples.size() > MAX_LAG_SAMPLES) {
      return false;
    }
    for (JsonNode n : samples) {
      if (!n.isNumber()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether this client may report now (see {@link ReportLimiter}); if not, answers 429 and counts
   * the refusal. The optional {@code session} field names the reporting page's session.
   */
  private boolean reportAllowed(RoutingContext ctx, JsonNode report) {
    JsonNode s = report.path("session");
    String session = s.isTextual() && s.asText().length() <= 128 ? s.asText() : null;
    if (reports.allow(proxies.clientAddress(ctx.request()), session)) {
      return true;
    }
    diagnostics.refused();
    ctx.response().putHeader("Retry-After", Long.toString(ReportLimiter.retryAfterSeconds()));
    refuse(
        ctx,
        429,
        "too-many-reports",
        "Too many reports from this address or session; try again later");
    return false;
  }

  private void diagnostics(RoutingContext ctx) {
    if (!apiKeys.allows(ctx.request().getHeader(HttpHeaders.AUTHORIZATION))) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      refuse(
          ctx,
          401,
          "unauthorized",
          "Diagnostics need an API key (publish.api-keys) as a Bearer token");
      return;
    }
    JsonArray recent = new JsonArray();
    for (UpgradeDiagnostics.Report r : diagnostics.recent()) {
      recent.add(
          new JsonObject()
              .put("at", r.at().toString())
              .put("transport", r.transport())
              .put("symptom", r.symptom())
              .put("detail", r.detail())
              .put("userAgent", r.userAgent())
              .put("remote", r.remote())
              .put("via", r.via()));
    }
    JsonObject body =
        new JsonObject()
            .put("counts", new JsonObject(new HashMap<>(diagnostics.counts())))
            .put("refused", diagnostics.refusedCount())
            .put("recent", recent)
            .put("httpSessions", sessions.size());
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
  }

  // ---------------------------------------------------------------- helpers

  /**
   * This node's session named in the path. If another node owns it (cluster), the request is routed
   * there and answered with the owner's answer; empty is returned whenever the request was already
   * answered.
   */
  private Optional<HttpSession> session(RoutingContext ctx) {
    String id = ctx.pathParam("session");
    Optional<HttpSession> s = sessions.find(id);
    if (s.isEmpty()) {
      Runnable unknown =
          () ->
              refuse(
                  ctx,
                  404,
                  "session-unknown",
                  "No such session on this server (it ended or expired): open a new one");
      SessionRouter r = router;
      String owner = SessionRouter.owner(id);
      if (r != null && owner != null && r.routes(ctx, owner)) {
        r.forward(ctx, owner, config.http().pollTimeout().toMillis(), unknown);
      } else if (!hub.accepting()) {
        // This node drains: the session ended with the drain's 4001 (a request that raced the
        // client's reading of it), or earlier. Either way: a new session, elsewhere, later.
        refuseShuttingDown(ctx);
      } else {
        unknown.run();
      }
    }
    return s;
  }

  private boolean accepting(RoutingContext ctx) {
    if (!hub.accepting()) {
      refuseShuttingDown(ctx);
      return false;
    }
    int max = config.httpLimits().maxHttpSessions();
    if (sessions.size() >= max) {
      ctx.response().putHeader("Retry-After", "5");
      refuse(
          ctx,
          429,
          "too-many-sessions",
          "This server holds " + max + " HTTP sessions already (limits.http-sessions)");
      return false;
    }
    String remote = proxies.clientAddress(ctx.request());
    if (!hub.admitsAddress(remote)) {
      ctx.response().putHeader("Retry-After", "30");
      refuse(
          ctx,
          429,
          "too-many-connections",
          "Too many connections from this address (limits.connections-per-address)");
      return false;
    }
    return true;
  }

  private String opened(String id, String transport) {
    return new JsonObject()
        .put("session", id)
        .put("transport", transport)
        .put("node", config.hub().node())
        .put("protocol", ProtocolVersion.CURRENT)
        .encode();
  }

  private ConnectionContext context(HttpServerRequest req) {
    return proxies.connectionContext(req);
  }

  /**
   * {@code 503 shutting-down} with {@code Retry-After}: this node drains; open a new session on
   * another node (the load balancer no longer sends new clients here), after the delay.
   */
  private void refuseShuttingDown(RoutingContext ctx) {
    ctx.response().putHeader("Retry-After", Long.toString(hub.shutdownRetryAfterSeconds()));
    refuse(ctx, 503, "shutting-down", "The server is shutting down: reconnect later (elsewhere)");
  }

  static void refuse(RoutingContext ctx, int status, String code, String message) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response()
        .setStatusCode(status)
        .putHeader("X-Herald-Error", code)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .end(message + "\n");
  }
}
