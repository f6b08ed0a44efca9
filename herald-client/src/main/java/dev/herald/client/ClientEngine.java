package dev.herald.client;

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
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.Ping;
import dev.herald.protocol.Pong;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.ProtocolVersion;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.Disconnect;
import dev.herald.protocol.ServerMessage.ErrorInfo;
import dev.herald.protocol.ServerMessage.Join;
import dev.herald.protocol.ServerMessage.Leave;
import dev.herald.protocol.ServerMessage.PresenceResult;
import dev.herald.protocol.ServerMessage.PresenceUpdate;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.PublishResult;
import dev.herald.protocol.ServerMessage.RefreshResult;
import dev.herald.protocol.ServerMessage.Reply;
import dev.herald.protocol.ServerMessage.Result;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.StreamPosition;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's state machine. Everything that changes state runs on {@link #events}, a serial
 * executor, so the fields marked "event thread" need no locks; the public entry points only enqueue
 * work there. Callbacks to the application run on the same executor, in order.
 *
 * <p>Gap repair: when a publication reveals a gap the client sends {@code unsubscribe} and then
 * {@code subscribe} with {@code since} on the same connection. The server handles requests in
 * order, so the subscribe cannot be refused as a duplicate, and publications received in between
 * are dropped (the subscription is in phase SUBSCRIBING): recovery re-delivers them after the
 * reply.
 */
final class ClientEngine {
  private static final Logger log = LoggerFactory.getLogger(HeraldClient.class);

  /** After a {@code disconnect} message, how long to wait for the close before dropping anyway. */
  static final long DISCONNECT_GRACE_MS = 2_000;

  // The servers to try, in turn: each reconnect after a lost connection moves to the next one.
  private final List<URI> uris;
  private int uriIndex;
  private final Map<String, List<String>> headers;
  private final Supplier<? extends CompletionStage<String>> tokens;
  private final String clientName;
  private final Transport transport;
  private final ClientScheduler scheduler;
  private final Executor events;
  private final ConnectionListener listener;
  private final JsonCodec codec = new JsonCodec();
  private final long connectTimeoutMs;
  private final long requestTimeoutMs;
  private final long backoffBaseMs;
  private final long backoffCapMs;
  private final DoubleSupplier random;
  private final BackoffPolicy backoff;

  /** The heartbeat interval asked for in connect, and what idle cuts taught (event thread). */
  private final IdleCuts idleCuts;

  private final Runnable releaseResources;
  private final String pong;

  // shared
  private final ConcurrentHashMap<String, SubscriptionImpl> subs = new ConcurrentHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile ConnectionState state = ConnectionState.IDLE;
  private volatile @Nullable ConnectResult session;
  private volatile CompletableFuture<ConnectResult> firstConnect = new CompletableFuture<>();

  // event thread only
  private @Nullable Conn current;
  private long nextId = 1;
  private final Map<Long, Pending> inflight = new HashMap<>();
  private final ArrayDeque<Pending> queued = new ArrayDeque<>();
  private @Nullable Cancellable reconnectTimer;

  ClientEngine(
      List<URI> uris,
      Map<String, List<String>> headers,
      Supplier<? extends CompletionStage<String>> tokens,
      String clientName,
      Transport transport,
      ClientScheduler scheduler,
      Executor events,
      ConnectionListener listener,
      long connectTimeoutMs,
      long requestTimeoutMs,
      long backoffBaseMs,
      long backoffCapMs,
      long pingIntervalMs,
      DoubleSupplier random,
      Runnable releaseResources) {
    this.uris = List.copyOf(uris);
    this.headers = headers;
    this.tokens = tokens;
    this.clientName = clientName;
    this.transport = transport;
    this.scheduler = scheduler;
    this.events = new SerialExecutor(events);
    this.listener = listener;
    this.connectTimeoutMs = connectTimeoutMs;
    this.requestTimeoutMs = requestTimeoutMs;
    this.backoffBaseMs = backoffBaseMs;
    this.backoffCapMs = backoffCapMs;
    this.random = random;
    this.backoff = new BackoffPolicy(backoffBaseMs, backoffCapMs, random);
    this.idleCuts = new IdleCuts(pingIntervalMs);
    this.releaseResources = releaseResources;
    this.pong = codec.encodeToString((ClientMessage) Pong.INSTANCE);
  }

  // =============================================================== public entry points (any
  // thread)

  ConnectionState state() {
    return state;
  }

  Optional<ConnectResult> session() {
    return Optional.ofNullable(session);
  }

