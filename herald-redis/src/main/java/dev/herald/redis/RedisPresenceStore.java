package dev.herald.redis;

import dev.herald.core.presence.PresenceStore;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.ServerMessage;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Presence shared by all nodes. Per channel, a sorted set maps each connection id to the time its
 * entry expires and a hash holds the entries. Each node refreshes the expiry of its own entries
 * every third of the presence TTL and rewrites them whenever its connection to Redis is
 * re-established; entries of a node that died without cleaning up (kill -9, lost host) therefore
 * disappear within one TTL, and readers drop them. Leave events are not sent for such entries: the
 * entry simply stops being listed.
 *
 * <p>Every change to this node's entries and the command that carries it to Redis happen together
 * on the connector's context, one at a time, so commands reach Redis in the order of the changes: a
 * refresh that read the entries before a removal is sent before that removal's command, never after
 * it, and so cannot bring the removed entry back.
 */
public final class RedisPresenceStore implements PresenceStore, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisPresenceStore.class);

  private final Vertx vertx;
  private final RedisSettings settings;
  private final Connector redis;
  private final JsonCodec codec;
  // This node's entries: channel -> client id -> encoded entry. Re-sent by every heartbeat.
  // Only touched on the connector's context.
  private final Map<String, Map<String, String>> local = new HashMap<>();
  private final long timer;

  public RedisPresenceStore(Vertx vertx, RedisSettings settings, JsonCodec codec) {
    this(vertx, settings, codec, Math.max(100, settings.presenceTtl().toMillis() / 3));
  }

  /** With the given heartbeat period (tests stretch it to show what the reconnect alone does). */
  RedisPresenceStore(Vertx vertx, RedisSettings settings, JsonCodec codec, long heartbeatMillis) {
    this.vertx = vertx;
    this.settings = settings;
    this.codec = codec;
    this.redis = Connector.open(vertx, settings);
    // A heartbeat logs what failed, and the next one writes the entries again.
    this.timer =
        redis.startWithHeartbeat(
            heartbeatMillis,
            () -> {
              var unused = heartbeat();
            });
  }

  @Override
  public CompletableFuture<Void> put(String channel, ClientInfo client) {
    String entry = codec.encodeToString(new ServerMessage.Join(channel, client));
    return onContext(
        () -> {
          local.computeIfAbsent(channel, c -> new HashMap<>()).put(client.client(), entry);
          return write(channel, Map.of(client.client(), entry));
        });
  }

  @Override
  public CompletableFuture<Void> remove(String channel, String clientId) {
    return onContext(
        () -> {
          Map<String, String> m = local.get(channel);
          if (m != null) {
            m.remove(clientId);
            if (m.isEmpty()) {
              local.remove(channel);
            }
          }
          return redis
              .eval(
                  settings.key(channel, "pz"),
                  Scripts.PRESENCE_REMOVE,
                  (r, server) ->
                      r.arg(2)
                          .arg(settings.key(channel, "pz"))
                          .arg(settings.key(channel, "pd"))
                          .arg(clientId))
              .thenApply(r -> null);
        });
  }

  /** Runs a change and sends its command on the connector's context; completes with the command. */
  private CompletableFuture<Void> onContext(
      java.util.function.Supplier<CompletableFuture<Void>> change) {
    CompletableFuture<Void> out = new CompletableFuture<>();
    redis
        .context()
        .runOnContext(
            v -> {
              CompletableFuture<Void> sent;
              try {
                sent = change.get();
              } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
              }
              // The callback handles the outcome; its own future carries nothing more.
              var unused =
                  sent.whenComplete(
                      (r, e) -> {
                        if (e != null) {
                          out.completeExceptionally(e);
                        } else {
                          out.complete(null);
                        }
                      });
            });
    return out;
  }

  @Override
  public CompletableFuture<List<ClientInfo>> get(String channel) {
    return redis
        .eval(
            settings.key(channel, "pz"),
            Scripts.PRESENCE_GET,
            (r, server) ->
                r.arg(2).arg(settings.key(channel, "pz")).arg(settings.key(channel, "pd")))
        .thenApply(
            res -> {
              List<ClientInfo> out = new ArrayList<>(res.size());
              for (Response r : res) {
                if (r == null) {
                  continue; // expired between the two reads
                }
                try {
                  if (codec.decodeServer(r.toString()) instanceof ServerMessage.Join j) {
                    out.add(j.client());
                  }
                } catch (ProtocolException e) {
                  log.warn("ignoring a malformed presence entry in {}", channel);
                }
              }
              return out;
            });
  }

  private CompletableFuture<Void> write(String channel, Map<String, String> entries) {
    return redis
        .eval(
            settings.key(channel, "pz"),
            Scripts.PRESENCE_PUT,
            (r, server) -> {
              r.arg(2)
                  .arg(settings.key(channel, "pz"))
                  .arg(settings.key(channel, "pd"))
                  .arg(settings.presenceTtl().toMillis());
              entries.forEach((id, e) -> r.arg(id).arg(e));
            })
        .thenApply(x -> null);
  }

  /**
   * Refreshes this node's entries. Also rewrites them, so after Redis lost its data the entries
   * come back within one heartbeat. One script call per channel, paced ({@link Paced}): each
   * carries the channel's entries as they are when it is sent. On the connector's context.
   */
  private CompletableFuture<Void> heartbeat() {
    return Paced.send(
        task -> redis.context().runOnContext(v -> task.run()),
        new ArrayList<>(local.keySet()),
        Paced.WINDOW,
        channel -> {
          Map<String, String> entries = local.get(channel);
          if (entries == null || entries.isEmpty()) {
            return CompletableFuture.completedFuture(null); // left meanwhile
          }
          return write(channel, Map.copyOf(entries))
              .exceptionally(
                  err -> {
                    log.debug("presence heartbeat for {} failed: {}", channel, err.toString());
                    return null;
                  });
        });
  }

  /** Runs the heartbeat now (as its timer does, on the connector's context); for tests. */
  CompletableFuture<Void> heartbeatNow() {
    return onContext(this::heartbeat);
  }

  @Override
  public void close() {
    vertx.cancelTimer(timer);
    redis.close();
  }
}
