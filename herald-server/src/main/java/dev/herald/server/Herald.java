package dev.herald.server;

import dev.herald.core.api.ServerApi;
import dev.herald.core.auth.Authenticator;
import dev.herald.core.auth.ChannelAuthorizer;
import dev.herald.core.broker.Broker;
import dev.herald.core.broker.IdempotencyKey;
import dev.herald.core.hub.Hub;
import dev.herald.core.presence.PresenceStore;
import dev.herald.core.time.Scheduler;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.StreamPosition;
import dev.herald.redis.RedisBroker;
import dev.herald.redis.RedisControlBus;
import dev.herald.redis.RedisNodeRegistry;
import dev.herald.redis.RedisPresenceStore;
import dev.herald.redis.RedisSettings;
import dev.herald.redis.RedisUserConnections;
import dev.herald.server.auth.ApiKeys;
import dev.herald.server.auth.JwksKeys;
import dev.herald.server.auth.JwtAuthenticator;
import dev.herald.server.config.ClusterSettings;
import dev.herald.server.config.HeraldConfig;
import dev.herald.server.config.JwtSettings;
import dev.herald.server.fallback.FallbackEndpoints;
import dev.herald.server.fallback.UpgradeDiagnostics;
import dev.herald.server.http.Cors;
import dev.herald.server.http.EventLoopLag;
import dev.herald.server.http.HttpErrors;
import dev.herald.server.http.OriginPolicy;
import dev.herald.server.http.PublishHandler;
import dev.herald.server.http.ServerApiHandler;
import dev.herald.server.http.SlowRequestGuard;
import dev.herald.server.metrics.HeraldMetrics;
import dev.herald.server.metrics.HttpMetricsHandler;
import dev.herald.server.transport.VertxLoops;
import dev.herald.server.websocket.WebSocketEndpoint;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.MimeMapping;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Herald server: the hub plus its HTTP and WebSocket endpoints. Embed it in a Java application:
 *
 * <pre>{@code
 * Herald herald = Herald.builder(config)
 *     .authenticator(request -> mySessions.lookup(request.cookie("SESSION")))
 *     .authorizer((user, action, channel) -> myAcl.check(user, channel))
 *     .build();
 * herald.start().join();
 * herald.publish("project:42", "{\"item\":7,\"status\":\"ready\"}").join();
 * }</pre>
 */
