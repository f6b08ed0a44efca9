package dev.herald.client;

import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.StreamPosition;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * A Herald client: one logical connection to a Herald server, kept alive across network failures
 * and server restarts, with subscriptions that recover what they missed.
 *
 * <pre>{@code
 * HeraldClient client = HeraldClient.builder(URI.create("wss://herald.example.com/connection/websocket"))
 *     .tokenSupplier(() -> auth.currentJwt())
 *     .listener(new ConnectionListener() {
 *       public void onClosed(CloseInfo reason) { log.warn("Herald closed: {}", reason); }
 *     })
 *     .build();
 * client.connect();
 * Subscription sub = client.subscribe("project:42", pub -> render(pub.data().json()));
 * client.publish("chat:lobby", "{\"text\":\"hello\"}").thenAccept(pos -> ...);
 * ...
 * client.close();
 * }</pre>
 *
 * <p>Threading: every method may be called from any thread and never blocks. Callbacks run on one
 * event thread (or serially on the executor given to {@link Builder#executor}), in order; a
 * callback may call the client, but must not block waiting for one of its futures, which complete
 * on that same thread.
 *
 * <p>Reconnects: after a connection ends with a code of the "reconnect" ranges (docs/protocol.md
 * section 8) or fails to open, the client waits {@code random(0, min(cap, base * 2^attempt))} (or
 * the server's {@code retry_ms} plus a little jitter), fetches a fresh token and connects again,
 * forever; the attempt count resets after each successful connect. Codes 1000 and 4500-4999 stop it
 * ({@link ConnectionState#CLOSED}).
 */
public final class HeraldClient implements AutoCloseable {
  private final ClientEngine engine;

  private HeraldClient(ClientEngine engine) {
    this.engine = engine;
  }

  /**
   * Starts building a client for {@code wsUri}, the server's WebSocket endpoint, for example {@code
   * wss://herald.example.com/connection/websocket}.
   */
  public static Builder builder(URI wsUri) {
    return new Builder(wsUri);
  }

  /**
   * Starts connecting (if not already). The future completes with the connect result when the
   * client is first connected; it keeps waiting across failed attempts and fails only when the
   * server closes with a terminal code (for example 4500, authentication failed) or the client is
   * closed. After such a terminal close, calling this again starts over.
   */
  public CompletableFuture<ConnectResult> connect() {
    return engine.connect();
  }

  /**
   * Subscribes to {@code channel}; see {@link #subscribe(String, StreamPosition,
   * SubscriptionHandler)}.
   */
  public Subscription subscribe(String channel, SubscriptionHandler handler) {
    return engine.subscribe(channel, null, handler);
  }

  /**
   * Subscribes to {@code channel}, resuming after {@code since} (a position saved from an earlier
   * {@link Subscription#position()}; null for "from now on"). Works before {@link #connect()} and
   * while disconnected: the subscribe is sent once connected, and again after every reconnect, with
   * the last position so that missed publications are recovered.
   *
   * @throws IllegalStateException if already subscribed to the channel, or the client is closed
   */
  public Subscription subscribe(String channel, StreamPosition since, SubscriptionHandler handler) {
    return engine.subscribe(channel, since, handler);
  }

  /** The current subscription to {@code channel}, if any. */
  public Optional<Subscription> subscription(String channel) {
    return engine.subscription(channel);
  }

  /**
   * Publishes {@code json} (any JSON value) to {@code channel}, where the namespace allows client
   * publishing. Waits for a connection if needed (up to the request timeout). The future completes
   * with the publication's position, or fails with {@link HeraldException}: refused by the server
   * ({@link HeraldException#error()}), timed out, or connection lost before the reply (in which
   * case the publication may or may not have happened).
   *
   * @throws IllegalArgumentException if {@code json} is not valid JSON
   */
  public CompletableFuture<StreamPosition> publish(String channel, String json) {
    return engine.publish(channel, json);
  }

  public ConnectionState state() {
    return engine.state();
  }

  /**
   * The result of the current connection's connect (client id, user, heartbeat settings), if
   * connected.
   */
  public Optional<ConnectResult> session() {
    return engine.session();
  }

  /**
   * Closes the connection (code 1000) and stops for good: pending requests fail, subscriptions end,
   * {@link ConnectionListener#onClosed} runs, and the threads the client created stop. Idempotent.
   */
  @Override
  public void close() {
    engine.close();
  }

  /** Configuration of a {@link HeraldClient}. Not thread-safe. */
  public static final class Builder {
    /** Headers that the WebSocket handshake sets itself. */
    private static final Set<String> RESERVED_HEADERS =
        Set.of(
            "sec-websocket-protocol",
            "sec-websocket-key",
            "sec-websocket-version",
            "sec-websocket-extensions",
            "sec-websocket-accept",
            "connection",
            "upgrade",
            "host",
            "content-length");

    private static final AtomicInteger THREADS = new AtomicInteger();

    private final List<URI> uris = new java.util.ArrayList<>();
    private final Map<String, List<String>> headers = new LinkedHashMap<>();
    private Supplier<? extends CompletionStage<String>> tokens =
        () -> CompletableFuture.completedFuture(null);
    private String clientName = defaultClientName();
    private Duration backoffBase = Duration.ofMillis(BackoffPolicy.DEFAULT_BASE_MS);
    private Duration backoffCap = Duration.ofMillis(BackoffPolicy.DEFAULT_CAP_MS);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(10);
    private Duration pingInterval = Duration.ZERO;
    private @Nullable ClientScheduler scheduler;
    private @Nullable DoubleSupplier random;
    private @Nullable Executor executor;
    private ConnectionListener listener = new ConnectionListener() {};
    private @Nullable HttpClient httpClient;
    private @Nullable Transport transport;

    private Builder(URI uri) {
      uris.add(checked(uri));
    }

    /**
     * More WebSocket endpoints of the same cluster (other nodes, for example when no load balancer
     * sits in front). The client starts with the first URI and, each time a connection is lost,
     * reconnects to the next one in turn; subscriptions recover from their positions on whichever
     * node they land.
     */
    public Builder alternateUris(List<URI> more) {
      for (URI u : more) {
        uris.add(checked(u));
      }
      return this;
    }

    private static URI checked(URI uri) {
      Objects.requireNonNull(uri, "uri");
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("ws") && !scheme.equals("wss")) {
        throw new IllegalArgumentException("the server URI must be ws:// or wss://: " + uri);
      }
      if (uri.getRawUserInfo() != null) {
        throw new IllegalArgumentException(
            "credentials must not travel in the URL: use tokenSupplier(...) or a Cookie header");
      }
      return uri;
    }

    /**
     * Where the token for the {@code connect} message comes from. Called on the event thread at
     * every connection attempt, so it can hand out a fresh token each time; must not block (use
     * {@link #asyncTokenSupplier} for tokens fetched over the network). A null token means "no
     * token" (cookie authentication). An exception counts as a failed attempt and is retried with
     * backoff.
     */
    public Builder tokenSupplier(Supplier<String> supplier) {
      Objects.requireNonNull(supplier, "supplier");
      this.tokens = () -> CompletableFuture.completedFuture(supplier.get());
      return this;
    }

    /**
     * Like {@link #tokenSupplier} for tokens obtained asynchronously (e.g. from an auth server).
     */
    public Builder asyncTokenSupplier(Supplier<? extends CompletionStage<String>> supplier) {
      this.tokens = Objects.requireNonNull(supplier, "supplier");
      return this;
    }

    /** A fixed token. Prefer {@link #tokenSupplier} for tokens that expire. */
    public Builder token(String token) {
      return tokenSupplier(() -> token);
    }

    /**
     * Adds a header to the WebSocket handshake, for example {@code Origin} or {@code Cookie}
     * (repeatable). The subprotocol header is set by the client.
     */
    public Builder header(String name, String value) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
      if (RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException("header " + name + " is set by the WebSocket handshake");
      }
      headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
      return this;
    }

    /** Base and cap of the reconnect backoff (defaults 500 ms and 30 s). */
    public Builder backoff(Duration base, Duration cap) {
      long b = base.toMillis();
      long c = cap.toMillis();
      if (b <= 0 || c < b || c > BackoffPolicy.MAX_CAP_MS) {
        throw new IllegalArgumentException("need 0 < base <= cap <= 1 day: " + base + ", " + cap);
      }
      this.backoffBase = base;
      this.backoffCap = cap;
      return this;
    }

    /** Time source and timers (default: a daemon timer thread owned by the client). */
    public Builder scheduler(ClientScheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** Randomness for the backoff jitter (default: {@link ThreadLocalRandom}). */
    public Builder random(RandomGenerator random) {
      Objects.requireNonNull(random, "random");
      this.random = random::nextDouble;
      return this;
    }

    /**
     * Executor for the client's logic and callbacks; tasks are run one at a time in order even if
     * it is multi-threaded. Default: a single daemon thread owned by the client.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    public Builder listener(ConnectionListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** The HTTP client for WebSocket connections (for proxies, TLS settings, a cookie handler). */
    public Builder httpClient(HttpClient httpClient) {
      this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
      return this;
    }

    /** Limit for one attempt: token, handshake and connect reply together (default 10 s). */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connect timeout");
      return this;
    }

    /**
     * Limit for publish and presence requests, including the wait for a connection (default 10 s).
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "request timeout");
      return this;
    }

    /**
     * Asks the server for a heartbeat at least this often ({@code ping_ms} in {@code connect}; the
     * server grants at least 1 s and at most its own {@code heartbeat.interval}). For a client
     * behind a proxy that cuts connections idle for less than the server's heartbeat. Default: the
     * server's interval; either way, after two cuts of an idle connection at about the same silence
     * the client asks for heartbeats at half of it for the rest of its lifetime.
     */
    public Builder pingInterval(Duration interval) {
      this.pingInterval = positive(interval, "ping interval");
      return this;
    }

    /** Name and version sent in {@code connect} for the server's diagnostics. */
    public Builder clientName(String clientName) {
      this.clientName = clientName;
      return this;
    }

    /** For tests: replaces the WebSocket transport. */
    Builder transport(Transport transport) {
      this.transport = Objects.requireNonNull(transport, "transport");
      return this;
    }

    public HeraldClient build() {
      SystemScheduler ownedScheduler = scheduler == null ? new SystemScheduler() : null;
      ExecutorService ownedExecutor =
          executor == null
              ? Executors.newSingleThreadExecutor(
                  r -> {
                    Thread t = new Thread(r, "herald-client-events-" + THREADS.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                  })
              : null;
      Transport t = transport;
      if (t == null) {
        HttpClient http =
            httpClient != null
                ? httpClient
                : HttpClient.newBuilder().connectTimeout(connectTimeout).build();
        t = new JdkWebSocketTransport(http);
      }
      Map<String, List<String>> hs = new LinkedHashMap<>();
      headers.forEach((k, v) -> hs.put(k, List.copyOf(v)));
      DoubleSupplier rnd = random != null ? random : () -> ThreadLocalRandom.current().nextDouble();
      ClientEngine engine =
          new ClientEngine(
              uris,
              Collections.unmodifiableMap(hs),
              tokens,
              clientName,
              t,
              ownedScheduler != null ? ownedScheduler : Objects.requireNonNull(scheduler),
              ownedExecutor != null ? ownedExecutor : Objects.requireNonNull(executor),
              listener,
              connectTimeout.toMillis(),
              requestTimeout.toMillis(),
              backoffBase.toMillis(),
              backoffCap.toMillis(),
              pingInterval.toMillis(),
              rnd,
              () -> {
                if (ownedScheduler != null) {
                  ownedScheduler.close();
                }
                if (ownedExecutor != null) {
                  ownedExecutor.shutdown();
                }
              });
      return new HeraldClient(engine);
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive: " + d);
      }
      return d;
    }

    private static String defaultClientName() {
      String version = HeraldClient.class.getPackage().getImplementationVersion();
      return "herald-java/" + (version == null ? "dev" : version);
    }
  }
}
