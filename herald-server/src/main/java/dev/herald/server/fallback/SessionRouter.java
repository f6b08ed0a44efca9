package dev.herald.server.fallback;

import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.RoutingContext;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends an HTTP-fallback request that reached a node other than its session's owner to the owner,
 * and relays the owner's answer unchanged (status, headers, body), so polls, acknowledgements and
 * command POSTs keep their semantics whichever node the load balancer picked. The owner is found by
 * node name (the session id starts with it) in the cluster's node registry.
 *
 * <p>Only an owner that is confirmed gone (no longer in the registry) yields the usual 404 {@code
 * session-unknown}, after which the client opens a new session and recovers from its positions. A
 * relay that fails while the owner is still registered (a kept-alive connection closed under the
 * request, a refused connection while the owner restarts, a stalled owner) is retried on a fresh
 * connection, with backoff, within the request's time budget (the long poll's hold plus {@code
 * cluster.route-timeout}), looking the owner up again before each try. A POST is sent again only
 * when its connection was never opened (the owner cannot have taken its commands). When the budget
 * runs out with the owner still registered, a poll is answered 204 (nothing arrived; the owner
 * keeps the unacknowledged messages for the next poll) and any other request {@code 503
 * node-unreachable} with {@code Retry-After}.
 *
 * <p>Kept-alive connections to other nodes are dropped after less than half the owner's request
 * timeout ({@code server.request-timeout}), before the owner closes them as idle, so a request is
 * never written onto a connection the owner is closing.
 */
final class SessionRouter {
  private static final Logger log = LoggerFactory.getLogger(SessionRouter.class);

  /** Marks a routed request; the owner never routes it again. */
  static final String FORWARDED = "X-Herald-Routed-From";

  /** Longest pause between two tries of one relayed request. */
  private static final long MAX_BACKOFF_MS = 2_000;

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

  private final Vertx vertx;
  private final Function<String, CompletableFuture<Optional<String>>> lookup;
  private final HttpClient pooled;
  private final HttpClient fresh;
  private final String self;
  private final long timeoutMs;

