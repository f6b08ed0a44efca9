package dev.herald.redis;

import dev.herald.core.broker.Broker;
import dev.herald.core.broker.BrokerEventHandler;
import dev.herald.core.broker.Epochs;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.HistoryResult;
import dev.herald.core.broker.IdempotencyKey;
import dev.herald.core.broker.PresenceEvent;
import dev.herald.core.limits.WarnLimiter;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A broker for a cluster of nodes sharing one Redis (or Sentinel's master, or a Redis Cluster whose
 * masters each hold some channels: every key of a channel shares its hash slot, so each script runs
 * on the channel's one master; see {@link ClusterConnector}). See {@link Scripts} for the data
 * layout.
 *
 * <p><b>Ordering.</b> A Lua script assigns the offset, appends to the channel's stream and
 * PUBLISHes in one atomic step, so Redis sends each channel's publications to every node in offset
 * order. A node delivers to its hub only from pub/sub (also its own publications), one channel's
 * events in order, on one Vert.x context.
 *
 * <p><b>No silent gaps.</b> Each node tracks, per subscribed channel, the epoch and the last offset
 * it delivered. A publication that skips offsets (pub/sub lost messages while the connection was
 * down) is held while the missing ones are read from the stream; those are delivered first. If the
 * stream no longer has them, or the epoch changed, the hub is told with {@link
 * BrokerEventHandler#onStreamReset} so each subscriber resubscribes and learns whether it
 * recovered.
 *
 * <p><b>Redis down.</b> Publishing fails with error 115 (unavailable); {@link #healthy()} is false
 * while the pub/sub connection is down; it is re-opened with jittered backoff, then every channel
 * is subscribed again and caught up from its stream as above.
 *
 * <p><b>Streams in use do not expire.</b> A channel's epoch and offset expire after its stream TTL
 * without publications, so that Redis does not keep every channel name ever used. While this node
 * subscribes to a channel it renews that expiry (every third of the TTL), so a quiet channel that
 * clients are watching keeps its epoch; once no node subscribes, the TTL runs out.
 */
public final class RedisBroker implements Broker {
  private static final Logger log = LoggerFactory.getLogger(RedisBroker.class);

  private final RedisSettings settings;
  private final Connector redis;
  private final JsonCodec codec;
  private final Vertx vertx;
  private final String topicPrefix;
  // Subscribed channels; only touched on the connector's context.
  private final Map<String, ChannelFeed> channels = new HashMap<>();
  private volatile @Nullable BrokerEventHandler handler;

  private BrokerEventHandler handler() {
    return Objects.requireNonNull(handler, "the broker was not started");
  }

  public RedisBroker(Vertx vertx, RedisSettings settings, JsonCodec codec) {
    this(vertx, settings, codec, MAX_PENDING);
  }

  RedisBroker(Vertx vertx, RedisSettings settings, JsonCodec codec, int maxPending) {
    this.settings = settings;
    this.codec = codec;
    this.vertx = vertx;
    this.redis = Connector.open(vertx, settings);
    this.topicPrefix = settings.topic("");
    this.feeds =
        new ChannelFeed.Support(
            this::readStream,
            task -> redis.context().runOnContext(x -> task.run()),
            redis::later,
            settings.reconnectMin().toMillis(),
            settings.reconnectMax().toMillis(),
            new WarnLimiter(CATCH_UP_WARN_INTERVAL_MS, System::currentTimeMillis),
            maxPending);
  }

  /** Least time between two warnings about failed catch-ups (others are counted). */
  static final long CATCH_UP_WARN_INTERVAL_MS = 10_000;

  private final ChannelFeed.Support feeds;

  @Override
  public void start(BrokerEventHandler handler) {
    this.handler = handler;
    redis.start(this::onMessage, this::resubscribeAll);
    redis
        .context()
        .runOnContext(
            v -> keepAliveTimer = vertx.setPeriodic(KEEP_ALIVE_PERIOD_MS, id -> keepAlive()));
  }

  /** How often subscribed streams are checked for an expiry to renew. */
  static final long KEEP_ALIVE_PERIOD_MS = 250;

  private long keepAliveTimer = -1;

  /** Renews the expiry of the subscribed streams whose renewal is due. On the context. */
  private void keepAlive() {
    if (!redis.up()) {
      return;
    }
    long now = System.currentTimeMillis();
    for (ChannelFeed st : channels.values()) {
      if (st.streamTtlMillis > 0 && st.nextKeepAlive <= now) {
        st.nextKeepAlive = now + Math.max(KEEP_ALIVE_PERIOD_MS, st.streamTtlMillis / 3);
        // PEXPIRE only renews: a stream Redis lost stays lost (the next publication starts a new
        // epoch, which resets the subscribers).
        redis
            .send(
                settings.key(st.channel, "m"),
                Request.cmd(Command.PEXPIRE)
                    .arg(settings.key(st.channel, "m"))
                    .arg(st.streamTtlMillis))
            .exceptionally(e -> null);
      }
    }
  }

  @Override
  public boolean healthy() {
    return redis.up();
  }

  @Override
  public CompletableFuture<StreamPosition> publish(
      String channel,
      RawJson data,
      @Nullable String user,
      HistoryPolicy history,
      @Nullable IdempotencyKey once) {
    String epoch = Epochs.next();
    return redis
        .eval(
            settings.key(channel, "m"),
            once == null ? Scripts.PUBLISH : Scripts.PUBLISH_ONCE,
            (r, server) -> {
              r.arg(once == null ? 2 : 3)
                  .arg(settings.key(channel, "m"))
                  .arg(settings.key(channel, "h"));
              if (once != null) {
                // Same hash slot as the channel's stream ({channel} tag): one slot per script.
                r.arg(settings.key(channel, "i:" + once.value()));
              }
              r.arg(epoch)
                  .arg(data.json())
                  .arg(encodeUser(user))
                  .arg(history.size())
                  .arg(history.ttlMillis())
                  .arg(history.streamTtlMillis())
                  .arg(settings.topic(channel));
              if (once != null) {
                r.arg(once.windowMillis());
              }
              r.arg(server);
            })
        .thenApply(res -> new StreamPosition(res.get(0).toString(), res.get(1).toLong()));
  }

  @Override
  public CompletableFuture<Void> publishPresence(PresenceEvent event) {
    String msg = "e" + codec.encodeToString(event.toMessage());
    return redis
        .send(Request.cmd(Command.PUBLISH).arg(settings.topic(event.channel())).arg(msg))
        .thenApply(r -> null);
  }

  @Override
  public CompletableFuture<Void> subscribe(String channel, HistoryPolicy history) {
    CompletableFuture<Void> out = new CompletableFuture<>();
    redis
        .context()
        .runOnContext(
            v -> {
              long now = System.currentTimeMillis();
              ChannelFeed st = channels.get(channel);
              if (st != null) {
                st.keepAlive(history.streamTtlMillis(), now);
                st.whenReady(out);
                return;
              }
              ChannelFeed created = new ChannelFeed(channel, handler(), feeds);
              created.keepAlive(history.streamTtlMillis(), now);
              channels.put(channel, created);
              created.whenReady(out);
              if (redis.up()) {
                subscribeAndSync(created);
              } else {
                channels.remove(channel);
                created.detach();
                created.failReady(RedisConnector.unavailable(null));
              }
            });
    return out;
  }

  @Override
  public CompletableFuture<Void> unsubscribe(String channel) {
    CompletableFuture<Void> out = new CompletableFuture<>();
    redis
        .context()
        .runOnContext(
            v -> {
              ChannelFeed removed = channels.remove(channel);
              if (removed != null) {
                removed.detach();
              }
              if (removed == null || !redis.up()) {
                out.complete(null);
                return;
              }
              var unused =
                  redis
                      .sendSubscriber(Request.cmd(Command.UNSUBSCRIBE).arg(settings.topic(channel)))
                      .whenComplete((r, err) -> out.complete(null));
            });
    return out;
  }

  @Override
  public CompletableFuture<HistoryResult> history(
      String channel, long afterOffset, HistoryPolicy history) {
    return readStream(channel, afterOffset, history.streamTtlMillis())
        .thenApply(
            s -> {
              // Entries older than the history TTL are no longer history (trimmed on read).
              long oldest = s.now() - history.ttlMillis();
              List<Pub> kept = new ArrayList<>(s.pubs().size());
              for (Pub p : s.pubs()) {
                if (p.ts() >= oldest) {
                  kept.add(p);
                }
              }
              return new HistoryResult(s.top(), kept);
            });
  }

  @Override
  public void close() {
    redis
        .context()
        .runOnContext(
            v -> {
              if (keepAliveTimer >= 0) {
                vertx.cancelTimer(keepAliveTimer);
              }
            });
    redis.close();
  }

  /** Drops the pub/sub connection as a network failure would. For failure tests. */
  public void simulateConnectionLoss() {
    redis.reset(new IllegalStateException("connection reset for a test"));
  }

  // ------------------------------------------------------------------ stream reads

  /** The channel's position and its stream entries with offset > afterOffset (none if MAX). */
  private CompletableFuture<ChannelFeed.StreamRead> readStream(
      String channel, long after, long streamTtl) {
    String start = after == Long.MAX_VALUE ? "" : (after + 1) + "-0";
    String newEpoch = Epochs.next();
    return redis
        .eval(
            settings.key(channel, "m"),
            Scripts.HISTORY,
            (r, server) ->
                r.arg(2)
                    .arg(settings.key(channel, "m"))
                    .arg(settings.key(channel, "h"))
                    .arg(newEpoch)
                    .arg(start)
                    .arg(streamTtl)
                    .arg(server))
        .thenApply(
            res -> {
              String epoch = res.get(0).toString();
              long top = res.get(1).toLong();
              long now = res.get(2).toLong();
              List<Pub> pubs = new ArrayList<>();
              for (Response entry : res.get(3)) {
                pubs.add(fromStream(channel, epoch, entry));
              }
              return new ChannelFeed.StreamRead(new StreamPosition(epoch, top), now, pubs);
            });
  }

  private Pub fromStream(String channel, String epoch, Response entry) {
    String id = entry.get(0).toString();
    long offset = Long.parseLong(id.substring(0, id.indexOf('-')));
    Response fields = entry.get(1);
    String data = null;
    String user = "";
    long ts = 0;
    for (int i = 0; i + 1 < fields.size(); i += 2) {
      String f = fields.get(i).toString();
      switch (f) {
        case "d" -> data = fields.get(i + 1).toString(StandardCharsets.UTF_8);
        case "u" -> user = fields.get(i + 1).toString(StandardCharsets.UTF_8);
        case "t" -> ts = Long.parseLong(fields.get(i + 1).toString());
        default -> {}
      }
    }
    if (data == null) {
      throw new IllegalStateException("entry " + id + " of " + channel + " has no data");
    }
    return new Pub(channel, epoch, offset, ts, raw(data), decodeUser(user));
  }

  // ------------------------------------------------------------------ pub/sub (on the context)

  private void onMessage(Response r) {
    if (r.size() < 3 || !"message".equals(r.get(0).toString())) {
      return; // subscribe confirmations and the like
    }
    String topic = r.get(1).toString();
    if (!topic.startsWith(topicPrefix)) {
      return;
    }
    String channel = topic.substring(topicPrefix.length());
    ChannelFeed st = channels.get(channel);
    if (st == null) {
      return; // unsubscribed meanwhile
    }
    String payload = r.get(2).toString(StandardCharsets.UTF_8);
    ChannelFeed.Event e;
    try {
      e = parse(channel, payload);
    } catch (RuntimeException ex) {
      log.warn("ignoring a malformed message on {}: {}", topic, ex.toString());
      return;
    }
    st.offer(e);
  }

  /** After every (re)connect: subscribe each channel again and catch up from its stream. */
  private void resubscribeAll() {
    for (ChannelFeed st : new ArrayList<>(channels.values())) {
      subscribeAndSync(st);
    }
  }

  private void subscribeAndSync(ChannelFeed st) {
    st.hold(); // hold pub/sub events until the position is known
    // The callback handles the outcome; its own future carries nothing more.
    var unused =
        redis
            .sendSubscriber(Request.cmd(Command.SUBSCRIBE).arg(settings.topic(st.channel)))
            .whenComplete(
                (r, err) ->
                    redis
                        .context()
                        .runOnContext(
                            v -> {
                              if (channels.get(st.channel) != st) {
                                return;
                              }
                              if (err != null) {
                                if (st.failReady(err)) {
                                  channels.remove(st.channel, st);
                                  st.detach();
                                  return;
                                }
                                // The channel's events stay held until it is subscribed again: by
                                // the next reconnect if the connection dropped, else by this retry
                                // (a SUBSCRIBE that timed out on a connection still open).
                                log.warn(
                                    "subscribing channel {} again failed ({}); retrying",
                                    st.channel,
                                    err.getMessage());
                                redis.later(
                                    settings.reconnectMax().toMillis(),
                                    () -> {
                                      if (channels.get(st.channel) == st && redis.up()) {
                                        subscribeAndSync(st);
                                      }
                                    });
                                return;
                              }
                              st.markReady();
                              st.sync();
                            }));
  }

  /** Events held per channel while it catches up from its stream. */
  static final int MAX_PENDING = 10_000;

  // ------------------------------------------------------------------ encoding

  /** "p" epoch LF offset LF ts LF user LF data, or "e" + an encoded join/leave/update. */
  private ChannelFeed.Event parse(String channel, String payload) {
    char kind = payload.charAt(0);
    if (kind == 'e') {
      ServerMessage m;
      try {
        m = codec.decodeServer(payload.substring(1));
      } catch (ProtocolException ex) {
        throw new IllegalArgumentException(ex.getMessage(), ex);
      }
      PresenceEvent ev;
      if (m instanceof ServerMessage.Join j) {
        ev = new PresenceEvent(PresenceEvent.Kind.JOIN, channel, j.client());
      } else if (m instanceof ServerMessage.Leave l) {
        ev = new PresenceEvent(PresenceEvent.Kind.LEAVE, channel, l.client());
      } else if (m instanceof ServerMessage.PresenceUpdate u) {
        ev = new PresenceEvent(PresenceEvent.Kind.UPDATE, channel, u.client());
      } else {
        throw new IllegalArgumentException("not a presence event");
      }
      return new ChannelFeed.PresenceMsg(ev);
    }
    if (kind != 'p') {
      throw new IllegalArgumentException("unknown event kind " + kind);
    }
    int a = payload.indexOf('\n');
    int b = payload.indexOf('\n', a + 1);
    int c = payload.indexOf('\n', b + 1);
    int d = payload.indexOf('\n', c + 1);
    String epoch = payload.substring(1, a);
    long offset = Long.parseLong(payload.substring(a + 1, b));
    long ts = Long.parseLong(payload.substring(b + 1, c));
    String user = decodeUser(payload.substring(c + 1, d));
    return new ChannelFeed.PubMsg(
        new Pub(channel, epoch, offset, ts, raw(payload.substring(d + 1)), user));
  }

  private RawJson raw(String json) {
    try {
      return codec.parseRaw(json);
    } catch (ProtocolException e) {
      throw new IllegalArgumentException("stored data is not JSON", e);
    }
  }

  static String encodeUser(@Nullable String user) {
    return user == null ? "" : "+" + URLEncoder.encode(user, StandardCharsets.UTF_8);
  }

  static @Nullable String decodeUser(String s) {
    return s.isEmpty() ? null : URLDecoder.decode(s.substring(1), StandardCharsets.UTF_8);
  }
}
