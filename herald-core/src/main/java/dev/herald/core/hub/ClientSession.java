package dev.herald.core.hub;

import dev.herald.core.api.ConnectionInfo;
import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.ChannelAction;
import dev.herald.core.auth.ConnectRequest;
import dev.herald.core.auth.Principal;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.HistoryResult;
import dev.herald.core.broker.PresenceEvent;
import dev.herald.core.channel.ChannelName;
import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.delivery.Connection;
import dev.herald.core.delivery.LoopDispatcher;
import dev.herald.core.delivery.Outbox;
import dev.herald.core.delivery.Subscription;
import dev.herald.core.limits.TokenBucket;
import dev.herald.core.time.Scheduler.Cancellable;
import dev.herald.core.transport.EventLoop;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ClientMessage;
import dev.herald.protocol.ClientMessage.Connect;
import dev.herald.protocol.ClientMessage.PresenceQuery;
import dev.herald.protocol.ClientMessage.PresenceSet;
import dev.herald.protocol.ClientMessage.Publish;
import dev.herald.protocol.ClientMessage.Refresh;
import dev.herald.protocol.ClientMessage.Request;
import dev.herald.protocol.ClientMessage.Subscribe;
import dev.herald.protocol.ClientMessage.Unsubscribe;
import dev.herald.protocol.CloseCode;
import dev.herald.protocol.Decoded;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.Ping;
import dev.herald.protocol.Pong;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.ProtocolVersion;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.EmptyResult;
import dev.herald.protocol.ServerMessage.PresenceResult;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.PublishResult;
import dev.herald.protocol.ServerMessage.RefreshResult;
import dev.herald.protocol.ServerMessage.Reply;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.StreamPosition;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, independent of the transport that carries it: its protocol state machine
 * (connect, requests, heartbeats, limits) and its delivery state (outbound queue, subscriptions and
 * their recovery).
 *
 * <p>Threading: the connection's event loop ({@link TransportConnection#loop()}) is the single
 * owner of every mutable field here and in its {@link Subscription}s and {@link Outbox}; fields
 * read by other threads for stats or revocation are volatile. Requests are processed one at a time
 * in arrival order; an asynchronous step (authentication, authorization, a broker call) resumes on
 * the loop. Fan-out reaches the subscriptions through the loop's {@link LoopDispatcher}. Only
 * {@link #disconnect} and the stats accessors may be called from other threads.
 */
public final class ClientSession {
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
  private static final Subscription[] NO_SUBSCRIPTIONS = new Subscription[0];

  private enum State {
    AWAITING_CONNECT,
    CONNECTING,
    CONNECTED,
    CLOSED
  }

  private final Hub hub;
  private final HubConfig config;
  private final TransportConnection transport;
  private final EventLoop loop;
  private final LoopDispatcher dispatcher;
  private final String remoteAddress;
  private final String clientId;
  private final Outbox outbox;
  // This session as delivery sees it (its subscriptions and its loop's dispatcher).
  private final Connection delivery = new Delivery();
  // Runs continuations inline when already on the loop, else hands them to it.
  private final Executor onLoop;
  // The handshake's headers, needed until connect completes; dropped then.
  private @Nullable ConnectionContext context;
  // Subscriptions by channel: few per connection, so a small array searched in order.
  private Subscription[] subscriptions = NO_SUBSCRIPTIONS;
  private volatile int subscriptionCount;
  private @Nullable ArrayDeque<Queued> queued;
  // Recovering subscriptions waiting for room to queue their next page, served in turn.
  private @Nullable ArrayDeque<Subscription> recovering;

  private volatile State state = State.AWAITING_CONNECT;
  private long lastInboundMillis;
  private volatile @Nullable Principal principal;
  // When connect completed (0 before); written on the loop before state becomes CONNECTED.
  private volatile long connectedAtMillis;
  private @Nullable ClientInfo info;
  private boolean busy;
  private Cancellable connectTimer = Cancellable.NONE;
  private Cancellable pingTimer = Cancellable.NONE;
  // The heartbeat interval of this connection: the server's, or shorter if the client asked.
  private long pingMillis;
  private Cancellable pongTimer = Cancellable.NONE;
  private boolean awaitingPong;
  private Cancellable expiryTimer = Cancellable.NONE;
  private final TokenBucket rate;
  // Set by the hub when this session was counted against the per-address / per-user limits, so
  // that it is released exactly once at close.
  private volatile boolean addressCounted;
  private volatile boolean userCounted;
  // Counts revalidation passes: a subscription whose authorization started before a pass is
  // authorized again before it goes live.
  private long revalidations;
  // Delivery: set once the outbound queue overflowed (also from another thread when the loop is
  // far behind); nothing more is queued, and the connection closes with 4003.
  private volatile boolean overflowed;
  // Registered with the dispatcher for the next coalesced flush.
  private boolean dirty;
  // A write is in progress on this session (re-entrant writes only queue).
  private boolean writing;

  ClientSession(
      Hub hub,
      TransportConnection transport,
      LoopDispatcher dispatcher,
      ConnectionContext context,
      String clientId) {
    this.hub = hub;
    this.config = hub.config();
    this.transport = transport;
    this.loop = transport.loop();
    this.dispatcher = dispatcher;
    this.context = context;
    this.remoteAddress = context.remoteAddress();
    this.clientId = clientId;
    this.outbox = new Outbox(transport, config.maxBatchBytes(), dispatcher);
    this.onLoop = dispatcher.onLoop();
    this.lastInboundMillis = hub.scheduler().nowMillis();
    this.rate =
        new TokenBucket(
            config.abuse().messagesPerSecond(), config.abuse().messageBurst(), lastInboundMillis);
  }

  void start() {
    connectTimer =
        hub.scheduler()
            .schedule(
                config.connectTimeout().toMillis(),
                () ->
                    loop.execute(
                        () -> {
                          if (state == State.AWAITING_CONNECT || state == State.CONNECTING) {
                            closeNow(
                                CloseCode.CONNECT_TIMEOUT, CloseCode.CONNECT_TIMEOUT.reason(), 0);
                          }
                        }));
  }

  public String clientId() {
    return clientId;
  }

  public String transportName() {
    return transport.transport();
  }

  /** The authenticated user, or null before connect completes. */
  public @Nullable String userId() {
    Principal p = principal;
    return p == null ? null : p.userId();
  }

  // Requests other than connect are handled only once connected, when both are set.
  private Principal connectedPrincipal() {
    return Objects.requireNonNull(principal, "not connected");
  }

  private ClientInfo connectedInfo() {
    return Objects.requireNonNull(info, "not connected");
  }

  /** The authenticated principal, or null before connect completes. */
  @Nullable Principal principal() {
    return principal;
  }

  String remoteAddress() {
    return remoteAddress;
  }

  LoopDispatcher dispatcher() {
    return dispatcher;
  }

  boolean addressCounted() {
    return addressCounted;
  }

  void addressCounted(boolean v) {
    addressCounted = v;
  }

  boolean userCounted() {
    return userCounted;
  }

  void userCounted(boolean v) {
    userCounted = v;
  }

  public boolean isClosed() {
    return state == State.CLOSED;
  }

  public int subscriptionCount() {
    return subscriptionCount;
  }

  /** Bytes waiting in this connection's outbound queue (any thread; for stats). */
  long queuedBytes() {
    return outbox.queuedBytes();
  }

  // ------------------------------------------------------------------ transport -> session

  /** A text frame arrived. Runs on the loop. */
  public void onText(String frame) {
    if (state == State.CLOSED) {
      return;
    }
    long now = hub.scheduler().nowMillis();
    lastInboundMillis = now;
    for (Decoded<ClientMessage> d : hub.codec().decodeClientFrame(frame)) {
      if (!rate.tryTake(now)) {
        closeNow(
            CloseCode.RATE_LIMITED,
            "more than "
                + config.abuse().messagesPerSecond()
                + " messages per second (burst "
                + config.abuse().messageBurst()
                + ")",
            0);
        return;
      }
      if (!d.isOk()) {
        var e = Objects.requireNonNull(d.error());
        if (e.requestId() > 0) {
          // Answered in turn, so that replies keep the order of the requests.
          if (queuedRequests() >= config.maxQueuedRequests()) {
            reply(Reply.error(e.requestId(), e.code(), e.getMessage()));
          } else {
            queue(new Queued(null, e));
          }
        } else {
          send(
              new ServerMessage.Error(
                  new ServerMessage.ErrorInfo(e.code().code(), e.getMessage())));
        }
        continue;
      }
      ClientMessage m = d.message();
      if (m instanceof Ping) {
        send(Pong.INSTANCE);
      } else if (m instanceof Request r) {
        if (queuedRequests() >= config.maxQueuedRequests()) {
          reply(
              Reply.error(
                  r.id(),
                  ErrorCode.TOO_MANY_REQUESTS,
                  "more than " + config.maxQueuedRequests() + " requests waiting"));
          continue;
        }
        queue(new Queued(r, null));
      }
      // Pong: nothing to do beyond the liveness update above.
    }
    pump();
  }

  /** The transport's buffer has room again. Runs on the loop. */
  public void onWritable() {
    write();
  }

  /** The connection is gone (peer closed, network error). Runs on the loop. */
  public void onTransportClosed() {
    if (state == State.CLOSED) {
      return;
    }
    boolean wasConnected = state == State.CONNECTED;
    state = State.CLOSED;
    outbox.clear();
    release();
    hub.metrics().disconnected(transport.transport(), wasConnected, 0, "transport_closed");
    hub.connectionLog()
        .disconnected(clientId, loggedUser(), transport.transport(), 0, "transport_closed");
  }

  /** Ends the connection with a close code; safe from any thread. */
  public void disconnect(CloseCode code, String reason, long retryMillis) {
    loop.execute(() -> closeNow(code, reason, retryMillis));
  }

  // ------------------------------------------------------------------ request processing

  private int queuedRequests() {
    return queued == null ? 0 : queued.size();
  }

  private void queue(Queued q) {
    if (queued == null) {
      queued = new ArrayDeque<>(4);
    }
    queued.add(q);
  }

  private void pump() {
    while (!busy && queued != null && !queued.isEmpty() && state != State.CLOSED) {
      Queued q = queued.poll();
      if (q.error() != null) {
        reply(Reply.error(q.error().requestId(), q.error().code(), q.error().getMessage()));
        continue;
      }
      Request r = Objects.requireNonNull(q.request(), "a queued entry is a request or an error");
      busy = true;
      CompletableFuture<Void> done;
      try {
        done = handle(r);
      } catch (RuntimeException e) {
        done = CompletableFuture.failedFuture(e);
      }
      // The callback only hands the outcome to the loop; nothing is lost by not keeping its future.
      var unused =
          done.whenComplete(
              (v, err) ->
                  loop.execute(
                      () -> {
                        if (err != null) {
                          Throwable cause =
                              err instanceof CompletionException && err.getCause() != null
                                  ? err.getCause()
                                  : err;
                          if (cause instanceof HubException he) {
                            reply(Reply.error(r.id(), he.code(), he.getMessage()));
                          } else {
                            warn(
                                "request {} of client {} failed",
                                r.getClass().getSimpleName(),
                                clientId,
                                cause);
                            reply(Reply.error(r.id(), ErrorCode.INTERNAL, "internal error"));
                          }
                        }
                        busy = false;
                        if (queued != null && queued.isEmpty()) {
                          queued = null; // an idle connection holds no queue
                        }
                        pump();
                      }));
    }
  }

  private CompletableFuture<Void> handle(Request r) {
    if (r instanceof Connect c) {
      return connect(c);
    }
    if (state != State.CONNECTED) {
      reply(Reply.error(r.id(), ErrorCode.NOT_CONNECTED, "send connect first"));
      return done();
    }
    if (r instanceof Subscribe s) {
      return subscribe(s);
    }
    if (r instanceof Unsubscribe u) {
      return unsubscribe(u);
    }
    if (r instanceof Publish p) {
      return publish(p);
    }
    if (r instanceof PresenceQuery q) {
      return presence(q);
    }
    if (r instanceof PresenceSet s) {
      return presenceSet(s);
    }
    if (r instanceof Refresh f) {
      return refresh(f);
    }
    throw new IllegalStateException("unhandled request " + r);
  }

  /**
   * A new credential for this connection: authenticated like connect's, for the same user, it
   * replaces the principal and re-arms the expiry timer. A refused one changes nothing (the current
   * credential stays valid until it expires), so the client may try again.
   */
  private CompletableFuture<Void> refresh(Refresh f) {
    ConnectRequest req =
        new ConnectRequest(f.token(), java.util.Map.of(), remoteAddress, transport.transport());
    return authenticate(req)
        .handleAsync(
            (p, err) -> {
              if (state != State.CONNECTED) {
                return null;
              }
              if (err != null || p == null) {
                Throwable cause = unwrap(err);
                if (cause instanceof AuthenticationException ae) {
                  reply(
                      Reply.error(
                          f.id(),
                          ae.expired() ? ErrorCode.TOKEN_EXPIRED : ErrorCode.UNAUTHORIZED,
                          ae.getMessage()));
                } else {
                  warn("refresh of client {} failed", clientId, cause);
                  reply(Reply.error(f.id(), ErrorCode.INTERNAL, "authentication unavailable"));
                }
                return null;
              }
              Principal current = connectedPrincipal();
              if (!p.userId().equals(current.userId())) {
                reply(Reply.error(f.id(), ErrorCode.USER_MISMATCH, "token is for another user"));
                return null;
              }
              long now = hub.scheduler().nowMillis();
              if (p.expiresAtMillis() > 0 && p.expiresAtMillis() <= now) {
                reply(Reply.error(f.id(), ErrorCode.TOKEN_EXPIRED, "token expired"));
                return null;
              }
              // The connection's identity for revocations stays what it was opened with, unless the
              // new credential names its own.
              principal =
                  new Principal(
                      current.userId(),
                      current.info(),
                      p.expiresAtMillis(),
                      p.credential() != null ? p.credential() : current.credential());
              expiryTimer.cancel();
              expiryTimer = Cancellable.NONE;
              armExpiry(now);
              reply(Reply.ok(f.id(), new RefreshResult(Math.max(0, p.expiresAtMillis()))));
              return null;
            },
            onLoop);
  }

  private static Throwable unwrap(Throwable err) {
    return err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
  }

  /** The authenticator's answer; one that throws counts as a failed (asynchronous) answer. */
  private CompletableFuture<Principal> authenticate(ConnectRequest req) {
    try {
      return hub.authenticator().authenticate(req).toCompletableFuture();
    } catch (RuntimeException e) {
      // Treated like an asynchronous failure, so the session does not stay half-connected.
      return CompletableFuture.failedFuture(e);
    }
  }

  private CompletableFuture<Void> connect(Connect c) {
    if (state != State.AWAITING_CONNECT) {
      reply(Reply.error(c.id(), ErrorCode.ALREADY_CONNECTED, "already connected"));
      return done();
    }
    if (c.protocol() != ProtocolVersion.CURRENT) {
      reply(
          Reply.error(
              c.id(), ErrorCode.BAD_REQUEST, "unsupported protocol version " + c.protocol()));
      closeNow(CloseCode.UNSUPPORTED_PROTOCOL, CloseCode.UNSUPPORTED_PROTOCOL.reason(), 0);
      return done();
    }
    state = State.CONNECTING;
    ConnectionContext ctx = Objects.requireNonNull(context, "connect is handled once");
    ConnectRequest req =
        new ConnectRequest(c.token(), ctx.headers(), remoteAddress, transport.transport());
    context = null; // the handshake's headers are not needed after this

    return authenticate(req)
        .handleAsync(
            (p, err) -> {
              if (state == State.CLOSED) {
                return null;
              }
              if (err != null || p == null) {
                Throwable cause = unwrap(err);
                if (cause instanceof AuthenticationException ae) {
                  ErrorCode code = ae.expired() ? ErrorCode.TOKEN_EXPIRED : ErrorCode.UNAUTHORIZED;
                  reply(Reply.error(c.id(), code, ae.getMessage()));
                  closeNow(
                      ae.expired() ? CloseCode.TOKEN_EXPIRED : CloseCode.UNAUTHORIZED,
                      ae.getMessage(),
                      0);
                } else {
                  warn("authentication of client {} failed", clientId, cause);
                  reply(Reply.error(c.id(), ErrorCode.INTERNAL, "authentication unavailable"));
                  closeNow(CloseCode.INTERNAL_ERROR, "authentication unavailable", 0);
                }
                return null;
              }
              long now = hub.scheduler().nowMillis();
              if (p.expiresAtMillis() > 0 && p.expiresAtMillis() <= now) {
                reply(Reply.error(c.id(), ErrorCode.TOKEN_EXPIRED, "token expired"));
                closeNow(CloseCode.TOKEN_EXPIRED, CloseCode.TOKEN_EXPIRED.reason(), 0);
                return null;
              }
              // Set before checking revocations: a revoke() racing this connect either finds the
              // principal when it scans the sessions or is found here.
              principal = p;
              Hub.Revocation revoked = hub.revocationOf(p);
              if (revoked != null) {
                reply(Reply.error(c.id(), ErrorCode.UNAUTHORIZED, revoked.reason()));
                closeNow(revoked.code(), revoked.reason(), 0);
                return null;
              }
              if (!hub.admitUser(this, p.userId())) {
                String why =
                    "more than " + hub.userConnectionLimit() + " connections for this user";
                reply(Reply.error(c.id(), ErrorCode.LIMIT_EXCEEDED, why));
                closeNow(CloseCode.CONNECTION_LIMIT, why, 0);
                return null;
              }
              info = new ClientInfo(clientId, p.userId(), p.info(), RawJson.EMPTY_OBJECT);
              connectedAtMillis = hub.scheduler().nowMillis();
              state = State.CONNECTED;
              connectTimer.cancel();
              connectTimer = Cancellable.NONE;
              pingMillis = config.grantedPingMillis(c.pingMs());
              armExpiry(now);
              schedulePing();
              reply(
                  Reply.ok(
                      c.id(),
                      new ConnectResult(
                          clientId,
                          p.userId(),
                          config.node(),
                          ProtocolVersion.CURRENT,
                          pingMillis,
                          config.pongTimeout().toMillis(),
                          config.maxMessageBytes(),
                          Math.max(0, p.expiresAtMillis()))));
              hub.metrics().connected(transport.transport());
              hub.connectionLog().connected(clientId, p.userId(), transport.transport());
              return null;
            },
            onLoop);
  }

  private CompletableFuture<Void> subscribe(Subscribe s) {
    ChannelName parsed = hub.channel(s.channel());
    NamespaceSettings ns = hub.namespace(parsed);
    // Kept for the subscription's life: share the namespace's name rather than hold a copy.
    ChannelName channel = new ChannelName(parsed.value(), ns.name());
    if (find(channel.value()) != null) {
      throw new HubException(
          ErrorCode.ALREADY_SUBSCRIBED, "already subscribed to '" + channel + "'");
    }
    if (subscriptionCount >= config.maxSubscriptionsPerConnection()) {
      throw new HubException(
          ErrorCode.LIMIT_EXCEEDED,
          "at most " + config.maxSubscriptionsPerConnection() + " subscriptions per connection");
    }
    HistoryPolicy policy = HistoryPolicy.of(ns);
    long generation = revalidations;
    return hub.authorize(connectedPrincipal(), ChannelAction.SUBSCRIBE, channel, ns)
        .thenComposeAsync(
            ok -> {
              if (state == State.CLOSED) {
                return done();
              }
              if (find(channel.value()) != null) {
                throw new HubException(
                    ErrorCode.ALREADY_SUBSCRIBED, "already subscribed to '" + channel + "'");
              }
              Subscription sub = new Subscription(delivery, channel, ns);
              add(sub);
              long after = s.since() == null ? Long.MAX_VALUE : s.since().offset();
              CompletableFuture<Void> registered;
              try {
                registered = hub.registry().add(sub);
              } catch (RuntimeException e) {
                remove(sub);
                throw e;
              }
              return registered
                  .thenCompose(v -> hub.broker().history(channel.value(), after, policy))
                  .thenComposeAsync(
                      history -> authorizedSince(generation, channel, ns).thenApply(v -> history),
                      onLoop)
                  .handleAsync(
                      (history, err) -> {
                        if (err != null) {
                          if (remove(sub)) {
                            hub.registry().remove(sub);
                          }
                          sub.end();
                          throw err instanceof CompletionException ce
                              ? ce
                              : new CompletionException(err);
                        }
                        if (state == State.CLOSED || find(channel.value()) != sub) {
                          return null;
                        }
                        start(s, sub, history, policy);
                        return null;
                      },
                      onLoop)
                  .thenCompose(v -> join(sub));
            },
            onLoop);
  }

  /**
   * Completes once the subscribe authorization is not older than the last revalidation pass: if
   * {@link #revalidate} ran since {@code generation}, the authorizer is asked again (on the loop),
   * so a subscription authorized before a revocation never goes live.
   */
  private CompletableFuture<Void> authorizedSince(
      long generation, ChannelName channel, NamespaceSettings ns) {
    if (revalidations == generation) {
      return done();
    }
    long current = revalidations;
    return hub.authorize(connectedPrincipal(), ChannelAction.SUBSCRIBE, channel, ns)
        .thenComposeAsync(ok -> authorizedSince(current, channel, ns), onLoop);
  }

  /** History is read: the reply, then the missed publications (paged), then live ones. */
  private void start(Subscribe s, Subscription sub, HistoryResult history, HistoryPolicy policy) {
    StreamPosition top = history.top();
    boolean recoverable = policy.size() > 0;
    StreamPosition since = s.since();
    List<Pub> missed = List.of();
    boolean ok = false;
    if (since != null && history.continues(since)) {
      // However large, the backlog is queued at the reader's pace (see #write), so a client that
      // fell behind recovers instead of overflowing its outbound queue again.
      missed = history.publications();
      ok = true;
    }
    hub.metrics()
        .recovery(
            since == null
                ? HubMetrics.Recovery.NOT_REQUESTED
                : ok ? HubMetrics.Recovery.RECOVERED : HubMetrics.Recovery.NOT_RECOVERED);
    hub.metrics().subscribed();
    sub.counted(true);
    Reply reply =
        Reply.ok(
            s.id(), new SubscribeResult(top.epoch(), top.offset(), recoverable, ok, missed.size()));
    if (sub.start(
        encode(reply), ok && since != null ? since : top, missed, p -> encode(p.asRecovered()))) {
      if (recovering == null) {
        recovering = new ArrayDeque<>(2);
      }
      recovering.add(sub);
      write();
    }
  }

  private CompletableFuture<Void> join(Subscription sub) {
    if (!sub.namespace().presence()
        || state == State.CLOSED
        || sub.phase() == Subscription.Phase.ENDED) {
      return done();
    }
    String channel = sub.channel().value();
    sub.joined(true);
    return hub.presence()
        .put(channel, connectedInfo())
        .thenCompose(
            v ->
                sub.namespace().joinLeave()
                    ? hub.broker()
                        .publishPresence(
                            new PresenceEvent(PresenceEvent.Kind.JOIN, channel, connectedInfo()))
                    : done());
  }

  private CompletableFuture<Void> unsubscribe(Unsubscribe u) {
    Subscription sub = find(u.channel());
    if (sub == null) {
      throw new HubException(ErrorCode.NOT_SUBSCRIBED, "not subscribed to '" + u.channel() + "'");
    }
    remove(sub);
    return leave(sub).thenRunAsync(() -> reply(Reply.ok(u.id(), EmptyResult.INSTANCE)), onLoop);
  }

  /** Takes a subscription out of fan-out and presence; it was removed from this session. */
  private CompletableFuture<Void> leave(Subscription sub) {
    sub.end();
    hub.registry().remove(sub);
    if (sub.counted()) {
      sub.counted(false);
      hub.metrics().unsubscribed();
    }
    if (!sub.namespace().presence() || !sub.joined()) {
      return done(); // never announced: nothing to take back
    }
    String channel = sub.channel().value();
    ClientInfo current = presenceEntry(sub);
    // Counted by the hub until done, so a graceful stop keeps the broker and presence store until
    // every leave has reached them.
    return hub.cleanup(
        hub.presence()
            .remove(channel, clientId)
            .thenCompose(
                v ->
                    sub.namespace().joinLeave()
                        ? hub.broker()
                            .publishPresence(
                                new PresenceEvent(PresenceEvent.Kind.LEAVE, channel, current))
                        : done()));
  }

  private ClientInfo presenceEntry(Subscription sub) {
    RawJson state = sub.presenceState();
    return state == null ? connectedInfo() : connectedInfo().withState(state);
  }

  /**
   * Ends a subscription on the server's initiative: tells the client with {@code unsubscribed} and
   * takes it out of fan-out and presence. The connection and its other subscriptions go on.
   */
  private void endSubscription(Subscription sub, ErrorCode code, String reason) {
    String channel = sub.channel().value();
    if (state == State.CLOSED || !remove(sub)) {
      sub.end();
      return;
    }
    leave(sub)
        .exceptionally(
            e -> {
              warn("leave of {} in {} failed", clientId, channel, e);
              return null;
            });
    send(new ServerMessage.Unsubscribed(channel, code.code(), reason));
  }

  /**
   * The channel's stream could not be continued for this subscription (a new epoch, or publications
   * missing in between): it ends with {@code 116}, and the client resubscribes from the last
   * position it saw, which either recovers or tells it to refetch. Called on the loop.
   */
  private void streamLost(Subscription sub) {
    hub.metrics().streamReset();
    endSubscription(
        sub,
        ErrorCode.STREAM_RESET,
        "the stream of '" + sub.channel() + "' was reset: resubscribe with since to recover");
  }

  // ------------------------------------------------------------------ subscriptions by channel

  private @Nullable Subscription find(String channel) {
    Subscription[] a = subscriptions;
    for (int i = 0; i < subscriptionCount; i++) {
      if (a[i].channel().value().equals(channel)) {
        return a[i];
      }
    }
    return null;
  }

  private void add(Subscription sub) {
    if (subscriptionCount == subscriptions.length) {
      subscriptions = Arrays.copyOf(subscriptions, Math.max(2, subscriptionCount * 2));
    }
    int n = subscriptionCount; // written only on the loop
    subscriptions[n] = sub;
    subscriptionCount = n + 1;
  }

  /** Removes this very subscription; false if it is not (or no longer) here. */
  private boolean remove(Subscription sub) {
    Subscription[] a = subscriptions;
    int n = subscriptionCount;
    for (int i = 0; i < n; i++) {
      if (a[i] == sub) {
        System.arraycopy(a, i + 1, a, i, n - i - 1);
        a[n - 1] = null;
        subscriptionCount = n - 1;
        if (recovering != null) {
          recovering.remove(sub);
        }
        return true;
      }
    }
    return false;
  }

  private CompletableFuture<Void> publish(Publish p) {
    ChannelName channel = hub.channel(p.channel());
    NamespaceSettings ns = hub.namespace(channel);
    if (!ns.clientPublish()) {
      throw new HubException(
          ErrorCode.NOT_AVAILABLE, "clients may not publish in namespace '" + ns.name() + "'");
    }
    if (p.data().length() > config.maxPublishBytes()) {
      throw new HubException(
          ErrorCode.PAYLOAD_TOO_LARGE, "data larger than " + config.maxPublishBytes() + " bytes");
    }
    return hub.authorize(connectedPrincipal(), ChannelAction.PUBLISH, channel, ns)
        .thenCompose(
            ok ->
                hub.broker()
                    .publish(
                        channel.value(),
                        p.data(),
                        connectedPrincipal().userId(),
                        HistoryPolicy.of(ns)))
        .thenAcceptAsync(
            pos -> reply(Reply.ok(p.id(), new PublishResult(pos.epoch(), pos.offset()))), onLoop);
  }

  private CompletableFuture<Void> presence(PresenceQuery q) {
    ChannelName channel = hub.channel(q.channel());
    NamespaceSettings ns = hub.namespace(channel);
    if (!ns.presence()) {
      throw new HubException(
          ErrorCode.NOT_AVAILABLE, "presence is disabled in namespace '" + ns.name() + "'");
    }
    if (find(channel.value()) == null) {
      throw new HubException(ErrorCode.NOT_SUBSCRIBED, "subscribe to '" + channel + "' first");
    }
    return hub.authorize(connectedPrincipal(), ChannelAction.PRESENCE, channel, ns)
        .thenCompose(ok -> hub.presence().get(channel.value()))
        .thenAcceptAsync(list -> reply(Reply.ok(q.id(), new PresenceResult(list))), onLoop);
  }

  private CompletableFuture<Void> presenceSet(PresenceSet s) {
    ChannelName channel = hub.channel(s.channel());
    NamespaceSettings ns = hub.namespace(channel);
    if (!ns.presence()) {
      throw new HubException(
          ErrorCode.NOT_AVAILABLE, "presence is disabled in namespace '" + ns.name() + "'");
    }
    Subscription sub = find(channel.value());
    if (sub == null) {
      throw new HubException(ErrorCode.NOT_SUBSCRIBED, "subscribe to '" + channel + "' first");
    }
    if (s.state().length() > config.maxPresenceStateBytes()) {
      throw new HubException(
          ErrorCode.PAYLOAD_TOO_LARGE,
          "presence state larger than " + config.maxPresenceStateBytes() + " bytes");
    }
    // Announcing a state is a presence action like reading the list: the authorizer decides.
    return hub.authorize(connectedPrincipal(), ChannelAction.PRESENCE, channel, ns)
        .thenComposeAsync(
            ok -> {
              if (state == State.CLOSED || find(channel.value()) != sub) {
                throw new HubException(
                    ErrorCode.NOT_SUBSCRIBED, "no longer subscribed to '" + channel + "'");
              }
              sub.presenceState(s.state());
              ClientInfo entry = connectedInfo().withState(s.state());
              return hub.presence()
                  .put(channel.value(), entry)
                  .thenCompose(
                      v ->
                          ns.joinLeave()
                              ? hub.broker()
                                  .publishPresence(
                                      new PresenceEvent(
                                          PresenceEvent.Kind.UPDATE, channel.value(), entry))
                              : done());
            },
            onLoop)
        .thenRunAsync(() -> reply(Reply.ok(s.id(), EmptyResult.INSTANCE)), onLoop);
  }

  /**
   * Runs the authorizer again for every subscription and ends those it now denies, telling the
   * client with {@code unsubscribed}. Any thread; completes when every check has run.
   */
  CompletableFuture<Void> revalidate() {
    CompletableFuture<Void> all = new CompletableFuture<>();
    loop.execute(
        () -> {
          revalidations++;
          if (state != State.CONNECTED) {
            all.complete(null);
            return;
          }
          List<CompletableFuture<Void>> checks = new ArrayList<>();
          for (Subscription sub : Arrays.copyOf(subscriptions, subscriptionCount)) {
            if (!sub.counted()) {
              continue; // not live yet: authorized again before it goes live (authorizedSince)
            }
            checks.add(
                hub.authorize(
                        connectedPrincipal(),
                        ChannelAction.SUBSCRIBE,
                        sub.channel(),
                        sub.namespace())
                    .handleAsync(
                        (ok, err) -> {
                          revoked(sub, err);
                          return null;
                        },
                        onLoop));
          }
          // Each check handles its own failure (revoked); this only waits for all of them.
          var unused =
              CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new))
                  .whenComplete((v, e) -> all.complete(null));
        });
    return all;
  }

  private void revoked(Subscription sub, Throwable err) {
    if (err == null) {
      return;
    }
    Throwable cause =
        err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    if (!(cause instanceof HubException he) || he.code() != ErrorCode.PERMISSION_DENIED) {
      warn(
          "re-authorization of {} in {} failed; subscription kept", clientId, sub.channel(), cause);
      return;
    }
    endSubscription(
        sub, ErrorCode.PERMISSION_DENIED, "access to '" + sub.channel() + "' was revoked");
  }

  // ------------------------------------------------------------------ server API

  /**
   * This connection as the server API shows it, read on its loop; null when it is not connected
   * (still authenticating, or closed). Any thread.
   */
  CompletableFuture<@Nullable ConnectionInfo> describe() {
    CompletableFuture<@Nullable ConnectionInfo> out = new CompletableFuture<>();
    loop.execute(
        () -> {
          Principal p = principal;
          if (state != State.CONNECTED || p == null) {
            out.complete(null);
            return;
          }
          List<String> channels = new ArrayList<>(subscriptionCount);
          for (int i = 0; i < subscriptionCount; i++) {
            channels.add(subscriptions[i].channel().value());
          }
          out.complete(
              new ConnectionInfo(
                  clientId,
                  p.userId(),
                  transportName(),
                  config.node(),
                  Instant.ofEpochMilli(connectedAtMillis),
                  channels,
                  remoteAddress));
        });
    return out;
  }

  /**
   * Ends this connection's subscription to {@code channel} on the server API's initiative: the
   * client gets {@code unsubscribed} with {@code 103} and leaves the channel's presence. Completes
   * with whether it was subscribed. Any thread.
   */
  CompletableFuture<Boolean> unsubscribeByServer(String channel) {
    CompletableFuture<Boolean> out = new CompletableFuture<>();
    loop.execute(
        () -> {
          Subscription sub = state == State.CONNECTED ? find(channel) : null;
          if (sub != null) {
            endSubscription(
                sub,
                ErrorCode.PERMISSION_DENIED,
                "unsubscribed from '" + channel + "' by the server");
          }
          out.complete(sub != null);
        });
    return out;
  }

  // ------------------------------------------------------------------ heartbeats

  private void schedulePing() {
    pingTimer = hub.scheduler().schedule(pingMillis, () -> loop.execute(this::ping));
  }

  /**
   * Closes the connection when its credential expires (4005). The timer is armed only once the
   * expiry falls within the next ping interval (each ping looks again), so a connection whose token
   * runs for hours carries one timer, not two. On the loop.
   */
  private void armExpiry(long now) {
    Principal p = principal;
    if (p == null || p.expiresAtMillis() <= 0 || expiryTimer != Cancellable.NONE) {
      return;
    }
    long left = p.expiresAtMillis() - now;
    if (left <= pingMillis) {
      expiryTimer =
          hub.scheduler()
              .schedule(
                  left,
                  () -> disconnect(CloseCode.TOKEN_EXPIRED, CloseCode.TOKEN_EXPIRED.reason(), 0));
    }
  }

  private void ping() {
    if (state != State.CONNECTED) {
      return;
    }
    long sentAt = hub.scheduler().nowMillis();
    armExpiry(sentAt);
    send(Ping.INSTANCE);
    // One pending check at a time: while an earlier ping is still awaiting an answer its deadline
    // is the stricter one, so a later ping does not replace (or pile up) checks.
    if (!awaitingPong) {
      awaitingPong = true;
      pongTimer =
          hub.scheduler()
              .schedule(
                  config.pongTimeout().toMillis(),
                  () ->
                      loop.execute(
                          () -> {
                            awaitingPong = false;
                            if (state == State.CONNECTED && lastInboundMillis < sentAt) {
                              closeNow(
                                  CloseCode.HEARTBEAT_TIMEOUT,
                                  CloseCode.HEARTBEAT_TIMEOUT.reason(),
                                  0);
                            }
                          }));
    }
    schedulePing();
  }

  // ------------------------------------------------------------------ output

  /**
   * Queues an encoded message for the client and writes it as soon as the transport takes it (or,
   * with a write delay, at the loop's next flush). On the loop. Past {@code limits.outbox-bytes}
   * that cannot be written the connection is closed as a slow consumer.
   */
  private void enqueue(OutboundMessage message) {
    if (overflowed || state == State.CLOSED) {
      return;
    }
    if (!dispatcher.coalescing() && !writing && outbox.isEmpty() && transport.writable()) {
      outbox.writeNow(message); // the common case: nothing waits, the socket has room
      return;
    }
    outbox.add(message);
    if (writing) {
      return; // the write in progress takes it
    }
    if (dispatcher.coalescing() && outbox.bytes() <= config.outboxMaxBytes()) {
      if (!dirty) {
        dirty = true;
        dispatcher.markDirty(delivery);
      }
      return;
    }
    write();
  }

  /** The loop's coalesced flush reached this session. */
  private void flushCoalesced() {
    dirty = false;
    write();
  }

  /**
   * Writes what the transport takes; then, while there is room, queues the next page of each
   * recovering subscription in turn (so two recoveries progress side by side) and writes again.
   * What cannot be written stays queued until the transport is writable ({@link #onWritable}).
   */
  private void write() {
    if (writing || overflowed || state == State.CLOSED) {
      return;
    }
    writing = true;
    try {
      long page = pageBytes();
      while (true) {
        outbox.write();
        if (outbox.bytes() > config.outboxMaxBytes()) {
          overflow();
          return;
        }
        if (recovering == null
            || recovering.isEmpty()
            || outbox.bytes() > page
            || !transport.writable()
            || state == State.CLOSED) {
          break;
        }
        Subscription next = recovering.poll();
        if (!next.queuePage(page)) {
          recovering.add(next);
        }
      }
      if (recovering != null && recovering.isEmpty()) {
        recovering = null;
      }
    } finally {
      writing = false;
    }
  }

  /** How much of a recovery backlog is queued at a time. */
  private long pageBytes() {
    return Math.max(1, config.outboxMaxBytes() / 4);
  }

  private void send(ServerMessage m) {
    enqueue(encode(m));
  }

  private void reply(Reply r) {
    send(r);
  }

  private OutboundMessage encode(ServerMessage m) {
    return new OutboundMessage(hub.codec().encode(m));
  }

  /** A suggested reconnect delay, spread so that many clients do not return at once. */
  long retryHint() {
    return hub.shutdownRetry();
  }

  /** On the loop: the connection cannot keep up; nothing more is queued, and it closes (4003). */
  private void overflow() {
    if (overflowed) {
      return;
    }
    overflowed = true;
    outbox.clear();
    hub.slowConsumer(this);
    // Closed in a task of its own: closing announces leaves, which must not run inside a fan-out.
    loop.execute(() -> closeNow(CloseCode.SLOW_CONSUMER, CloseCode.SLOW_CONSUMER.reason(), 0));
  }

  /**
   * Any thread: the loop fell so far behind that an event for this connection was dropped; nothing
   * more is delivered to it, and it closes as a slow consumer (4003) to recover on reconnect.
   */
  private void overflowFromAnyThread() {
    if (overflowed) {
      return;
    }
    overflowed = true;
    loop.execute(
        () -> {
          outbox.clear();
          hub.slowConsumer(this);
          closeNow(CloseCode.SLOW_CONSUMER, CloseCode.SLOW_CONSUMER.reason(), 0);
        });
  }

  /** On the loop: delivery to this connection failed unexpectedly; it is closed (1011). */
  private void internalError() {
    loop.execute(() -> closeNow(CloseCode.INTERNAL_ERROR, CloseCode.INTERNAL_ERROR.reason(), 0));
  }

  private void closeNow(CloseCode code, String reason, long retryMillis) {
    if (state == State.CLOSED) {
      return;
    }
    boolean wasConnected = state == State.CONNECTED;
    state = State.CLOSED;
    if (overflowed) {
      outbox.clear();
    } else {
      outbox.writeAllForClose();
    }
    String text = reason == null || reason.isEmpty() ? code.reason() : reason;
    transport.send(
        List.of(
            encode(
                new ServerMessage.Disconnect(code.code(), text, code.reconnect(), retryMillis))));
    transport.close(code.code(), closeReason(text, retryMillis));
    release();
    hub.metrics()
        .disconnected(
            transport.transport(),
            wasConnected,
            code.code(),
            code.name().toLowerCase(java.util.Locale.ROOT));
    hub.connectionLog()
        .disconnected(clientId, loggedUser(), transport.transport(), code.code(), text);
  }

  /**
   * Logs with this connection's id and transport as structured fields (MDC keys {@code connection}
   * and {@code transport}), for the JSON log format.
   */
  private void warn(String format, Object... args) {
    org.slf4j.MDC.put("connection", clientId);
    org.slf4j.MDC.put("transport", transport.transport());
    try {
      log.warn(format, args);
    } finally {
      org.slf4j.MDC.remove("connection");
      org.slf4j.MDC.remove("transport");
    }
  }

  /** The user for log lines: {@code -} before connect succeeded. */
  private String loggedUser() {
    ClientInfo i = info;
    return i == null ? "-" : i.user();
  }

  /** WebSocket close reasons are limited to 123 bytes. */
  static String closeReason(String text, long retryMillis) {
    String suffix = retryMillis > 0 ? "; retry_ms=" + retryMillis : "";
    return truncateUtf8(text, 123 - suffix.length()) + suffix;
  }

  /**
   * The longest prefix of {@code text} that fits in {@code maxBytes} of UTF-8, never splitting a
   * character.
   */
  static String truncateUtf8(String text, int maxBytes) {
    int bytes = 0;
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      int len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (bytes + len > maxBytes) {
        break;
      }
      bytes += len;
      i += Character.charCount(cp);
    }
    return text.substring(0, i);
  }

  private void release() {
    connectTimer.cancel();
    pingTimer.cancel();
    pongTimer.cancel();
    expiryTimer.cancel();
    Subscription[] all = Arrays.copyOf(subscriptions, subscriptionCount);
    subscriptions = NO_SUBSCRIPTIONS;
    subscriptionCount = 0;
    recovering = null;
    queued = null;
    for (Subscription sub : all) {
      leave(sub)
          .exceptionally(
              e -> {
                warn("cleanup of {} in {} failed", clientId, sub.channel(), e);
                return null;
              });
    }
    hub.closed(this);
  }

  private static CompletableFuture<Void> done() {
    return CompletableFuture.completedFuture(null);
  }

  /** The session as delivery sees it; every call comes on the loop unless noted. */
  private final class Delivery implements Connection {
    @Override
    public String clientId() {
      return clientId;
    }

    @Override
    public LoopDispatcher dispatcher() {
      return dispatcher;
    }

    @Override
    public long outboxLimit() {
      return config.outboxMaxBytes();
    }

    @Override
    public void enqueue(OutboundMessage message) {
      ClientSession.this.enqueue(message);
    }

    @Override
    public void streamLost(Subscription subscription) {
      ClientSession.this.streamLost(subscription);
    }

    @Override
    public void overflow() {
      ClientSession.this.overflow();
    }

    @Override
    public void overflowFromAnyThread() {
      ClientSession.this.overflowFromAnyThread();
    }

    @Override
    public void internalError() {
      ClientSession.this.internalError();
    }

    @Override
    public void flushCoalesced() {
      ClientSession.this.flushCoalesced();
    }
  }

  /** A request waiting its turn, or a line that failed to decode but has an id to answer. */
  private record Queued(@Nullable Request request, @Nullable ProtocolException error) {}
}
