package dev.herald.redis;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's live nodes and where other nodes reach them: one key per node holding its internal
 * URL, refreshed every third of the presence TTL and whenever the connection to Redis is
 * re-established (so a Redis restarted empty knows the node again at once). A node that dies drops
 * out within one TTL. Used to route HTTP-fallback requests to the node that owns the session.
 */
public final class RedisNodeRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisNodeRegistry.class);

  private final Vertx vertx;
  private final RedisSettings settings;
  private final Connector redis;
  private volatile @Nullable String url;
  private final long timer;

  public RedisNodeRegistry(Vertx vertx, RedisSettings settings) {
    this(vertx, settings, Math.max(100, settings.presenceTtl().toMillis() / 3));
  }

  /** With the given refresh period (tests stretch it to show what the reconnect alone does). */
  RedisNodeRegistry(Vertx vertx, RedisSettings settings, long refreshMillis) {
    this.vertx = vertx;
    this.settings = settings;
    this.redis = Connector.open(vertx, settings);
    // Also on every reconnect: a Redis that restarted empty knows this node again at once, not
    // only after the next refresh (until then other nodes would think its sessions are gone).
    // Each refresh handles its own failure (the next one retries).
    this.timer =
        redis.startWithHeartbeat(
            refreshMillis,
            () -> {
              var unused = refresh();
            });
  }

  /** Announces this node at {@code internalUrl} (e.g. {@code http://10.0.0.5:8080}). */
  public CompletableFuture<Void> register(String internalUrl) {
    this.url = internalUrl;
    return refresh();
  }

  /** Where a live node can be reached, or empty if it is not (or no longer) in the cluster. */
  public CompletableFuture<Optional<String>> lookup(String node) {
    return redis
        .send(key(node), Request.cmd(Command.GET).arg(key(node)))
        .thenApply(r -> r == null ? Optional.<String>empty() : Optional.of(r.toString()));
  }

  private CompletableFuture<Void> refresh() {
    String u = url;
    if (u == null) {
      return CompletableFuture.completedFuture(null);
    }
    return redis
        .send(
            key(settings.node()),
            Request.cmd(Command.SET)
                .arg(key(settings.node()))
                .arg(u)
                .arg("PX")
                .arg(settings.presenceTtl().toMillis()))
        .handle(
            (r, err) -> {
              if (err != null) {
                log.debug("node heartbeat failed: {}", err.toString());
              }
              return null;
            });
  }

  private String key(String node) {
    return settings.prefix() + ":node:" + node;
  }

  @Override
  public void close() {
    vertx.cancelTimer(timer);
    String u = url;
    url = null;
    if (u != null) {
      // Leave the cluster at once rather than after the TTL.
      // The callback handles the outcome; its own future carries nothing more.
      var unused =
          redis
              .send(key(settings.node()), Request.cmd(Command.DEL).arg(key(settings.node())))
              .whenComplete((r, e) -> redis.close());
    } else {
      redis.close();
    }
  }
}