  /**
   * @param timeout how long a relayed request may take beyond what the owner may legitimately hold
   *     it ({@code cluster.route-timeout})
   * @param ownerRequestTimeout the owners' {@code server.request-timeout}: they close a kept-alive
   *     connection that carries no request for between one and two of it
   */
  SessionRouter(
      Vertx vertx,
      String self,
      Function<String, CompletableFuture<Optional<String>>> lookup,
      Duration timeout,
      Duration ownerRequestTimeout) {
    this.vertx = vertx;
    this.self = self;
    this.lookup = lookup;
    this.timeoutMs = timeout.toMillis();
    int keepAlive = keepAliveSeconds(ownerRequestTimeout);
    this.pooled =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setKeepAlive(keepAlive > 0)
                .setKeepAliveTimeout(Math.max(1, keepAlive))
                .setConnectTimeout(2000));
    this.fresh =
        vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setConnectTimeout(2000));
  }

  /**
   * How long a relay connection may sit idle in the pool: under half the owner's request timeout
   * (the owner closes an idle kept-alive connection at one timeout at the earliest), or 0 (no
   * keep-alive) when that is under a second, the pool's granularity.
   */
  static int keepAliveSeconds(Duration ownerRequestTimeout) {
    return (int) Math.min(Integer.MAX_VALUE, ownerRequestTimeout.toMillis() / 2 / 1000);
  }

  /** The node that owns a session id ({@code <node>.<random>}), or null if none can be read. */
  static @Nullable String owner(@Nullable String sessionId) {
    if (sessionId == null) {
      return null;
    }
    int dot = sessionId.lastIndexOf('.');
    return dot <= 0 ? null : sessionId.substring(0, dot);
  }

  /** Whether this request should go to another node. */
  boolean routes(RoutingContext ctx, String owner) {
    return !owner.equals(self) && ctx.request().getHeader(FORWARDED) == null;
  }

  /**
   * Forwards the request to the owner; {@code unknown} answers it when the owner is gone. {@code
   * holdMs} is how long the owner may legitimately hold the request (a long poll).
   */
  void forward(RoutingContext ctx, String owner, long holdMs, Runnable unknown) {
    Context context = vertx.getOrCreateContext();
    Relay relay =
        new Relay(ctx, context, owner, unknown, System.nanoTime() / 1_000_000 + holdMs + timeoutMs);
    relay.attempt();
  }

  /** One request on its way to its owner, over one or more tries. */
  private final class Relay {
    private final RoutingContext ctx;
    private final Context context;
    private final String owner;
    private final Runnable unknown;
    private final long deadlineMs;
    private final @Nullable Buffer body; // a POST's only
    private int tries;
    private @Nullable Throwable lastFailure;
    // Set when no further try may be made: the next lookup only tells gone from unreachable.
    private boolean exhausted;

    Relay(RoutingContext ctx, Context context, String owner, Runnable unknown, long deadlineMs) {
      this.ctx = ctx;
      this.context = context;
      this.owner = owner;
      this.unknown = unknown;
      this.deadlineMs = deadlineMs;
      this.body =
          ctx.request().method().equals(HttpMethod.POST) && ctx.body() != null
              ? ctx.body().buffer()
              : null;
    }

    void attempt() {
      // The callback handles every outcome on the request's context.
      var unused =
          lookup
              .apply(owner)
              .whenComplete(
                  (url, err) ->
                      context.runOnContext(
                          v -> {
                            if (answered()) {
                              return;
                            }
                            if (err != null) {
                              log.debug("cannot look up node {}: {}", owner, err.toString());
                              unavailable(ctx);
                            } else if (url.isEmpty()) {
                              unknown
                                  .run(); // confirmed gone: left the registry (or its TTL ran out)
                            } else if (exhausted) {
                              giveUp();
                            } else {
                              send(url.get());
                            }
                          }));
    }

    private void send(String base) {
      java.net.URI u = java.net.URI.create(base);
      RequestOptions o =
          new RequestOptions()
              .setMethod(ctx.request().method())
              .setHost(u.getHost())
              .setPort(u.getPort() > 0 ? u.getPort() : 80)
              .setURI(ctx.request().uri())
              .setIdleTimeout(Math.max(1, remainingMs()));
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
      // The first try may reuse a kept-alive connection; any later one opens its own.
      HttpClient client = tries++ == 0 ? pooled : fresh;
      client
          .request(o)
          .compose(req -> body == null ? req.send() : req.send(body))
          .compose(res -> res.body().map(b -> new Answer(res.statusCode(), res.headers(), b)))
          .onComplete(
              ar -> {
                if (answered()) {
                  return;
                }
                if (ar.succeeded()) {
                  relay(ar.result());
                } else {
                  failed(base, ar.cause());
                }
              });
    }

    private void failed(String base, Throwable cause) {
      lastFailure = cause;
      // A POST that may have reached the owner is never sent twice (its commands would run
      // twice); one whose connection never opened is safe, and so is any poll (acknowledged) or
      // end of session (idempotent).
      boolean again = body == null || cause instanceof ConnectException;
      long pause = tries <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 100L << Math.min(tries - 2, 10));
      log.debug("relay {} to {} failed (try {}): {}", ctx.request().path(), base, tries, cause);
      if (again && remainingMs() > pause) {
        if (pause == 0) {
          attempt();
        } else {
          vertx.setTimer(pause, id -> attempt());
        }
      } else {
        // Out of tries: the owner may have gone meanwhile, which makes its sessions unknown.
        exhausted = true;
        attempt();
      }
    }

    private void giveUp() {
      log.debug(
          "node {} still registered but did not answer {} ({} tries): {}",
          owner,
          ctx.request().path(),
          tries,
          String.valueOf(lastFailure));
      if (ctx.request().method().equals(HttpMethod.GET)) {
        // A poll: nothing arrived within its time. The owner keeps whatever the client has not
        // acknowledged, so the next poll (with the same ack) loses nothing.
        ctx.response().setStatusCode(204).end();
      } else {
        ctx.response().putHeader("Retry-After", "1");
        FallbackEndpoints.refuse(
            ctx, 503, "node-unreachable", "The node holding this session does not answer");
      }
    }

    private void relay(Answer a) {
      var res = ctx.response().setStatusCode(a.status);
      a.headers.forEach(
          (k, v) -> {
            if (!HOP_BY_HOP.contains(k.toLowerCase(Locale.ROOT))) {
              res.headers().add(k, v);
            }
          });
      res.end(a.body);
    }

    private long remainingMs() {
      return deadlineMs - System.nanoTime() / 1_000_000;
    }

    private boolean answered() {
      return ctx.response().ended() || ctx.response().closed();
    }
  }

  private static void unavailable(RoutingContext ctx) {
    ctx.response().putHeader("Retry-After", "1");
    FallbackEndpoints.refuse(
        ctx, 503, "cluster-unavailable", "The session's node cannot be looked up right now");
  }

  private record Answer(int status, MultiMap headers, Buffer body) {}
}