  CompletableFuture<ConnectResult> connect() {
    if (closed.get()) {
      return CompletableFuture.failedFuture(closedException());
    }
    CompletableFuture<ConnectResult> f = firstConnect;
    events.execute(
        () -> {
          if (closed.get()) {
            return;
          }
          if (state == ConnectionState.IDLE || state == ConnectionState.CLOSED) {
            backoff.reset();
            startAttempt();
          }
        });
    return f.copy();
  }

  Subscription subscribe(
      String channel, @Nullable StreamPosition since, SubscriptionHandler handler) {
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(handler, "handler");
    if (channel.isEmpty()) {
      throw new IllegalArgumentException("channel must not be empty");
    }
    if (closed.get()) {
      throw new IllegalStateException("the client is closed");
    }
    SubscriptionImpl sub =
        new SubscriptionImpl(
            this, channel, handler, since, new BackoffPolicy(backoffBaseMs, backoffCapMs, random));
    if (subs.putIfAbsent(channel, sub) != null) {
      throw new IllegalStateException("already subscribed to '" + channel + "'");
    }
    events.execute(
        () -> {
          if (sub.phase == SubscriptionImpl.Phase.WAITING && isLive() && registered(sub)) {
            sendSubscribe(sub);
          }
        });
    return sub;
  }

  Optional<Subscription> subscription(String channel) {
    return Optional.ofNullable(subs.get(channel));
  }

  CompletableFuture<StreamPosition> publish(String channel, String json) {
    Objects.requireNonNull(channel, "channel");
    RawJson data = parse(json, "publication data");
    return request(
        id -> new Publish(id, channel, data),
        result -> {
          PublishResult p = codec.readResult(result, PublishResult.class);
          return new StreamPosition(p.epoch(), p.offset());
        });
  }

  CompletableFuture<List<ClientInfo>> presence(SubscriptionImpl sub) {
    return request(
        id -> new PresenceQuery(id, sub.channel()),
        result -> codec.readResult(result, PresenceResult.class).clients());
  }

  CompletableFuture<Void> setPresenceState(SubscriptionImpl sub, RawJson state) {
    events.execute(
        () -> {
          if (sub.phase != SubscriptionImpl.Phase.DONE) {
            sub.presenceState = state;
          }
        });
    return request(id -> new PresenceSet(id, sub.channel(), state), result -> null);
  }

