package dev.herald.redis;

import dev.herald.core.limits.UserConnections;
import dev.herald.core.limits.WarnLimiter;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code limits.connections-per-user} counted across the cluster. Per user, a sorted set {@code
 * <prefix>:user:{<user>}:conns} maps each connected session ({@code <node>/<connection id>}) to the
 * time its entry expires. A connect runs one script that drops expired entries, compares the count
 * with the limit and adds the connection, atomically, so two nodes admitting the same user at once
 * cannot both take the last place. Each node refreshes the expiry of its own connections every
 * third of the presence TTL and rewrites them whenever its connection to Redis is re-established (a
 * Redis restarted empty counts them again at once); a node that dies without releasing (kill -9,
 * lost host) stops counting within one TTL. Expiry is Redis's own clock ({@code TIME}), so the
 * nodes' clocks do not matter.
 *
 * <p>While Redis cannot be reached (or a command fails) the node fails open to its own count: it
 * admits a user holding fewer than the limit on this node, as a node on its own does, and warns
 * (rate-limited). Refusing everyone instead would turn a Redis outage into an outage for every
 * reconnecting client; the per-node bound keeps a flood from one account limited meanwhile. The
 * connections admitted then are written to Redis with the next heartbeat; a user left above the
 * limit that way keeps them, and new ones are refused until it is below again.
 *
 * <p>Every change to this node's connections and the command that carries it to Redis happen
 * together on the connector's context, one at a time, so a heartbeat that read the connections
 * before a release is sent before that release's command and cannot bring it back.
 */
public final class RedisUserConnections implements UserConnections {
  private static final Logger log = LoggerFactory.getLogger(RedisUserConnections.class);

  private final Vertx vertx;
  private final RedisSettings settings;
  private final Connector redis;
  // This node's counted connections: user -> members. Only touched on the connector's context.
  private final Map<String, Set<String>> local = new HashMap<>();
  private final WarnLimiter warnings = new WarnLimiter(10_000, System::currentTimeMillis);
  private final Executor onContext;
  private final long timer;

  public RedisUserConnections(Vertx vertx, RedisSettings settings) {
    this(vertx, settings, Math.max(100, settings.presenceTtl().toMillis() / 3));
  }

  /** With the given heartbeat period (tests stretch it to show what the reconnect alone does). */
  RedisUserConnections(Vertx vertx, RedisSettings settings, long heartbeatMillis) {
    this.vertx = vertx;
    this.settings = settings;
    this.redis = Connector.open(vertx, settings);
    this.onContext = task -> redis.context().runOnContext(v -> task.run());
    // A heartbeat logs what failed, and the next one writes the connections again.
    this.timer =
        redis.startWithHeartbeat(
            heartbeatMillis,
            () -> {
              var unused = heartbeat();
            });
  }

  @Override
  public CompletableFuture<Boolean> acquire(String userId, String connectionId, int limit) {
    if (limit <= 0) {
      return CompletableFuture.completedFuture(true);
    }
    String member = member(connectionId);
    CompletableFuture<Boolean> out = new CompletableFuture<>();
    redis
        .context()
        .runOnContext(
            v -> {
              // The callback completes the answer; its own future carries nothing more.
              var unused =
                  redis
                      .eval(
                          key(userId),
                          Scripts.USER_CONNECTION_ADD,
                          (r, server) ->
                              r.arg(1)
                                  .arg(key(userId))
                                  .arg(settings.presenceTtl().toMillis())
                                  .arg(limit)
                                  .arg(member))
                      .whenCompleteAsync(
                          (r, err) -> {
                            boolean admitted;
                            if (err == null) {
                              admitted = r != null && r.toInteger() == 1;
                            } else {
                              Set<String> mine = local.get(userId);
                              admitted = mine == null || mine.size() < limit;
                              long held = warnings.admit();
                              if (held >= 0) {
                                log.warn(
                                    "cannot count connections across the cluster ({} more since the"
                                        + " last report), counting this node's only: {}",
                                    held,
                                    err.toString());
                              }
                            }
                            if (admitted) {
                              local.computeIfAbsent(userId, u -> new HashSet<>()).add(member);
                            }
                            out.complete(admitted);
                          },
                          onContext);
            });
    return out;
  }

  @Override
  public void release(String userId, String connectionId) {
    String member = member(connectionId);
    redis
        .context()
        .runOnContext(
            v -> {
              Set<String> mine = local.get(userId);
              if (mine == null || !mine.remove(member)) {
                return;
              }
              if (mine.isEmpty()) {
                local.remove(userId);
              }
              // A release that does not reach Redis expires with the node's heartbeats.
              var unused =
                  redis
                      .send(key(userId), Request.cmd(Command.ZREM).arg(key(userId)).arg(member))
                      .exceptionally(
                          err -> {
                            log.debug("releasing {} failed: {}", member, err.toString());
                            return null;
                          });
            });
  }

  /**
   * Refreshes (and rewrites) this node's connections, one script call per user, paced ({@link
   * Paced}): each call carries the user's connections as they are when it is sent. On the
   * connector's context.
   */
  private CompletableFuture<Void> heartbeat() {
    return Paced.send(
        onContext,
        new ArrayList<>(local.keySet()),
        Paced.WINDOW,
        user -> {
          Set<String> members = local.get(user);
          if (members == null || members.isEmpty()) {
            return CompletableFuture.completedFuture(null); // released meanwhile
          }
          return redis
              .eval(
                  key(user),
                  Scripts.USER_CONNECTION_REFRESH,
                  (r, server) -> {
                    r.arg(1).arg(key(user)).arg(settings.presenceTtl().toMillis());
                    members.forEach(r::arg);
                  })
              .exceptionally(
                  err -> {
                    log.debug("connection heartbeat for {} failed: {}", user, err.toString());
                    return null;
                  });
        });
  }

  /** Whether the connection to Redis is up (else acquiring counts this node's only); for tests. */
  boolean connected() {
    return redis.up();
  }

  private String member(String connectionId) {
    return settings.node() + "/" + connectionId;
  }

  private String key(String userId) {
    return settings.prefix() + ":user:{" + userId + "}:conns";
  }

  @Override
  public void close() {
    vertx.cancelTimer(timer);
    redis.close();
  }
}
