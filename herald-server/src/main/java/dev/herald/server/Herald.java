package dev.herald.server;

import dev.herald.core.auth.Authenticator;
import dev.herald.core.auth.ChannelAuthorizer;
import dev.herald.core.broker.Broker;
import dev.herald.core.hub.Hub;
import dev.herald.core.presence.PresenceStore;
import dev.herald.core.time.Scheduler;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.ProtocolVersion;
import dev.herald.protocol.StreamPosition;
import dev.herald.server.auth.ApiKeys;
import dev.herald.server.auth.JwtAuthenticator;
import dev.herald.server.config.HeraldConfig;
import dev.herald.server.fallback.FallbackEndpoints;
import dev.herald.server.fallback.UpgradeDiagnostics;
import dev.herald.server.http.HttpErrors;
import dev.herald.server.http.OriginPolicy;
import dev.herald.server.http.PublishHandler;
import dev.herald.server.websocket.WebSocketEndpoint;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
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
  private final JwtAuthenticator jwt;
  private Vertx vertx;
  private Hub hub;
  private HttpServer server;
  private UpgradeDiagnostics diagnostics;
  private FallbackEndpoints fallback;

  private Herald(Builder b) {
    this.config = b.config;
    this.builder = b;
    this.jwt =
        config.jwtSecrets().isEmpty()
            ? null
            : new JwtAuthenticator(
                config.jwtSecrets(),
                config.jwtIssuer(),
                b.scheduler != null ? b.scheduler::nowMillis : System::currentTimeMillis);
    Authenticator a = b.authenticator != null ? b.authenticator : jwt;
    if (a == null) {
      throw new IllegalStateException(
          "no authenticator: configure auth.jwt.secrets or pass one to the builder");
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
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    Hub.Builder hb =
        Hub.builder()
            .config(config.hub())
            .namespaces(config.namespaces())
            .authenticator(authenticator)
            .authorizer(builder.authorizer)
            .broker(builder.broker)
            .presenceStore(builder.presence)
            .scheduler(builder.scheduler);
    hub = hb.build();

    Router router = Router.router(vertx);
    OriginPolicy origins = new OriginPolicy(config.allowedOrigins());
    WebSocketEndpoint ws = new WebSocketEndpoint(vertx, hub, origins, config.websocketEnabled());
    router.get(config.websocketPath()).handler(ws::handle);
    diagnostics = new UpgradeDiagnostics();
    new FallbackEndpoints(vertx, hub, config, origins, new ApiKeys(config.apiKeys()), diagnostics)
        .install(router);
    PublishHandler publish = new PublishHandler(hub, new ApiKeys(config.apiKeys()));
    router
        .post("/api/v1/publish")
        .handler(BodyHandler.create(false).setBodyLimit(config.hub().maxMessageBytes()))
        .handler(publish::handle);
    router.get("/health/live").handler(ctx -> json(ctx, 200, "{\"status\":\"up\"}"));
    router
        .get("/health/ready")
        .handler(
            ctx -> {
              if (hub.accepting()) {
                json(ctx, 200, "{\"status\":\"ready\"}");
              } else {
                json(ctx, 503, "{\"status\":\"draining\"}");
              }
            });
    // The browser client, at a stable path so pages can import it without a build step.
    router
        .get("/herald/*")
        .handler(
            StaticHandler.create("webroot/herald")
                .setDefaultContentEncoding("UTF-8")
                .setMaxAgeSeconds(300));
    if (config.demoEnabled()) {
      DemoRoutes.install(router, jwt);
    }
    if (builder.routes != null) {
      builder.routes.accept(router);
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
            .setMaxWebSocketFrameSize(
                WebSocketEndpoint.hardFrameCeiling(config.hub().maxMessageBytes()))
            .setMaxWebSocketMessageSize(
                WebSocketEndpoint.hardFrameCeiling(config.hub().maxMessageBytes()))
            .setPerMessageWebSocketCompressionSupported(config.websocketCompression())
            .setPerFrameWebSocketCompressionSupported(config.websocketCompression())
            .addWebSocketSubProtocol(ProtocolVersion.WEBSOCKET_SUBPROTOCOL);
    CompletableFuture<Herald> started = new CompletableFuture<>();
    vertx
        .createHttpServer(options)
        .requestHandler(router)
        .listen()
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                server = ar.result();
                log.info(
                    "Herald listening on {}:{} (node {}, websocket {})",
                    config.host(),
                    server.actualPort(),
                    config.hub().node(),
                    config.websocketEnabled() ? "on" : "off");
                started.complete(this);
              } else {
                // Could not listen (port taken...): release everything so the caller can retry.
                Vertx failed = vertx;
                vertx = null;
                hub.close();
                failed.close();
                started.completeExceptionally(ar.cause());
              }
            });
    return started;
  }

  /** The bound port (useful when configured with port 0). */
  public int port() {
    return server.actualPort();
  }

  public Hub hub() {
    return hub;
  }

  public HeraldConfig config() {
    return config;
  }

  /** What clients reported about transports that failed them. */
  public UpgradeDiagnostics diagnostics() {
    return diagnostics;
  }

  /** The JWT authenticator built from auth.jwt.secrets, or null when none is configured. */
  public JwtAuthenticator jwt() {
    return jwt;
  }

  /** Publishes JSON text to a channel. */
  public CompletableFuture<StreamPosition> publish(String channel, String json) {
    try {
      return hub.publish(channel, hub.codec().parseRaw(json));
    } catch (ProtocolException e) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException("data is not valid JSON: " + e.getMessage()));
    }
  }

  /**
   * Graceful stop: refuses new connections, disconnects clients with a suggested reconnect delay
   * (close code 4001), waits up to {@code drain} for them to go, then closes everything.
   */
  public synchronized CompletableFuture<Void> stop(Duration drain) {
    if (vertx == null) {
      return CompletableFuture.completedFuture(null);
    }
    Vertx v = vertx;
    vertx = null;
    hub.shutdown();
    CompletableFuture<Void> done = new CompletableFuture<>();
    long deadline = System.nanoTime() + drain.toNanos();
    v.setPeriodic(
        20,
        id -> {
          // HTTP sessions count until their disconnect message was picked up by the client.
          boolean drained =
              hub.stats().sessions() == 0 && (fallback == null || fallback.sessionCount() == 0);
          if (drained || System.nanoTime() > deadline) {
            v.cancelTimer(id);
            v.close()
                .onComplete(
                    ar -> {
                      hub.close();
                      done.complete(null);
                    });
          }
        });
    return done;
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(2)).join();
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
    private Authenticator authenticator;
    private ChannelAuthorizer authorizer;
    private Broker broker;
    private PresenceStore presence;
    private Scheduler scheduler;
    private Consumer<Router> routes;

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

    /** Adds the application's own HTTP routes to the server's router. */
    public Builder routes(Consumer<Router> v) {
      routes = v;
      return this;
    }

    public Herald build() {
      return new Herald(this);
    }
  }
}