  CompletableFuture<Void> unsubscribe(SubscriptionImpl sub) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (!subs.remove(sub.channel(), sub)) {
      done.complete(null);
      return done;
    }
    sub.markUnsubscribed();
    events.execute(
        () -> {
          SubscriptionImpl.Phase phase = sub.phase;
          sub.end(SubscriptionState.UNSUBSCRIBED);
          boolean serverKnows =
              phase == SubscriptionImpl.Phase.SUBSCRIBING
                  || phase == SubscriptionImpl.Phase.SUBSCRIBED;
          if (serverKnows && isLive()) {
            sendInternal(
                id -> new Unsubscribe(id, sub.channel()),
                reply -> done.complete(null),
                e -> done.complete(null));
          } else {
            done.complete(null);
          }
        });
    return done;
  }

  void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    events.execute(
        () -> {
          Conn c = current;
          current = null;
          cancel(reconnectTimer);
          reconnectTimer = null;
          if (c != null) {
            c.cancelTimers();
            if (c.link != null) {
              c.link.close(1000, "client closed");
            }
          }
          HeraldException ex = closedException();
          failInflight(ex);
          failQueued(ex);
          for (SubscriptionImpl s : subs.values()) {
            s.end(SubscriptionState.UNSUBSCRIBED);
          }
          subs.clear();
          firstConnect.completeExceptionally(ex);
          session = null;
          boolean wasClosed = state == ConnectionState.CLOSED;
          setState(ConnectionState.CLOSED);
          if (!wasClosed) {
            safe(() -> listener.onClosed(new CloseInfo(1000, "client closed", 0, false)));
          }
          releaseResources.run();
        });
  }

  RawJson parseObject(String json, String what) {
    RawJson raw = parse(json, what);
    if (!raw.isObject()) {
      throw new IllegalArgumentException(what + " must be a JSON object");
    }
    return raw;
  }

  private RawJson parse(String json, String what) {
    Objects.requireNonNull(json, what);
    try {
      return codec.parseRaw(json);
    } catch (ProtocolException e) {
      throw new IllegalArgumentException(what + " is not valid JSON: " + e.getMessage(), e);
    }
  }

  // =============================================================== connection life cycle

  /** One connection attempt and, if it succeeds, the connection. */
  private final class Conn implements Transport.Listener {
    Transport.@Nullable Connection link;
    volatile long lastReceived = scheduler.nowMillis();
    boolean connected;
    @Nullable ConnectResult result;
    long heartbeatTimeoutMs;
    @Nullable Cancellable connectTimer;
    @Nullable Cancellable heartbeatTimer;
    @Nullable Cancellable graceTimer;
    @Nullable Cancellable refreshTimer;
    @Nullable CloseInfo disconnect;
    @Nullable ErrorInfo connectError;

    // ---- transport threads: only hand over to the event thread

    @Override
    public void onActivity() {
      lastReceived = scheduler.nowMillis();
    }

    @Override
    public CompletionStage<?> onMessage(String text) {
      lastReceived = scheduler.nowMillis();
      CompletableFuture<Void> processed = new CompletableFuture<>();
      events.execute(
          () -> {
            try {
              if (this == current) {
                onFrame(this, text);
              }
            } finally {
              processed.complete(null);
            }
          });
      return processed;
    }

    @Override
    public void onClosed(int code, String reason) {
      events.execute(() -> onLinkClosed(this, CloseInfo.fromCloseFrame(code, reason)));
    }

    @Override
    public void onError(Throwable error) {
      events.execute(
          () -> {
            if (this == current) {
              learnFromCut(this);
              drop(this, CloseInfo.local("connection error: " + describe(error)), error, true);
            }
          });
    }

    void cancelTimers() {
      cancel(connectTimer);
      cancel(heartbeatTimer);
      cancel(graceTimer);
      cancel(refreshTimer);
    }
  }

  private boolean isLive() {
    return current != null && current.connected;
  }

  private void startAttempt() {
    cancel(reconnectTimer);
    reconnectTimer = null;
    Conn c = new Conn();
    current = c;
    setState(ConnectionState.CONNECTING);
    safe(listener::onConnecting);
    if (current != c) {
      return;
    }
    c.connectTimer =
        schedule(
            connectTimeoutMs,
            () -> {
              if (c == current && !c.connected) {
                drop(
                    c,
                    CloseInfo.local("no connect reply within " + connectTimeoutMs + " ms"),
                    null,
                    true);
              }
            });
    CompletionStage<String> token = nextToken();
    if (token == null) {
      token = CompletableFuture.completedFuture(null);
    }
    token.whenComplete(
        (t, error) ->
            events.execute(
                () -> {
                  if (c != current) {
                    return;
                  }
                  if (error != null) {
                    Throwable cause = JdkWebSocketTransport.unwrap(error);
                    drop(
                        c,
                        CloseInfo.local("token supplier failed: " + describe(cause)),
                        cause,
                        false);
                    return;
                  }
                  open(c, t);
                }));
  }

  /** The token supplier's answer (null for none); one that throws counts as a failed answer. */
  private CompletionStage<String> nextToken() {
    try {
      return tokens.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** The server this attempt goes to. */
  private URI uri() {
    return uris.get(uriIndex);
  }

  private void open(Conn c, String token) {
    CompletableFuture<Transport.Connection> opening;
    try {
      opening = transport.open(uri(), headers, Duration.ofMillis(connectTimeoutMs), c);
    } catch (RuntimeException e) {
      opening = CompletableFuture.failedFuture(e);
    }
    // The callback handles the outcome; its own future carries nothing more.
    var unused =
        opening.whenComplete(
            (link, error) -> {
              if (link != null && closed.get()) {
                link.abort();
                return;
              }
              events.execute(
                  () -> {
                    if (c != current) {
                      if (link != null) {
                        link.abort();
                      }
                      return;
                    }
                    if (error != null) {
                      Throwable cause = JdkWebSocketTransport.unwrap(error);
                      // A server that asked for a delay (a draining node's 503 and Retry-After)
                      // gets it, like a 4001's retry_ms; the next attempt goes to the next URI.
                      long retryMs = cause instanceof RefusedHandshake r ? r.retryMs() : 0;
                      drop(
                          c,
                          new CloseInfo(
                              CloseInfo.ABNORMAL,
                              "connection failed: " + describe(cause),
                              retryMs,
                              false),
                          cause,
                          false);
                      return;
                    }
                    c.link = link;
                    Pending p =
                        new Pending(
                            id ->
                                new Connect(
                                    id,
                                    token,
                                    clientName,
                                    ProtocolVersion.CURRENT,
                                    idleCuts.wantedPingMs()),
                            reply -> onConnectReply(c, reply),
                            e -> {});
                    send(p);
                  });
            });
  }

  private void onConnectReply(Conn c, Reply reply) {
    if (c != current) {
      return;
    }
    ErrorInfo refused = reply.error();
    if (refused != null) {
      // The server closes next (4500 unauthorized, 4005 expired token, ...); the close decides.
      c.connectError = refused;
      notifyError(HeraldException.fromError("connect refused", refused));
      return;
    }
    ConnectResult r;
    try {
      r = codec.readResult(requireResult(reply), ConnectResult.class);
    } catch (ProtocolException e) {
      drop(c, CloseInfo.local("invalid connect reply: " + e.getMessage()), e, true);
      return;
    }
    c.connected = true;
    c.result = r;
    cancel(c.connectTimer);
    c.connectTimer = null;
    if (r.pingMs() > 0) {
      c.heartbeatTimeoutMs = r.pingMs() + r.pongMs();
      armHeartbeat(c, c.heartbeatTimeoutMs);
    }
    backoff.reset();
    session = r;
    scheduleRefresh(c, r.expiresMs());
    setState(ConnectionState.CONNECTED);
    log.debug(
        "connected to {} as client {} (user {}, node {})", uri(), r.client(), r.user(), r.node());
    firstConnect.complete(r);
    safe(() -> listener.onConnected(r));
    for (SubscriptionImpl sub : subs.values()) {
      if (c != current) {
        return;
      }
      if (sub.phase == SubscriptionImpl.Phase.WAITING && registered(sub)) {
        sendSubscribe(sub);
      }
    }
    while (!queued.isEmpty() && c == current) {
      send(queued.poll());
    }
  }

  /**
   * Before the connection's credential expires (a minute ahead, or a tenth of the time left when
   * that is less), asks the token supplier for a fresh token and sends {@code refresh}, so the
   * server does not close the connection with 4005. A refused refresh is reported to the listener's
   * {@code onError} and tried again halfway to the expiry; a supplier that returns no token leaves
   * the expiry as it is (the server closes at expiry and the client reconnects with a new token).
   */
  private void scheduleRefresh(Conn c, long expiresMs) {
    cancel(c.refreshTimer);
    c.refreshTimer = null;
    if (expiresMs <= 0) {
      return;
    }
    long left = expiresMs - scheduler.nowMillis();
    if (left <= 1_000) {
      return;
    }
    long delay = left - Math.min(60_000, left / 10);
    c.refreshTimer = schedule(delay, () -> refresh(c, expiresMs));
  }

  private void refresh(Conn c, long expiresMs) {
    if (c != current || !c.connected) {
      return;
    }
    CompletionStage<String> token = nextToken();
    if (token == null) {
      return;
    }
    token.whenComplete(
        (t, error) ->
            events.execute(
                () -> {
                  if (c != current || !c.connected) {
                    return;
                  }
                  if (error != null || t == null) {
                    if (error != null) {
                      notifyError(
                          new HeraldException(
                              "token supplier failed for refresh",
                              JdkWebSocketTransport.unwrap(error)));
                    }
                    retryRefresh(c, expiresMs);
                    return;
                  }
                  sendInternal(
                      id -> new Refresh(id, t),
                      reply -> onRefreshReply(c, reply, expiresMs),
                      e -> {});
                }));
  }

  private void onRefreshReply(Conn c, Reply reply, long expiresMs) {
    if (c != current) {
      return;
    }
    ErrorInfo refused = reply.error();
    if (refused != null) {
      notifyError(HeraldException.fromError("refresh refused", refused));
      if (refused.code() != ErrorCode.USER_MISMATCH.code()) {
        retryRefresh(c, expiresMs);
      }
      return;
    }
    try {
      RefreshResult r = codec.readResult(requireResult(reply), RefreshResult.class);
      log.debug("credential refreshed, now expires at {}", r.expiresMs());
      scheduleRefresh(c, r.expiresMs());
    } catch (ProtocolException e) {
      notifyError(new HeraldException("invalid refresh reply: " + e.getMessage(), e));
    }
  }

  private void retryRefresh(Conn c, long expiresMs) {
    long left = expiresMs - scheduler.nowMillis();
    if (left > 2_000) {
      c.refreshTimer = schedule(left / 2, () -> refresh(c, expiresMs));
    }
  }

  private void armHeartbeat(Conn c, long delayMs) {
    c.heartbeatTimer =
        schedule(
            delayMs,
            () -> {
              if (c != current) {
                return;
              }
              long idle = scheduler.nowMillis() - c.lastReceived;
              if (idle >= c.heartbeatTimeoutMs) {
                drop(
                    c,
                    CloseInfo.local("nothing received from the server for " + idle + " ms"),
                    null,
                    true);
              } else {
                armHeartbeat(c, c.heartbeatTimeoutMs - idle);
              }
            });
  }

  /**
   * The live connection {@code c} ended without a close frame: if that looks like a proxy's idle
   * timeout, heartbeats are asked for more often from the next connect on ({@link IdleCuts}).
   */
  private void learnFromCut(Conn c) {
    ConnectResult r = c.result;
    if (!c.connected || r == null) {
      return;
    }
    String learned = idleCuts.observe(scheduler.nowMillis() - c.lastReceived, r.pingMs());
    if (learned != null) {
      log.info("{}: {}", uri(), learned);
    }
  }

  private void onLinkClosed(Conn c, CloseInfo frame) {
    if (c != current) {
      return;
    }
    if (frame.code() == CloseInfo.ABNORMAL) {
      learnFromCut(c);
    }
    CloseInfo info = frame;
    if (c.disconnect != null) {
      // The disconnect message carries the same code and reason; take the delay from either.
      info =
          c.disconnect.retryMs() > 0 || frame.retryMs() == 0
              ? c.disconnect
              : new CloseInfo(c.disconnect.code(), c.disconnect.reason(), frame.retryMs(), true);
    }
    drop(c, info, null, false);
  }

  /**
   * The connection {@code c} (current) is gone: fail what was in flight, then reconnect after the
   * backoff delay or stop for good.
   */
  private void drop(Conn c, CloseInfo observed, @Nullable Throwable cause, boolean abortLink) {
    // When the server said why it ends the connection before the link broke, its code and
    // suggested delay decide what happens next, not the local symptom.
    CloseInfo info = !observed.remote() && c.disconnect != null ? c.disconnect : observed;
    current = null;
    c.cancelTimers();
    if (abortLink && c.link != null) {
      c.link.abort();
    }
    session = null;
    failInflight(new HeraldException("connection lost: " + info, null, info, null));
    for (SubscriptionImpl sub : subs.values()) {
      sub.connectionLost();
    }
    if (cause != null) {
      notifyError(cause);
    }
    BackoffPolicy.Decision decision = backoff.decide(info);
    if (!decision.reconnect()) {
      terminal(info, c.connectError);
      return;
    }
    long delay = decision.delayMs();
    log.info("connection to {} ended ({}); reconnecting in {} ms", uri(), info, delay);
    uriIndex = (uriIndex + 1) % uris.size(); // another node of the cluster, if several
    setState(ConnectionState.RECONNECTING);
    safe(() -> listener.onReconnecting(info, delay));
    if (state != ConnectionState.RECONNECTING || current != null) {
      return;
    }
    reconnectTimer =
        schedule(
            delay,
            () -> {
              if (state == ConnectionState.RECONNECTING && current == null && !closed.get()) {
                startAttempt();
              }
            });
  }

  private void terminal(CloseInfo info, @Nullable ErrorInfo connectError) {
    log.warn("connection to {} closed by the server ({}); not reconnecting", uri(), info);
    setState(ConnectionState.CLOSED);
    String message =
        "connection closed by the server: "
            + info
            + (connectError == null
                ? ""
                : " (connect refused: " + connectError.code() + " " + connectError.message() + ")");
    HeraldException ex = new HeraldException(message, connectError, info, null);
    failQueued(ex);
    CompletableFuture<ConnectResult> f = firstConnect;
    firstConnect = new CompletableFuture<>(); // a later connect() starts over
    f.completeExceptionally(ex);
    safe(() -> listener.onClosed(info));
  }

  // =============================================================== incoming messages

  private void onFrame(Conn c, String frame) {
    int start = 0;
    int len = frame.length();
    while (start < len && c == current) {
      int end = frame.indexOf(ProtocolVersion.MESSAGE_SEPARATOR, start);
      if (end < 0) {
        end = len;
      }
      String line = frame.substring(start, end);
      start = end + 1;
      if (line.isBlank()) {
        continue;
      }
      ServerMessage m;
      try {
        m = codec.decodeServer(line);
      } catch (ProtocolException e) {
        if (e.code() == ErrorCode.METHOD_NOT_FOUND) {
          log.debug("ignoring message of unknown type: {}", e.getMessage());
        } else {
          log.warn("undecodable message from the server: {}", e.getMessage());
          notifyError(
              new HeraldException("undecodable message from the server: " + e.getMessage(), e));
        }
        continue;
      }
      onMessage(c, m);
    }
  }

  private void onMessage(Conn c, ServerMessage m) {
    if (m instanceof Reply reply) {
      onReply(reply);
    } else if (m instanceof Pub pub) {
      onPub(pub);
    } else if (m instanceof Ping) {
      if (c.link != null) {
        c.link.send(pong);
      }
    } else if (m instanceof Join j) {
      presenceEvent(j.channel(), h -> h.onJoin(j.client()));
    } else if (m instanceof Leave l) {
      presenceEvent(l.channel(), h -> h.onLeave(l.client()));
    } else if (m instanceof PresenceUpdate u) {
      presenceEvent(u.channel(), h -> h.onPresenceUpdate(u.client()));
    } else if (m instanceof Disconnect d) {
      CloseInfo disconnect = CloseInfo.fromDisconnect(d);
      c.disconnect = disconnect;
      cancel(c.graceTimer);
      c.graceTimer =
          schedule(
              DISCONNECT_GRACE_MS,
              () -> {
                if (c == current) {
                  drop(c, disconnect, null, true);
                }
              });
    } else if (m instanceof ServerMessage.Unsubscribed u) {
      onServerUnsubscribe(u);
    } else if (m instanceof ServerMessage.Error err) {
      ErrorInfo e = err.error();
      log.warn("error from the server: {} {}", e.code(), e.message());
      notifyError(HeraldException.fromError("error from the server", e));
    }
    // Pong: nothing to do, receiving it already counted as activity.
  }

  /**
   * The server ended a subscription. A stream reset ({@code 116}) is not final: the subscription is
   * made again from its last position, whose reply says whether anything was lost (then the handler
   * hears {@code onStateLost}). Anything else (e.g. access revoked) is final.
   */
  private void onServerUnsubscribe(ServerMessage.Unsubscribed u) {
    SubscriptionImpl sub = subs.get(u.channel());
    if (sub == null || sub.phase == SubscriptionImpl.Phase.DONE) {
      return;
    }
    if (u.code() == ErrorCode.STREAM_RESET.code()) {
      log.info(
          "stream of {} was reset; resubscribing from {}", u.channel(), sub.tracker.position());
      if (isLive()) {
        sendSubscribe(sub);
      } else {
        sub.setPhase(SubscriptionImpl.Phase.WAITING); // the reconnect resubscribes it
      }
      return;
    }
    log.warn("server ended subscription to {}: {} {}", u.channel(), u.code(), u.reason());
    subs.remove(u.channel(), sub);
    sub.end(SubscriptionState.FAILED);
    ErrorInfo error = new ErrorInfo(u.code(), u.reason());
    safe(() -> sub.handler.onError(error));
  }

  private void onReply(Reply reply) {
    Pending p = inflight.remove(reply.id());
    if (p == null || p.done) {
      log.debug("reply to unknown or expired request {}", reply.id());
      return;
    }
    p.finish();
    try {
      p.onReply.accept(reply);
    } catch (RuntimeException e) {
      log.warn("failed to handle reply {}", reply.id(), e);
    }
  }

  private void onPub(Pub pub) {
    SubscriptionImpl sub = subs.get(pub.channel());
    if (sub == null || sub.phase != SubscriptionImpl.Phase.SUBSCRIBED) {
      return;
    }
    PositionTracker.PubOutcome outcome = sub.tracker.onPub(pub.epoch(), pub.offset());
    switch (outcome) {
      case ACCEPT:
        sub.syncPosition();
        safe(() -> sub.handler.onPublication(pub));
        break;
      case DUPLICATE:
        log.debug(
            "dropping duplicate publication {}@{}:{} (at {})",
            pub.channel(),
            pub.epoch(),
            pub.offset(),
            sub.tracker.position());
        break;
      case GAP:
      default:
        log.info(
            "gap on {}: got {}:{} after {}; resubscribing to recover",
            pub.channel(),
            pub.epoch(),
            pub.offset(),
            sub.tracker.position());
        sendInternal(id -> new Unsubscribe(id, sub.channel()), reply -> {}, e -> {});
        if (isLive()) {
          sendSubscribe(sub);
        }
        break;
    }
  }

  private void presenceEvent(String channel, Consumer<SubscriptionHandler> call) {
    SubscriptionImpl sub = subs.get(channel);
    if (sub != null
        && (sub.phase == SubscriptionImpl.Phase.SUBSCRIBED
            || sub.phase == SubscriptionImpl.Phase.SUBSCRIBING)) {
      safe(() -> call.accept(sub.handler));
    }
  }

  // =============================================================== subscriptions

  private boolean registered(SubscriptionImpl sub) {
    return subs.get(sub.channel()) == sub;
  }

  private void sendSubscribe(SubscriptionImpl sub) {
    StreamPosition since = sub.tracker.position();
    sub.setPhase(SubscriptionImpl.Phase.SUBSCRIBING);
    sub.requestId =
        sendInternal(
            id -> new Subscribe(id, sub.channel(), since),
            reply -> onSubscribeReply(sub, since, reply),
            e -> {});
  }

  private void onSubscribeReply(SubscriptionImpl sub, @Nullable StreamPosition since, Reply reply) {
    if (sub.phase != SubscriptionImpl.Phase.SUBSCRIBING
        || sub.requestId != reply.id()
        || !registered(sub)) {
      return;
    }
    ErrorInfo error = reply.error();
    if (error != null) {
      ErrorCode code = error.errorCode();
      if (code == ErrorCode.INTERNAL
          || code == ErrorCode.UNAVAILABLE
          || code == ErrorCode.TOO_MANY_REQUESTS
          || code == ErrorCode.ALREADY_SUBSCRIBED) {
        if (code == ErrorCode.ALREADY_SUBSCRIBED) {
          // The server's view differs from ours: clear it, then subscribe again (with since).
          sendInternal(id -> new Unsubscribe(id, sub.channel()), r -> {}, e -> {});
        }
        long delay = sub.retryBackoff.nextDelay();
        log.info(
            "subscribe to {} failed ({} {}); retrying in {} ms",
            sub.channel(),
            error.code(),
            error.message(),
            delay);
        sub.setPhase(SubscriptionImpl.Phase.RETRY_WAIT);
        sub.retryTimer =
            schedule(
                delay,
                () -> {
                  if (sub.phase == SubscriptionImpl.Phase.RETRY_WAIT) {
                    sub.setPhase(SubscriptionImpl.Phase.WAITING);
                    if (isLive() && registered(sub)) {
                      sendSubscribe(sub);
                    }
                  }
                });
      } else {
        log.warn("subscribe to {} refused: {} {}", sub.channel(), error.code(), error.message());
        subs.remove(sub.channel(), sub);
        sub.end(SubscriptionState.FAILED);
      }
      safe(() -> sub.handler.onError(error));
      return;
    }
    SubscribeResult r;
    try {
      r = codec.readResult(requireResult(reply), SubscribeResult.class);
    } catch (ProtocolException e) {
      // Treat like a transient failure of this connection.
      notifyError(new HeraldException("invalid subscribe reply: " + e.getMessage(), e));
      Conn c = current;
      if (c != null) {
        drop(c, CloseInfo.local("invalid subscribe reply"), null, true);
      }
      return;
    }
    sub.retryBackoff.reset();
    PositionTracker.SubscribeOutcome outcome =
        sub.tracker.onSubscribed(since, r.epoch(), r.offset(), r.recovered());
    sub.syncPosition();
    sub.setPhase(SubscriptionImpl.Phase.SUBSCRIBED);
    boolean resubscribe = sub.everSubscribed;
    sub.everSubscribed = true;
    if (outcome == PositionTracker.SubscribeOutcome.STATE_LOST) {
      log.info(
          "recovery on {} failed (since {}, now {}:{}): state lost",
          sub.channel(),
          since,
          r.epoch(),
          r.offset());
      safe(() -> sub.handler.onStateLost(r));
    } else {
      safe(() -> sub.handler.onSubscribed(r));
    }
    RawJson presenceState = sub.presenceState;
    if (resubscribe
        && presenceState != null
        && isLive()
        && registered(sub)
        && sub.phase == SubscriptionImpl.Phase.SUBSCRIBED) {
      sendInternal(
          id -> new PresenceSet(id, sub.channel(), presenceState),
          reply2 -> {
            if (reply2.isError()) {
              log.warn("restoring presence state on {} failed: {}", sub.channel(), reply2.error());
            }
          },
          e -> {});
    }
  }

  // =============================================================== requests

  /** A reply without an error has a result (the codec refuses one with neither). */
  private static Result requireResult(Reply reply) throws ProtocolException {
    Result result = reply.result();
    if (result == null) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "reply without result or error", 0);
    }
    return result;
  }

  @FunctionalInterface
  private interface ResultReader<T> {
    @Nullable T read(Result result) throws ProtocolException;
  }

  private static final class Pending {
    final LongFunction<Request> factory;
    final Consumer<Reply> onReply;
    final Consumer<Throwable> onFailure;
    long id;
    @Nullable Cancellable timeout;
    boolean done;

    Pending(LongFunction<Request> factory, Consumer<Reply> onReply, Consumer<Throwable> onFailure) {
      this.factory = factory;
      this.onReply = onReply;
      this.onFailure = onFailure;
    }

    void finish() {
      done = true;
      if (timeout != null) {
        timeout.cancel();
      }
    }

    void fail(Throwable error) {
      if (!done) {
        finish();
        onFailure.accept(error);
      }
    }
  }

  /** An application request: waits for a connection if needed, times out, fails on drop. */
  private <T> CompletableFuture<T> request(LongFunction<Request> factory, ResultReader<T> reader) {
    CompletableFuture<T> f = new CompletableFuture<>();
    if (closed.get()) {
      f.completeExceptionally(closedException());
      return f;
    }
    events.execute(
        () -> {
          if (closed.get()) {
            f.completeExceptionally(closedException());
            return;
          }
          if (state == ConnectionState.CLOSED) {
            f.completeExceptionally(
                new HeraldException("not connected: the server closed the connection for good"));
            return;
          }
          Pending p =
              new Pending(factory, reply -> complete(f, reply, reader), f::completeExceptionally);
          p.timeout =
              schedule(
                  requestTimeoutMs,
                  () -> {
                    if (!p.done) {
                      queued.remove(p);
                      inflight.remove(p.id);
                      p.fail(
                          new HeraldException(
                              "no reply within " + requestTimeoutMs + " ms",
                              new TimeoutException()));
                    }
                  });
          if (isLive()) {
            send(p);
          } else {
            queued.add(p);
          }
        });
    return f;
  }

  private <T> void complete(CompletableFuture<T> f, Reply reply, ResultReader<T> reader) {
    ErrorInfo error = reply.error();
    if (error != null) {
      f.completeExceptionally(HeraldException.fromError("request refused", error));
      return;
    }
    try {
      f.complete(reader.read(requireResult(reply)));
    } catch (ProtocolException | RuntimeException e) {
      f.completeExceptionally(new HeraldException("invalid reply: " + e.getMessage(), e));
    }
  }

  /** A request of the client's own, sent only on a live connection; returns its id. */
  private long sendInternal(
      LongFunction<Request> factory, Consumer<Reply> onReply, Consumer<Throwable> onFailure) {
    Pending p = new Pending(factory, onReply, onFailure);
    send(p);
    return p.id;
  }

  /** Sends on the current connection (which must have a link); registers for the reply. */
  private void send(Pending p) {
    Conn c = Objects.requireNonNull(current, "no connection");
    Transport.Connection link = Objects.requireNonNull(c.link, "no link");
    long id = nextId++;
    p.id = id;
    byte[] bytes;
    try {
      bytes = codec.encode(p.factory.apply(id));
    } catch (RuntimeException e) {
      p.fail(e);
      return;
    }
    int max = c.result == null ? 0 : c.result.maxMessageBytes();
    if (max > 0 && bytes.length > max) {
      // Sending it would only get the connection closed with 1009.
      p.fail(
          new HeraldException(
              "message of " + bytes.length + " bytes exceeds the server's limit of " + max));
      return;
    }
    inflight.put(id, p);
    link.send(new String(bytes, StandardCharsets.UTF_8));
  }

  private void failInflight(HeraldException ex) {
    List<Pending> ps = new ArrayList<>(inflight.values());
    inflight.clear();
    for (Pending p : ps) {
      p.fail(ex);
    }
  }

  private void failQueued(HeraldException ex) {
    List<Pending> ps = new ArrayList<>(queued);
    queued.clear();
    for (Pending p : ps) {
      p.fail(ex);
    }
  }

  // =============================================================== helpers

  private void setState(ConnectionState s) {
    if (state != s) {
      log.debug("state {} -> {}", state, s);
      state = s;
    }
  }

  /** Schedules {@code task} on the event thread after {@code delayMs}. */
  private Cancellable schedule(long delayMs, Runnable task) {
    try {
      return scheduler.schedule(delayMs, () -> events.execute(task));
    } catch (RuntimeException e) {
      log.debug("scheduler refused a task", e);
      return () -> {};
    }
  }

  private static void cancel(@Nullable Cancellable c) {
    if (c != null) {
      c.cancel();
    }
  }

  private void notifyError(Throwable error) {
    safe(() -> listener.onError(error));
  }

  private static void safe(Runnable callback) {
    try {
      callback.run();
    } catch (RuntimeException e) {
      log.warn("Herald client callback threw", e);
    }
  }

  private static HeraldException closedException() {
    return new HeraldException("the client is closed");
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