public final class Herald implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Herald.class);

  private final HeraldConfig config;
  private final Builder builder;
  private final Authenticator authenticator;
  private final @Nullable JwtAuthenticator jwt;
  // Null until start (vertx: again once stopped); metrics, redisPresence, nodes and loopLag stay
  // null when not configured.
  private @Nullable Vertx vertx;
  private @Nullable Hub hub;
  private @Nullable HttpServer server;
  private @Nullable UpgradeDiagnostics diagnostics;
  private @Nullable FallbackEndpoints fallback;
  private @Nullable HeraldMetrics metrics;
  private @Nullable RedisPresenceStore redisPresence;
  private @Nullable RedisNodeRegistry nodes;
  private volatile @Nullable EventLoopLag loopLag;

  private Herald(Builder b) {
    this.config = b.config;
    this.builder = b;
    java.util.function.LongSupplier clock =
        b.scheduler != null ? b.scheduler::nowMillis : System::currentTimeMillis;
    this.jwt =
        config.jwtSecrets().isEmpty() && !config.jwt().jwks()
            ? null
            : new JwtAuthenticator(
                    config.jwtSecrets(), jwks(config, clock), config.jwtIssuer(), clock)
                .limits(config.jwt().maxLifetime(), config.jwt().audience());
    Authenticator a = b.authenticator != null ? b.authenticator : jwt;
    if (a == null) {
      throw new IllegalStateException(
          "no authenticator: configure auth.jwt.secrets or a JWKS (auth.jwt.jwks-file,"
              + " auth.jwt.jwks-url), or pass one to the builder");
    }
    this.authenticator = a;
  }

  public static Builder builder(HeraldConfig config) {
    return new Builder(config);
  }

  /** Starts listening; completes with this server once the port is bound. */
  public synchronized CompletableFuture<Herald> start() {
    if (vertx != null) {
      throw new IllegalStateException("already started");
    }
    Vertx vertx =
        Vertx.vertx(
            new VertxOptions()
                .setPreferNativeTransport(true)
                .setEventLoopPoolSize(
                    Math.max(
                        VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE,
                        config.transport().effectiveEventLoops())));
    this.vertx = vertx;
    if (!config.transport().maxEventLoopLag().isZero()) {
      loopLag = EventLoopLag.watch(vertx, config.transport().maxEventLoopLag());
    }
    Broker broker = builder.broker;
    PresenceStore presence = builder.presence;
    if (config.cluster().redis()) {
      RedisSettings rs = redisSettings();
      JsonCodec codec = new JsonCodec();
      if (broker == null) {
        broker = new RedisBroker(vertx, rs, codec);
      }
      if (presence == null) {
        RedisPresenceStore store = new RedisPresenceStore(vertx, rs, codec);
        redisPresence = store;
        presence = store;
      }
      log.info("broker: Redis at {} (prefix {})", safe(rs.url()), rs.prefix());
    }
    Hub.Builder hb =
        Hub.builder()
            .config(config.hub())
            .namespaces(config.namespaces())
            .authenticator(authenticator)
            .apiTimeout(config.cluster().routeTimeout());
    // Whatever is not given here, the hub's builder defaults.
    if (config.cluster().redis()) {
      hb.controlBus(new RedisControlBus(vertx, redisSettings()));
      hb.userConnections(new RedisUserConnections(vertx, redisSettings()));
    }
    if (builder.authorizer != null) {
      hb.authorizer(builder.authorizer);
    }
    if (broker != null) {
      hb.broker(broker);
    }
    if (presence != null) {
      hb.presenceStore(presence);
    }
    if (builder.scheduler != null) {
      hb.scheduler(builder.scheduler);
    }
    HeraldMetrics metrics = null;
    if (config.metrics().enabled()) {
      metrics =
          new HeraldMetrics(
                  new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                      io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT),
                  builder.joinedMeters)
              .bindJvm();
      hb.metrics(metrics);
    }
    this.metrics = metrics;
    Hub hub = hb.build();
    this.hub = hub;
    UpgradeDiagnostics diagnostics = new UpgradeDiagnostics();
    this.diagnostics = diagnostics;
    if (metrics != null) {
      metrics.bindHub(hub).bindBroker(hub::brokerHealthy).bindDiagnostics(diagnostics);
    }

    Router router = Router.router(vertx);
    if (metrics != null) {
      HeraldMetrics m = metrics;
      router.route().order(-1000).handler(new HttpMetricsHandler(m.meters()));
      router
          .get(config.metrics().path())
          .handler(
              ctx ->
                  ctx.response()
                      .putHeader(
                          HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                      .end(m.scrape()));
    }
    OriginPolicy origins = new OriginPolicy(config.allowedOrigins());
    VertxLoops eventLoops = new VertxLoops();
    WebSocketEndpoint ws =
        new WebSocketEndpoint(
            hub,
            origins,
            config.websocketEnabled(),
            config.websocketPath(),
            eventLoops,
            config.proxies().resolver(),
            config.websocketCompression());
    router.get(config.websocketPath()).handler(ws::handle);
    FallbackEndpoints endpoints =
        new FallbackEndpoints(
            vertx, hub, config, origins, new ApiKeys(config.apiKeys()), diagnostics, eventLoops);
    if (metrics != null) {
      endpoints.lagSink(metrics::clientLag);
    }
    endpoints.install(router);
    RedisNodeRegistry nodes = null;
    if (config.cluster().redis()) {
      nodes = new RedisNodeRegistry(vertx, redisSettings());
      endpoints.routeVia(nodes::lookup, config.cluster().routeTimeout());
    }
    this.nodes = nodes;
    fallback = endpoints; // stop() waits for HTTP sessions to take their disconnect
    PublishHandler publish = new PublishHandler(hub, new ApiKeys(config.apiKeys()));
    router
        .post("/api/v1/publish")
        .handler(BodyHandler.create(false).setBodyLimit(config.hub().maxMessageBytes()))
        .handler(publish::handle);
    new ServerApiHandler(hub.api(), new ApiKeys(config.apiKeys()), hub.codec())
        .install(router, config.hub().maxMessageBytes());
    router.get("/health/live").handler(ctx -> json(ctx, 200, "{\"status\":\"up\"}"));
    router
        .get("/health/ready")
        .handler(
            ctx -> {
              Readiness r = readiness();
              json(ctx, r.ready() ? 200 : 503, r.json());
            });
    // The browser client, at a stable path so pages can import it without a build step.
    // A page on another origin imports it in CORS mode: allowed origins may read it.
    router
        .route("/herald/*")
        .method(HttpMethod.GET)
        .method(HttpMethod.HEAD)
        .method(HttpMethod.OPTIONS)
        .handler(Cors.forPublicResources(origins, "GET, HEAD"))
        .handler(Herald::headContentType)
        .handler(
            StaticHandler.create("webroot/herald")
                .setDefaultContentEncoding("UTF-8")
                .setMaxAgeSeconds(300));
    if (config.demoEnabled()) {
      DemoRoutes.install(router, jwt, origins);
    }
    Consumer<Router> routes = builder.routes;
    if (routes != null) {
      routes.accept(router);
    }
    router.errorHandler(
        413,
        ctx -> HttpErrors.send(ctx, 413, ErrorCode.PAYLOAD_TOO_LARGE, "request body too large"));
    router.errorHandler(
        500,
        ctx -> {
          log.warn("request {} failed", ctx.request().path(), ctx.failure());
          HttpErrors.send(ctx, 500, ErrorCode.INTERNAL, "internal error");
        });

    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(config.host())
            .setPort(config.port())
            // WebSockets are upgraded outside Vert.x (WebSocketEndpoint), which negotiates
            // permessage-deflate itself when websocket.compression is on; Vert.x, which only
            // refuses handshakes, must not add its own extension handler to HTTP connections.
            .setPerMessageWebSocketCompressionSupported(false)
            .setPerFrameWebSocketCompressionSupported(false)
            // No HTTP/2 cleartext upgrade: browsers never use h2c, proxies talk HTTP/1.1 to
            // their upstream, and WebSocket upgrades are HTTP/1.1. With it on, a large response
            // on the upgraded stream could stall some clients (seen with the JDK client on
            // /metrics).
            .setHttp2ClearTextEnabled(false)
            .setIdleTimeout((int) config.httpLimits().idleTimeout().toSeconds())
            .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS)
            // Several server instances bind the port, one per event loop (see listenOnMoreLoops)
            .setReusePort(true);
    SlowRequestGuard guard =
        new SlowRequestGuard(vertx, config.httpLimits().requestTimeout().toMillis(), router);
    ws.onUpgrade(guard::upgraded);
    Handler<HttpConnection> onConnection =
        conn -> {
          guard.onConnection(conn);
          ws.install(conn);
        };
    CompletableFuture<Herald> started = new CompletableFuture<>();
    RedisNodeRegistry registry = nodes;
    HeraldMetrics meters = metrics;
    vertx
        .createHttpServer(options)
        .connectionHandler(onConnection)
        .requestHandler(guard::onRequest)
        .listen()
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                HttpServer listening = ar.result();
                server = listening;
                if (registry != null) {
                  // Never fails: a failed announcement is logged and retried by the refresh.
                  var unusedRegistration = registry.register(advertiseUrl(listening.actualPort()));
                }
                listenOnMoreLoops(vertx, listening, options, onConnection, guard)
                    .onComplete(
                        loops -> {
                          log.info(
                              "Herald listening on {}:{} (node {}, websocket {}, {} event loops)",
                              config.host(),
                              listening.actualPort(),
                              config.hub().node(),
                              config.websocketEnabled() ? "on" : "off",
                              loops.result());
                          started.complete(this);
                        });
              } else {
                // Could not listen (port taken...): release everything so the caller can retry.
                this.vertx = null;
                hub.close();
                if (meters != null) {
                  meters.close();
                  this.metrics = null;
                }
                vertx.close();
                started.completeExceptionally(ar.cause());
              }
            });
    return started;
  }

  private RedisSettings redisSettings() {
    ClusterSettings c = config.cluster();
    RedisSettings s =
        new RedisSettings(
            c.redisUrl(),
            c.redisPrefix(),
            config.hub().node(),
            c.presenceTtl(),
            c.reconnectMin(),
            c.reconnectMax());
    if (c.redisCluster()) {
      return s.withClusterNodes(c.clusterNodes());
    }
    return c.sentinel() ? s.withSentinels(c.sentinels(), c.masterName()) : s;
  }

  private String advertiseUrl(int port) {
    String configured = config.cluster().advertiseUrl();
    if (!configured.isEmpty()) {
      return configured;
    }
    String host = config.host();
    if (host.equals("0.0.0.0") || host.equals("::")) {
      log.warn(
          "cluster.advertise-url is not set and server.host is {}: other nodes will try"
              + " 127.0.0.1:{} for this node's HTTP sessions",
          host,
          port);
      host = "127.0.0.1";
    }
    return "http://" + host + ":" + port;
  }

  private static String safe(String url) {
    return url.replaceAll("//[^@/]*@", "//****@");
  }

  /**
   * A Vert.x server created outside a verticle serves every connection on one event loop, so one
   * core would do all the I/O. With {@code server.event-loops} above 1 (0: one per core), one more
   * server instance per further event loop, each on its own loop and on the same port, spreads
   * connections over the cores (the same port is shared by Vert.x or, for a port picked at random,
   * by SO_REUSEPORT). Completes with the number of loops that listen once all tried; if one cannot,
   * the server keeps serving on the others.
   */
  private io.vertx.core.Future<Integer> listenOnMoreLoops(
      Vertx vertx,
      HttpServer server,
      HttpServerOptions options,
      Handler<HttpConnection> onConnection,
      SlowRequestGuard guard) {
    int extra = config.transport().effectiveEventLoops() - 1;
    HttpServerOptions same = new HttpServerOptions(options).setPort(server.actualPort());
    java.util.List<io.vertx.core.Future<HttpServer>> listening = new java.util.ArrayList<>();
    for (int i = 0; i < extra; i++) {
      io.vertx.core.internal.ContextInternal loop =
          ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext();
      io.vertx.core.Promise<HttpServer> p = io.vertx.core.Promise.promise();
      loop.runOnContext(
          v ->
              vertx
                  .createHttpServer(same)
                  .connectionHandler(onConnection)
                  .requestHandler(guard::onRequest)
                  .listen()
                  .onComplete(p));
      listening.add(p.future());
    }
    return io.vertx.core.Future.join(listening)
        .transform(
            all -> {
              int loops = 1;
              for (io.vertx.core.Future<HttpServer> f : listening) {
                if (f.succeeded()) {
                  loops++;
                } else {
                  log.warn("could not listen on one more event loop: {}", f.cause().toString());
                }
              }
              return io.vertx.core.Future.succeededFuture(loops);
            });
  }

  /** The bound port (useful when configured with port 0). */
  public int port() {
    HttpServer s = server;
    if (s == null) {
      throw new IllegalStateException("not started");
    }
    return s.actualPort();
  }

  /**
   * The server API of this node's cluster (connections, disconnect, unsubscribe, presence, history,
   * channels, nodes): the same as {@code hub().api()}; served over HTTP under {@code /api/v1/}
   * (docs/server-api.md).
   */
  public ServerApi api() {
    return hub().api();
  }

  /** The hub; from {@link #start()} on. */
  public Hub hub() {
    Hub h = hub;
    if (h == null) {
      throw new IllegalStateException("not started");
    }
    return h;
  }

  public HeraldConfig config() {
    return config;
  }

  /**
   * The metrics registry (Prometheus), for the application to add its own meters; null when
   * metrics.enabled is false or before start.
   */
  public io.micrometer.prometheusmetrics.@Nullable PrometheusMeterRegistry meterRegistry() {
    HeraldMetrics m = metrics;
    return m == null ? null : m.registry();
  }

  /** Result of the readiness checks: ready, and each check's state. */
  public record Readiness(boolean draining, Map<String, Boolean> checks) {
    public boolean ready() {
      return !draining && !checks.containsValue(false);
    }

    /** {@code {"status":"ready"|"draining"|"unavailable","checks":{...},"failed":[...]}}. */
    public String json() {
      io.vertx.core.json.JsonObject c = new io.vertx.core.json.JsonObject();
      io.vertx.core.json.JsonArray failed = new io.vertx.core.json.JsonArray();
      checks.forEach(
          (k, v) -> {
            c.put(k, v ? "up" : "down");
            if (!v) {
              failed.add(k);
            }
          });
      return new io.vertx.core.json.JsonObject()
          .put("status", draining ? "draining" : ready() ? "ready" : "unavailable")
          .put("checks", c)
          .put("failed", failed)
          .encode();
    }
  }

  /**
   * Whether this node should receive traffic: not draining, the broker healthy, its event loops
   * keeping up ({@code event-loops}: no loop running its tasks later than {@code
   * server.max-event-loop-lag}) and every readiness check added with {@link Builder#readinessCheck}
   * passing (a check that throws counts as down).
   */
  public Readiness readiness() {
    Hub hub = hub();
    Map<String, Boolean> checks = new LinkedHashMap<>();
    checks.put("broker", hub.brokerHealthy());
    EventLoopLag lag = loopLag;
    if (lag != null) {
      // A node whose loops run tasks seconds late would time out the traffic it is sent.
      checks.put("event-loops", lag.healthy());
    }
    for (Map.Entry<String, Supplier<Boolean>> e : builder.readinessChecks) {
      boolean ok;
      try {
        ok = Boolean.TRUE.equals(e.getValue().get());
      } catch (RuntimeException ex) {
        log.warn("readiness check {} failed", e.getKey(), ex);
        ok = false;
      }
      checks.put(e.getKey(), ok);
    }
    return new Readiness(!hub.accepting(), checks);
  }

  /** What clients reported about transports that failed them; from {@link #start()} on. */
  public UpgradeDiagnostics diagnostics() {
    UpgradeDiagnostics d = diagnostics;
    if (d == null) {
      throw new IllegalStateException("not started");
    }
    return d;
  }

  /** The JWT authenticator built from auth.jwt.secrets, or null when none is configured. */
  public @Nullable JwtAuthenticator jwt() {
    return jwt;
  }

  /** Publishes JSON text to a channel. */
  public CompletableFuture<StreamPosition> publish(String channel, String json) {
    return publish(channel, json, null);
  }

  /**
   * Publishes JSON text to a channel at most once per idempotency key (see {@link
   * Hub#publish(String, dev.herald.protocol.RawJson, IdempotencyKey)}); null publishes
   * unconditionally.
   */
  public CompletableFuture<StreamPosition> publish(
      String channel, String json, @Nullable IdempotencyKey once) {
    Hub hub = hub();
    try {
      return hub.publish(channel, hub.codec().parseRaw(json), once);
    } catch (ProtocolException e) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException("data is not valid JSON: " + e.getMessage()));
    }
  }

  /**
   * Graceful stop: refuses new connections, disconnects clients with a suggested reconnect delay
   * (close code 4001), waits up to {@code drain} for them to go (then closes whoever is left),
   * waits up to {@link #CLEANUP_GRACE} more for their presence cleanups to reach the broker and
   * presence store, then closes everything.
   */
  public synchronized CompletableFuture<Void> stop(Duration drain) {
    if (vertx == null) {
      return CompletableFuture.completedFuture(null);
    }
    Vertx v = vertx;
    vertx = null;
    Hub hub = hub();
    FallbackEndpoints fallback = this.fallback;
    RedisNodeRegistry nodes = this.nodes;
    RedisPresenceStore redisPresence = this.redisPresence;
    HeraldMetrics metrics = this.metrics;
    hub.shutdown();
    CompletableFuture<Void> done = new CompletableFuture<>();
    long deadline = System.nanoTime() + drain.toNanos();
    long cleanupDeadline = deadline + CLEANUP_GRACE.toNanos();
    // One-shot timers, re-armed until done: cancelling a periodic timer from its own first run
    // can fail in Vert.x when that run comes before setPeriodic has returned on this thread (a
    // loaded machine), which left the stop hanging.
    Handler<Long> check =
        new Handler<>() {
          private boolean forced;

          @Override
          public void handle(Long id) {
            long now = System.nanoTime();
            // HTTP sessions count until their disconnect message was picked up by the client.
            boolean drained =
                hub.stats().sessions() == 0 && (fallback == null || fallback.sessionCount() == 0);
            if (!drained && now < deadline) {
              v.setTimer(20, this);
              return;
            }
            if (!drained && !forced) {
              // Out of time: whoever is left goes now; their leaves still reach the stores.
              forced = true;
              hub.disconnectRemaining();
            }
            // The broker and presence store stay until the drained connections' leaves (presence
            // removal, leave events) have reached them, so a node stopped gracefully leaves
            // nothing behind in Redis for the presence TTL to clean up.
            boolean clean = hub.stats().sessions() == 0 && hub.pendingCleanups() == 0;
            if (!clean && now <= cleanupDeadline) {
              v.setTimer(20, this);
              return;
            }
            if (!clean) {
              log.warn(
                  "stopping with {} connections and {} presence cleanups still pending",
                  hub.stats().sessions(),
                  hub.pendingCleanups());
            }
            EventLoopLag lag = loopLag;
            if (lag != null) {
              lag.close();
            }
            // The broker and presence store first: they use this Vert.x instance.
            if (nodes != null) {
              nodes.close();
            }
            hub.close();
            if (redisPresence != null) {
              redisPresence.close();
            }
            v.close()
                .onComplete(
                    ar -> {
                      if (metrics != null) {
                        metrics.close();
                      }
                      done.complete(null);
                    });
          }
        };
    v.setTimer(20, check);
    return done;
  }

  /** How long a stop waits, after the drain, for the connections' presence cleanups. */
  static final Duration CLEANUP_GRACE = Duration.ofSeconds(5);

  @Override
  public void close() {
    stop(Duration.ofSeconds(2)).join();
  }

  private static @Nullable JwksKeys jwks(
      HeraldConfig config, java.util.function.LongSupplier clock) {
    JwtSettings j = config.jwt();
    java.nio.file.Path file = j.jwksFile();
    if (file != null) {
      return JwksKeys.file(file, clock, j.jwksRefetchInterval());
    }
    java.net.URI url = j.jwksUrl();
    return url == null ? null : JwksKeys.url(url, clock, j.jwksRefetchInterval());
  }

  /** StaticHandler answers HEAD without the Content-Type its GET has: give it the same one. */
  private static void headContentType(RoutingContext ctx) {
    if (ctx.request().method().equals(HttpMethod.HEAD)) {
      String type = MimeMapping.mimeTypeForFilename(ctx.request().path());
      if (type != null) {
        ctx.response()
            .putHeader(
                HttpHeaders.CONTENT_TYPE,
                type.startsWith("text/") ? type + ";charset=UTF-8" : type);
      }
    }
    ctx.next();
  }

  private static void json(io.vertx.ext.web.RoutingContext ctx, int status, String body) {
    ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body);
  }

  /** Configures a server before it starts. */
  public static final class Builder {
    private final HeraldConfig config;
    // Each null until set: the default applies (see each setter).
    private @Nullable Authenticator authenticator;
    private @Nullable ChannelAuthorizer authorizer;
    private @Nullable Broker broker;
    private @Nullable PresenceStore presence;
    private @Nullable Scheduler scheduler;
    private @Nullable Consumer<Router> routes;
    private io.micrometer.core.instrument.@Nullable MeterRegistry joinedMeters;
    private final List<Map.Entry<String, Supplier<Boolean>>> readinessChecks = new ArrayList<>();

    private Builder(HeraldConfig config) {
      this.config = Objects.requireNonNull(config);
    }

    /** How connections authenticate; defaults to JWT with auth.jwt.secrets. */
    public Builder authenticator(Authenticator v) {
      authenticator = v;
      return this;
    }

    /** Channel access rules on top of the namespace rules. */
    public Builder authorizer(ChannelAuthorizer v) {
      authorizer = v;
      return this;
    }

    /** The broker; defaults to the in-process one. */
    public Builder broker(Broker v) {
      broker = v;
      return this;
    }

    public Builder presenceStore(PresenceStore v) {
      presence = v;
      return this;
    }

    public Builder scheduler(Scheduler v) {
      scheduler = v;
      return this;
    }

    /**
     * Also registers Herald's {@code herald.*} meters in the application's registry (e.g. Spring
     * Boot Actuator's), besides serving them at {@code metrics.path}; they are removed from it when
     * Herald stops. No effect with {@code metrics.enabled=false}.
     */
    public Builder meterRegistry(io.micrometer.core.instrument.MeterRegistry v) {
      joinedMeters = v;
      return this;
    }

    /** Adds the application's own HTTP routes to the server's router. */
    public Builder routes(Consumer<Router> v) {
      routes = v;
      return this;
    }

    /**
     * A dependency this node needs to serve (a database, an upstream service): while {@code check}
     * returns false (or throws), {@code GET /health/ready} answers 503 and names it. Checks run on
     * each readiness request, on the event loop: they must be quick and must not block.
     */
    public Builder readinessCheck(String name, Supplier<Boolean> check) {
      readinessChecks.add(Map.entry(Objects.requireNonNull(name), Objects.requireNonNull(check)));
      return this;
    }

    public Herald build() {
      return new Herald(this);
    }
  }
}
