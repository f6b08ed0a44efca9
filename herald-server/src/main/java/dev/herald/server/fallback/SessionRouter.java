package dev.herald.server.fallback;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends an HTTP-fallback request that reached a node other than its session's owner to the owner,
 * and relays the owner's answer unchanged (status, headers, body), so polls, acknowledgements and
 * command POSTs keep their semantics whichever node the load balancer picked. The owner is found by
 * node name (the session id starts with it) in the cluster's node registry. If it is gone, the
 * client gets the usual 404 {@code session-unknown} and opens a new session, recovering from its
 * positions.
 */
final class SessionRouter {
  private static final Logger log = LoggerFactory.getLogger(SessionRouter.class);

  /** Marks a routed request; the owner never routes it again. */
  static final String FORWARDED = "X-Herald-Routed-From";

  private static final Set<String> HOP_BY_HOP =
      Set.of(
          "connection",
          "keep-alive",
          "transfer-encoding",
          "te",
          "upgrade",
          "proxy-connection",
          "host",
          "content-length");

  private final Function<String, CompletableFuture<Optional<String>>> lookup;
  private final HttpClient http;
  private final String self;
  private final long timeoutMs;

  SessionRouter(
      Vertx vertx,
      String self,
      Function<String, CompletableFuture<Optional<String>>> lookup,
      Duration timeout) {
    this.self = self;
    this.lookup = lookup;
    this.timeoutMs = timeout.toMillis();
    this.http =
        vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setConnectTimeout(2000));
  }

  /** The node that owns a session id ({@code <node>.<random>}), or null if none can be read. */
  static String owner(String sessionId) {
    if (sessionId == null) {
      return null;
    }
    int dot = sessionId.lastIndexOf('.');
    return dot <= 0 ? null : sessionId.substring(0, dot);
  }

  /** Whether this request should go to another node. */
  boolean routes(RoutingContext ctx, String owner) {
    return owner != null && !owner.equals(self) && ctx.request().getHeader(FORWARDED) == null;
  }

  /**
   * Forwards the request to the owner; {@code unknown} answers it when the owner is gone. {@code
   * holdMs} is how long the owner may legitimately hold the request (a long poll).
   */
  void forward(RoutingContext ctx, String owner, long holdMs, Runnable unknown) {
    lookup
        .apply(owner)
        .whenComplete(
            (url, err) -> {
              if (err != null) {
                log.debug("cannot look up node {}: {}", owner, err.toString());
                unavailable(ctx);
              } else if (url.isEmpty()) {
                unknown.run();
              } else {
                send(ctx, url.get(), holdMs, unknown);
              }
            });
  }

  private void send(RoutingContext ctx, String base, long holdMs, Runnable unknown) {
    java.net.URI u = java.net.URI.create(base);
    RequestOptions o =
        new RequestOptions()
            .setMethod(ctx.request().method())
            .setHost(u.getHost())
            .setPort(u.getPort() > 0 ? u.getPort() : 80)
            .setURI(ctx.request().uri())
            .setIdleTimeout(holdMs + timeoutMs);
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    ctx.request()
        .headers()
        .forEach(
            (k, v) -> {
              if (!HOP_BY_HOP.contains(k.toLowerCase(Locale.ROOT))) {
                headers.add(k, v);
              }
            });
    headers.set(FORWARDED, self);
    o.setHeaders(headers);
    Buffer body =
        ctx.request().method() == HttpMethod.POST && ctx.body() != null
            ? ctx.body().buffer()
            : null;
    http.request(o)
        .compose(req -> body == null ? req.send() : req.send(body))
        .compose(res -> res.body().map(b -> new Answer(res.statusCode(), res.headers(), b)))
        .onComplete(
            ar -> {
              if (ctx.response().ended() || ctx.response().closed()) {
                return;
              }
              if (ar.failed()) {
                // Owner unreachable: it is gone (killed, partitioned); its sessions are over.
                log.debug("routing to {} failed: {}", base, ar.cause().toString());
                unknown.run();
                return;
              }
              Answer a = ar.result();
              var res = ctx.response().setStatusCode(a.status);
              a.headers.forEach(
                  (k, v) -> {
                    if (!HOP_BY_HOP.contains(k.toLowerCase(Locale.ROOT))) {
                      res.headers().add(k, v);
                    }
                  });
              res.end(a.body);
            });
  }

  private static void unavailable(RoutingContext ctx) {
    ctx.response().putHeader("Retry-After", "1");
    FallbackEndpoints.refuse(
        ctx, 503, "cluster-unavailable", "The session's node cannot be looked up right now");
  }

  private record Answer(int status, MultiMap headers, Buffer body) {}
}
