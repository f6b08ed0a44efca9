package dev.herald.core.hub;

import dev.herald.core.api.ServerApi;
import dev.herald.core.auth.Authenticator;
import dev.herald.core.auth.ChannelAction;
import dev.herald.core.auth.ChannelAuthorizer;
import dev.herald.core.auth.Principal;
import dev.herald.core.broker.Broker;
import dev.herald.core.broker.BrokerEventHandler;
import dev.herald.core.broker.ControlBus;
import dev.herald.core.broker.ControlMessage;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.IdempotencyKey;
import dev.herald.core.broker.MemoryBroker;
import dev.herald.core.broker.PresenceEvent;
import dev.herald.core.channel.ChannelName;
import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.channel.Namespaces;
import dev.herald.core.delivery.LoopDispatcher;
import dev.herald.core.delivery.SubscriberRegistry;
import dev.herald.core.limits.ConnectionCounter;
import dev.herald.core.limits.WarnLimiter;
import dev.herald.core.presence.MemoryPresenceStore;
import dev.herald.core.presence.PresenceStore;
import dev.herald.core.time.Scheduler;
import dev.herald.core.time.SystemScheduler;
import dev.herald.core.transport.EventLoop;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.CloseCode;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The hub: channels, subscriptions, ordered fan-out, recovery and presence for one node. Transports
 * hand it connections ({@link #openSession}); applications publish through it ({@link #publish}).
 * It knows nothing of HTTP or any framework.
 *
 * <p>Fan-out: a publication from the broker is encoded once; the same {@link OutboundMessage} goes
 * to every local subscriber. Subscribers are grouped by the event loop that owns their connection,
 * and each loop gets the publication once ({@link LoopDispatcher}): inline when the broker delivers
 * on that loop, else as one task for all its subscribers. No lock is held while writing.
 */
public final class Hub implements AutoCloseable {
  /** How long a server API call waits for other nodes unless told otherwise. */
  public static final java.time.Duration DEFAULT_API_TIMEOUT = java.time.Duration.ofSeconds(5);

  private static final char[] ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz".toCharArray();

  private final HubConfig config;
  private final Namespaces namespaces;
  private final Broker broker;
  private final PresenceStore presence;
  private final Authenticator authenticator;
  private final ChannelAuthorizer authorizer;
  private final Scheduler scheduler;
  private final boolean ownsScheduler;
  private final JsonCodec codec;
  private final SubscriberRegistry registry;
  private final HubMetrics metrics;
  private final ConnectionLog connectionLog;
  private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
  // One dispatcher per event loop with open sessions; counted so that it goes with its last one.
  private final java.util.Map<EventLoop, LoopDispatcher> dispatchers = new ConcurrentHashMap<>();
  private final java.util.Deque<Revocation> revoked =
      new java.util.concurrent.ConcurrentLinkedDeque<>();
  // Leaves (presence removal and leave event) sent to the stores and not answered yet.
  private final java.util.concurrent.atomic.AtomicInteger pendingCleanups =
      new java.util.concurrent.atomic.AtomicInteger();
  private final LongAdder publications = new LongAdder();
  private final LongAdder deliveries = new LongAdder();
  private final LongAdder slowConsumers = new LongAdder();
  private final ConnectionCounter perAddress;
  private final ConnectionCounter perUser;
  private volatile boolean accepting = true;
  private final ControlBus control;
  private final ClusterApi api;
  private final WarnLimiter controlWarnings;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Hub.class);

  private Hub(Builder b) {
    this.config = b.config;
    this.namespaces = new Namespaces(b.namespaces);
    this.ownsScheduler = b.scheduler == null;
    this.scheduler = b.scheduler == null ? new SystemScheduler() : b.scheduler;
    this.broker = b.broker == null ? new MemoryBroker(scheduler) : b.broker;
    this.presence = b.presence == null ? new MemoryPresenceStore() : b.presence;
    this.authenticator = Objects.requireNonNull(b.authenticator, "authenticator");
    this.authorizer = b.authorizer == null ? ChannelAuthorizer.namespaceRulesOnly() : b.authorizer;
    this.codec = b.codec == null ? new JsonCodec() : b.codec;
    this.registry = new SubscriberRegistry(broker);
    this.metrics = b.metrics == null ? HubMetrics.NONE : b.metrics;
    this.connectionLog = new ConnectionLog(scheduler);
    this.perAddress = new ConnectionCounter(config.abuse().connectionsPerAddress());
    this.perUser = new ConnectionCounter(config.abuse().connectionsPerUser());
    this.control = b.control == null ? ControlBus.local() : b.control;
    this.controlWarnings = new WarnLimiter(10_000, scheduler::nowMillis);
    this.api = new ClusterApi(this, control, scheduler, b.apiTimeout.toMillis());
    broker.start(new FanOut());
    control.start(this::onControl, api::answer);
  }

  public static Builder builder() {
    return new Builder();
  }

  // ------------------------------------------------------------------ public API

  /**
   * The server API of this node's cluster: connections, disconnects, unsubscribes, presence,
   * history, channels and nodes, cluster-wide over the control bus (docs/server-api.md).
   */
  public ServerApi api() {
    return api;
  }

  /**
   * Hands the hub a new client connection. The transport then feeds it frames with {@link
   * ClientSession#onText} and reports closure with {@link ClientSession#onTransportClosed}.
   */
  public ClientSession openSession(TransportConnection transport, ConnectionContext context) {
    LoopDispatcher d =
        dispatchers.compute(
            transport.loop(),
            (loop, existing) -> {
              LoopDispatcher x =
                  existing != null
                      ? existing
                      : new LoopDispatcher(
                          loop,
                          scheduler,
                          metrics::deliveryLatency,
                          config.writeDelay().toMillis());
              x.retain();
              return x;
            });
    ClientSession s = new ClientSession(this, transport, d, context, newClientId());
    sessions.add(s);
    if (!accepting) {
      s.disconnect(CloseCode.SHUTDOWN, CloseCode.SHUTDOWN.reason(), shutdownRetry());
    } else if (!perAddress.tryAcquire(context.remoteAddress())) {
      s.disconnect(
          CloseCode.CONNECTION_LIMIT,
          "more than " + perAddress.limit() + " connections from this address",
          0);
    } else {
      s.addressCounted(true);
      s.start();
    }
    return s;
  }

  /**
   * Whether a new connection from {@code remoteAddress} would be admitted under {@code
   * limits.connections-per-address}. Transports that can answer with an HTTP status (the fallbacks)
   * ask first and answer 429; {@link #openSession} enforces the limit in any case.
   */
  public boolean admitsAddress(String remoteAddress) {
    return accepting && perAddress.admits(remoteAddress);
  }

  /**
   * Ends a credential (logout, a revoked token): like {@link #disconnect}, and in addition a
   * connection that is still authenticating at this moment, whose principal matches once its {@code
   * connect} completes, is refused with {@code code} then. Revocations are remembered for the
   * connect timeout (plus a second): no connection can still be authenticating after that. Returns
   * how many connected sessions were told to close.
   */
  public int revoke(Predicate<Principal> which, CloseCode code, String reason) {
    long now = scheduler.nowMillis();
    revoked.addLast(
        new Revocation(which, code, reason, now + config.connectTimeout().toMillis() + 1000));
    forgetRevocations(now);
    return disconnect(which, code, reason);
  }

  /** A recent revocation matching a principal whose connect is completing, or null. */
  @Nullable Revocation revocationOf(Principal p) {
    long now = scheduler.nowMillis();
    forgetRevocations(now);
    for (Revocation r : revoked) {
      if (r.untilMillis() > now && r.which().test(p)) {
        return r;
      }
    }
    return null;
  }

  private void forgetRevocations(long now) {
    for (Revocation head = revoked.peekFirst();
        head != null && head.untilMillis() <= now;
        head = revoked.peekFirst()) {
      revoked.remove(head);
    }
  }

  /** A credential ended at some moment; connects completing before {@code untilMillis} check it. */
  record Revocation(Predicate<Principal> which, CloseCode code, String reason, long untilMillis) {}

  /**
   * Ends every connection whose principal matches, with {@code code} (e.g. {@link
   * CloseCode#FORBIDDEN} at logout, for the connections opened with the ended login session).
   * Returns how many connections were told to close; each closes on its own executor. To also
   * refuse connections still authenticating at this moment, use {@link #revoke}.
   */
  public int disconnect(Predicate<Principal> which, CloseCode code, String reason) {
    int n = 0;
    for (ClientSession s : sessions) {
      Principal p = s.principal();
      if (p != null && !s.isClosed() && which.test(p)) {
        s.disconnect(code, reason, 0);
        n++;
      }
    }
    return n;
  }

  /**
   * Checks again whether {@code userId} may keep each of its subscriptions on this node (call it
   * when the user's permissions shrink, e.g. removed from a project). Subscriptions the authorizer
   * now denies end at once: the client receives {@code unsubscribed} with code 103 and stops
   * getting the channel's publications. A subscribe of the user still in progress (authorized but
   * not live yet) is authorized again before it goes live, and answered {@code 103} if now denied.
   * Completes when every check has run; an authorizer failure (as opposed to a denial) keeps the
   * subscription and is logged.
   */
  public CompletableFuture<Void> revalidate(String userId) {
    tell(new ControlMessage(ControlMessage.Kind.REVALIDATE, userId, 0, ""));
    return revalidateHere(userId);
  }

  /**
   * Ends every connection of {@code userId} on every node of the cluster, as {@link #revoke} does
   * on this one (a connect of the user still authenticating is refused too). Other nodes act when
   * the message reaches them (docs/scaling.md, "Account actions"). Returns how many connections
   * this node told to close.
   */
  public int revokeUser(String userId, CloseCode code, String reason) {
    tell(new ControlMessage(ControlMessage.Kind.REVOKE_USER, userId, code.code(), reason));
    return revoke(p -> userId.equals(p.userId()), code, reason);
  }

  /**
   * Ends every connection opened with {@code credential} ({@link Principal#credential()}, e.g. the
   * login session that logs out) on every node of the cluster, as {@link #revoke} does on this one.
   * Returns how many connections this node told to close.
   */
  public int revokeCredential(String credential, CloseCode code, String reason) {
    tell(
        new ControlMessage(ControlMessage.Kind.REVOKE_CREDENTIAL, credential, code.code(), reason));
    return revoke(p -> credential.equals(p.credential()), code, reason);
  }

  /** Sends an account action to the other nodes; a failure is said (they will not act on it). */
  private void tell(ControlMessage m) {
    // The callback handles the outcome; its own future carries nothing more.
    var unused =
        control
            .send(m)
            .whenComplete(
                (v, err) -> {
                  long held = err == null ? -1 : controlWarnings.admit();
                  if (held >= 0) {
                    log.warn(
                        "{} not sent to the other nodes, which keep acting as before ({} more since"
                            + " the last report): {}",
                        m.kind(),
                        held,
                        err.toString());
                  }
                });
  }

  /** An account action another node sent. */
  private void onControl(ControlMessage m) {
    CloseCode code = CloseCode.of(m.closeCode());
    CloseCode c = code == null ? CloseCode.FORBIDDEN : code;
    switch (m.kind()) {
      case REVOKE_USER -> revoke(p -> m.subject().equals(p.userId()), c, m.reason());
      case REVOKE_CREDENTIAL -> revoke(p -> m.subject().equals(p.credential()), c, m.reason());
      case REVALIDATE -> {
        // Each session's check closes it or not on its own; nothing waits for all of them here.
        var unused = revalidateHere(m.subject());
      }
    }
  }

  private CompletableFuture<Void> revalidateHere(String userId) {
    List<CompletableFuture<Void>> checks = new ArrayList<>();
    for (ClientSession s : sessions) {
      if (userId.equals(s.userId())) {
        checks.add(s.revalidate());
      }
    }
    return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new));
  }

  /** Publishes JSON data to a channel from the server side (no user attached). */
  public CompletableFuture<StreamPosition> publish(String channel, RawJson data) {
    return publish(channel, data, null);
  }

  /**
   * Publishes JSON data to a channel from the server side, at most once per idempotency key: a
   * retry with the key of a publication made within the key's window answers that publication's
   * position and publishes nothing (see {@link IdempotencyKey}). Retry with the same key whenever
   * the outcome is unknown (a timeout, {@code 115 unavailable} after a command timeout).
   *
   * @param once the publication's key, or null to publish unconditionally
   */
  public CompletableFuture<StreamPosition> publish(
      String channel, RawJson data, @Nullable IdempotencyKey once) {
    try {
      ChannelName name = channel(channel);
      NamespaceSettings ns = namespace(name);
      if (data.length() > config.maxPublishBytes()) {
        throw new HubException(
            ErrorCode.PAYLOAD_TOO_LARGE, "data larger than " + config.maxPublishBytes() + " bytes");
      }
      return broker.publish(name.value(), data, null, HistoryPolicy.of(ns), once);
    } catch (HubException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Who is present in a channel, across the cluster. */
  public CompletableFuture<List<ClientInfo>> presence(String channel) {
    try {
      ChannelName name = channel(channel);
      if (!namespace(name).presence()) {
        throw new HubException(
            ErrorCode.NOT_AVAILABLE, "presence is disabled for '" + channel + "'");
      }
      return presence.get(name.value());
    } catch (HubException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Stops accepting connections and disconnects every client with {@link CloseCode#SHUTDOWN}, each
   * with a random suggested reconnect delay within the configured bounds, in batches over time
   * ({@link HubConfig#drain()}), so that clients do not all come back at once.
   */
  public void shutdown() {
    if (!accepting) {
      return;
    }
    accepting = false;
    drain(new ArrayList<>(sessions), 0);
  }

  /** Disconnects one batch, then schedules the next (see {@link HubConfig.Drain}). */
  private void drain(List<ClientSession> all, int from) {
    int to = Math.min(all.size(), from + config.drain().batchSize());
    for (int i = from; i < to; i++) {
      all.get(i).disconnect(CloseCode.SHUTDOWN, CloseCode.SHUTDOWN.reason(), shutdownRetry());
    }
    if (to < all.size()) {
      scheduler.schedule(config.drain().interval().toMillis(), () -> drain(all, to));
    }
  }

  /**
   * Disconnects every connection still open with {@link CloseCode#SHUTDOWN} at once (the end of a
   * drain that ran out of time), without closing the broker: their leaves still reach it.
   */
  public void disconnectRemaining() {
    shutdown();
    for (ClientSession s : new ArrayList<>(sessions)) {
      s.disconnect(CloseCode.SHUTDOWN, CloseCode.SHUTDOWN.reason(), shutdownRetry());
    }
  }

  /**
   * Leaves of closed connections and subscriptions (presence removal, leave event) still on their
   * way to the presence store and broker. A graceful stop waits for 0 before closing them.
   */
  public int pendingCleanups() {
    return pendingCleanups.get();
  }

  /** Counts a cleanup until it completes (either way); returns it. */
  CompletableFuture<Void> cleanup(CompletableFuture<Void> f) {
    pendingCleanups.incrementAndGet();
    // Only counts; the caller keeps and returns f itself.
    var unused = f.whenComplete((v, e) -> pendingCleanups.decrementAndGet());
    return f;
  }

  /** Whether new connections are accepted (false once shutdown has begun). */
  public boolean accepting() {
    return accepting;
  }

  public HubStats stats() {
    int connected = 0;
    int subs = 0;
    for (ClientSession s : sessions) {
      if (s.userId() != null && !s.isClosed()) {
        connected++;
      }
      subs += s.subscriptionCount();
    }
    return new HubStats(
        sessions.size(),
        connected,
        subs,
        registry.channelCount(),
        publications.sum(),
        deliveries.sum(),
        slowConsumers.sum());
  }

  /**
   * Open connections right now, by transport name ("websocket", "sse", "long-polling"). Walks every
   * session, so meant for dashboards and scrapes, not hot paths.
   */
  public java.util.Map<String, Integer> connectionsByTransport() {
    java.util.Map<String, Integer> out = new java.util.TreeMap<>();
    for (ClientSession s : sessions) {
      if (!s.isClosed()) {
        out.merge(s.transportName(), 1, Integer::sum);
      }
    }
    return out;
  }

  /**
   * Bytes queued in outboxes right now: the sum over all connections and the largest single one.
   * Walks every session, so meant for metrics scrapes, not hot paths.
   */
  public QueueStats outboxStats() {
    long sum = 0;
    long max = 0;
    for (ClientSession s : sessions) {
      long b = s.queuedBytes();
      sum += b;
      max = Math.max(max, b);
    }
    return new QueueStats(sum, max);
  }

  /** Event loops with open connections (the hub keeps a dispatcher for each). */
  int loopCount() {
    return dispatchers.size();
  }

  /** Outbound queue sizes, see {@link #outboxStats()}. */
  public record QueueStats(long totalBytes, long maxBytes) {}

  /** Whether the broker reports itself healthy (always true for the in-memory broker). */
  public boolean brokerHealthy() {
    try {
      return broker.healthy();
    } catch (RuntimeException e) {
      return false;
    }
  }

  public HubConfig config() {
    return config;
  }

  public Namespaces namespaces() {
    return namespaces;
  }

  public JsonCodec codec() {
    return codec;
  }

  @Override
  public void close() {
    // Whoever the drain has not reached yet goes now.
    disconnectRemaining();
    control.close();
    broker.close();
    if (ownsScheduler && scheduler instanceof SystemScheduler s) {
      s.close();
    }
  }

  // ------------------------------------------------------------------ for sessions

  /** The open sessions (any state); a live view. */
  Set<ClientSession> sessions() {
    return sessions;
  }

  ConnectionLog connectionLog() {
    return connectionLog;
  }

  Scheduler scheduler() {
    return scheduler;
  }

  Authenticator authenticator() {
    return authenticator;
  }

  Broker broker() {
    return broker;
  }

  HubMetrics metrics() {
    return metrics;
  }

  PresenceStore presence() {
    return presence;
  }

  SubscriberRegistry registry() {
    return registry;
  }

  ChannelName channel(String value) {
    return ChannelName.parse(value)
        .orElseThrow(
            () ->
                new HubException(
                    ErrorCode.UNKNOWN_CHANNEL, "invalid channel name '" + clip(value) + "'"));
  }

  NamespaceSettings namespace(ChannelName channel) {
    return namespaces
        .find(channel)
        .orElseThrow(
            () ->
                new HubException(
                    ErrorCode.UNKNOWN_CHANNEL,
                    "namespace '" + channel.namespace() + "' is not configured"));
  }

  /** Namespace rules first, then the application's authorizer; fails with 103 when denied. */
  CompletableFuture<Boolean> authorize(
      Principal p, ChannelAction action, ChannelName channel, NamespaceSettings ns) {
    if (ns.personal() && !channel.firstSegment().equals(p.userId())) {
      return CompletableFuture.failedFuture(denied(action, channel));
    }
    return authorizer
        .authorize(p, action, channel)
        .toCompletableFuture()
        .thenApply(
            ok -> {
              if (!Boolean.TRUE.equals(ok)) {
                throw denied(action, channel);
              }
              return true;
            });
  }

  /** Counts a connecting user against {@code limits.connections-per-user}; false when over. */
  boolean admitUser(ClientSession s, String userId) {
    if (!perUser.tryAcquire(userId)) {
      return false;
    }
    s.userCounted(true);
    return true;
  }

  int userConnectionLimit() {
    return perUser.limit();
  }

  void closed(ClientSession s) {
    if (sessions.remove(s)) {
      dispatchers.computeIfPresent(s.dispatcher().loop(), (loop, d) -> d.release() ? null : d);
      if (s.addressCounted()) {
        perAddress.release(s.remoteAddress());
      }
      if (s.userCounted()) {
        perUser.release(Objects.requireNonNull(s.userId()));
      }
    }
  }

  void slowConsumer(ClientSession s) {
    slowConsumers.increment();
    metrics.slowConsumer(s.transportName());
  }

  private static HubException denied(ChannelAction action, ChannelName channel) {
    return new HubException(
        ErrorCode.PERMISSION_DENIED,
        action.name().toLowerCase(java.util.Locale.ROOT) + " denied for channel '" + channel + "'");
  }

  /** A random reconnect delay within the configured bounds, so clients do not all come at once. */
  long shutdownRetry() {
    long min = config.shutdownRetryMin().toMillis();
    long max = config.shutdownRetryMax().toMillis();
    return max <= min ? min : ThreadLocalRandom.current().nextLong(min, max + 1);
  }

  /**
   * A connection id: 12 base-36 characters (62 bits) from the per-thread generator. Ids must be
   * unique, not secret (they are shown in presence and grant nothing), so a cryptographic generator
   * is not needed on this path of every connect.
   */
  private static String newClientId() {
    char[] id = new char[14];
    id[0] = 'c';
    id[1] = '-';
    long bits = ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE;
    for (int i = 2; i < id.length; i++) {
      id[i] = ID_ALPHABET[(int) (bits % ID_ALPHABET.length)];
      bits /= ID_ALPHABET.length;
    }
    return new String(id);
  }

  private static String clip(String s) {
    return s == null ? "null" : s.length() <= 64 ? s : s.substring(0, 64) + "...";
  }

  /** Receives broker events and fans them out to local subscribers. */
  private final class FanOut implements BrokerEventHandler {
    @Override
    public void onPublication(Pub pub) {
      publications.increment();
      metrics.published();
      SubscriberRegistry.Members members = registry.members(pub.channel());
      if (members == null) {
        return;
      }
      OutboundMessage message = new OutboundMessage(codec.encode(pub), pub.ts(), true);
      for (SubscriberRegistry.Group g : members.groups()) {
        g.dispatcher().publication(g.members(), pub, message);
      }
      deliveries.add(members.size());
      metrics.delivered(members.size());
    }

    @Override
    public void onPresence(PresenceEvent event) {
      SubscriberRegistry.Members members = registry.members(event.channel());
      if (members == null || !members.groups()[0].members()[0].namespace().joinLeave()) {
        return;
      }
      OutboundMessage message = new OutboundMessage(codec.encode(event.toMessage()), 0, true);
      for (SubscriberRegistry.Group g : members.groups()) {
        g.dispatcher().presence(g.members(), message);
      }
    }

    @Override
    public void onStreamReset(String channel) {
      SubscriberRegistry.Members members = registry.members(channel);
      if (members == null) {
        return;
      }
      for (SubscriberRegistry.Group g : members.groups()) {
        g.dispatcher().reset(g.members());
      }
    }
  }

  /** Assembles a hub. Only the authenticator is required. */
  public static final class Builder {
    private HubConfig config = HubConfig.defaults();
    private final List<NamespaceSettings> namespaces = new ArrayList<>();
    private @Nullable Broker broker;
    private @Nullable PresenceStore presence;
    private @Nullable Authenticator authenticator;
    private @Nullable ChannelAuthorizer authorizer;
    private @Nullable Scheduler scheduler;
    private @Nullable JsonCodec codec;
    private @Nullable HubMetrics metrics;
    private @Nullable ControlBus control;
    private java.time.Duration apiTimeout = DEFAULT_API_TIMEOUT;

    public Builder config(HubConfig v) {
      config = Objects.requireNonNull(v);
      return this;
    }

    public Builder namespace(NamespaceSettings v) {
      namespaces.add(v);
      return this;
    }

    public Builder namespaces(List<NamespaceSettings> v) {
      namespaces.addAll(v);
      return this;
    }

    /** The broker; defaults to {@link MemoryBroker}. */
    public Builder broker(Broker v) {
      broker = v;
      return this;
    }

    public Builder presenceStore(PresenceStore v) {
      presence = v;
      return this;
    }

    public Builder authenticator(Authenticator v) {
      authenticator = v;
      return this;
    }

    public Builder authorizer(ChannelAuthorizer v) {
      authorizer = v;
      return this;
    }

    /** Time source; defaults to the system clock and a timer thread the hub owns. */
    public Builder scheduler(Scheduler v) {
      scheduler = v;
      return this;
    }

    public Builder codec(JsonCodec v) {
      codec = v;
      return this;
    }

    /** Where the hub reports what it does; defaults to {@link HubMetrics#NONE}. */
    public Builder metrics(HubMetrics v) {
      metrics = v;
      return this;
    }

    /**
     * Carries {@link #revokeUser}, {@link #revokeCredential} and {@link #revalidate} to the other
     * nodes of the cluster; defaults to {@link ControlBus#local()} (a node on its own).
     */
    public Builder controlBus(ControlBus v) {
      control = v;
      return this;
    }

    /**
     * How long a server API call waits for the other nodes' answers before it reports them as
     * missing ({@link ServerApi}); defaults to {@link #DEFAULT_API_TIMEOUT}.
     */
    public Builder apiTimeout(java.time.Duration v) {
      if (v.toMillis() < 1) {
        throw new IllegalArgumentException("the API timeout must be at least 1 ms");
      }
      apiTimeout = v;
      return this;
    }

    public Hub build() {
      return new Hub(this);
    }
  }
}
