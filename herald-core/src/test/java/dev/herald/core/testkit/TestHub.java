package dev.herald.core.testkit;

import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.Authenticator;
import dev.herald.core.auth.ChannelAuthorizer;
import dev.herald.core.auth.Principal;
import dev.herald.core.broker.Broker;
import dev.herald.core.broker.MemoryBroker;
import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.hub.ClientSession;
import dev.herald.core.hub.ConnectionContext;
import dev.herald.core.hub.Hub;
import dev.herald.core.hub.HubConfig;
import dev.herald.core.presence.PresenceStore;
import dev.herald.core.time.Scheduler;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.RawJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A {@link Hub} wired for tests: fake time ({@link ManualScheduler}), a token-is-the-user
 * authenticator and a fixed set of namespaces.
 *
 * <p>Tokens: {@code "expired"} fails as an expired credential (109 / 4005), {@code "bad"} fails as
 * an invalid one (101 / 4500), {@code "error"} makes the authenticator itself fail (100 / 1011), a
 * missing token fails as invalid; tokens registered with {@link Builder#principal} map to that
 * principal; any other token of letters, digits, {@code _} and {@code -} authenticates as the user
 * of that name with info {@code {"name":"<token>"}}.
 *
 * <p>Namespaces: {@value #TEST} (history, presence with join/leave, client publish), {@value #USER}
 * (personal, history, no presence, no client publish), {@value #NOHIST} (history size 0, client
 * publish, no presence), {@value #NOPRESENCE} (history, no presence, no client publish).
 */
public final class TestHub implements AutoCloseable {
  public static final String TEST = "test";
  public static final String USER = "user";
  public static final String NOHIST = "nohist";
  public static final String NOPRESENCE = "nopresence";

  private static final JsonCodec CODEC = new JsonCodec();

  private final Hub hub;
  private final ManualScheduler scheduler;
  private final Broker broker;
  private final List<TestClient> clients = new ArrayList<>();

  private TestHub(Hub hub, ManualScheduler scheduler, Broker broker) {
    this.hub = hub;
    this.scheduler = scheduler;
    this.broker = broker;
  }

  public static Builder builder() {
    return new Builder();
  }

  public static TestHub create() {
    return builder().build();
  }

  /** The default namespaces described in the class comment. */
  public static List<NamespaceSettings> defaultNamespaces() {
    return List.of(
        NamespaceSettings.builder(TEST)
            .historySize(100)
            .historyTtl(Duration.ofMinutes(10))
            .streamTtl(Duration.ofHours(1))
            .presence(true)
            .joinLeave(true)
            .clientPublish(true)
            .build(),
        NamespaceSettings.builder(USER)
            .historySize(100)
            .personal(true)
            .presence(false)
            .joinLeave(false)
            .clientPublish(false)
            .build(),
        NamespaceSettings.builder(NOHIST)
            .historySize(0)
            .presence(false)
            .joinLeave(false)
            .clientPublish(true)
            .build(),
        NamespaceSettings.builder(NOPRESENCE)
            .historySize(100)
            .presence(false)
            .joinLeave(false)
            .clientPublish(false)
            .build());
  }

  /** Config used unless the builder is given another: defaults with node "test-node". */
  public static HubConfig defaultConfig() {
    return HubConfig.defaults().withNode("test-node");
  }

  /** Compact JSON text as {@link RawJson}; fails the test on invalid JSON. */
  public static RawJson json(String text) {
    try {
      return CODEC.parseRaw(text);
    } catch (ProtocolException e) {
      throw new IllegalArgumentException("invalid JSON in test: " + text, e);
    }
  }

  public Hub hub() {
    return hub;
  }

  public ManualScheduler scheduler() {
    return scheduler;
  }

  public Broker broker() {
    return broker;
  }

  public JsonCodec codec() {
    return hub.codec();
  }

  /** Opens a session on a new direct-executor transport, without connecting. */
  public TestClient open() {
    return open(RecordingTransport.direct());
  }

  /** Opens a session on the given transport, without connecting. */
  public TestClient open(RecordingTransport transport) {
    return open(transport, new ConnectionContext(Map.of("user-agent", "testkit"), "127.0.0.1"));
  }

  public TestClient open(RecordingTransport transport, ConnectionContext context) {
    ClientSession session = hub.openSession(transport, context);
    transport.attach(session);
    TestClient c = new TestClient(this, transport, session);
    synchronized (clients) {
      clients.add(c);
    }
    return c;
  }

  /** Opens a direct-executor session and connects it with {@code token}; the reply is consumed. */
  public TestClient connect(String token) {
    return connect(token, RecordingTransport.direct());
  }

  public TestClient connect(String token, RecordingTransport transport) {
    TestClient c = open(transport);
    c.connectOk(token);
    return c;
  }

  /** Publishes from the server side and waits for the position. */
  public dev.herald.protocol.StreamPosition publish(String channel, String json) {
    return hub.publish(channel, json(json)).join();
  }

  /** Closes the hub and stops every threaded transport opened through this helper. */
  @Override
  public void close() {
    hub.close();
    synchronized (clients) {
      for (TestClient c : clients) {
        c.transport().close();
      }
    }
  }

  /** Assembles a {@link TestHub}. */
  public static final class Builder {
    private HubConfig config = defaultConfig();
    private final Map<String, NamespaceSettings> namespaces = new LinkedHashMap<>();
    private final Map<String, Principal> principals = new ConcurrentHashMap<>();
    private Function<Scheduler, Broker> broker = MemoryBroker::new;
    private ChannelAuthorizer authorizer;
    private Authenticator authenticator;
    private PresenceStore presence;
    private ManualScheduler scheduler;
    private dev.herald.core.hub.HubMetrics metrics;
    private dev.herald.core.broker.ControlBus control;
    private dev.herald.core.limits.UserConnections userConnections;

    private Builder() {
      for (NamespaceSettings ns : defaultNamespaces()) {
        namespaces.put(ns.name(), ns);
      }
    }

    public Builder config(HubConfig v) {
      config = v;
      return this;
    }

    public Builder config(UnaryOperator<HubConfig> change) {
      config = change.apply(config);
      return this;
    }

    /** Adds a namespace or replaces the default one of the same name. */
    public Builder namespace(NamespaceSettings ns) {
      namespaces.put(ns.name(), ns);
      return this;
    }

    /** Makes the broker from the hub's scheduler; defaults to {@link MemoryBroker}. */
    public Builder broker(Function<Scheduler, Broker> factory) {
      broker = factory;
      return this;
    }

    public Builder authorizer(ChannelAuthorizer v) {
      authorizer = v;
      return this;
    }

    /** Replaces the token authenticator altogether. */
    public Builder authenticator(Authenticator v) {
      authenticator = v;
      return this;
    }

    /** Token {@code token} authenticates as {@code principal}. */
    public Builder principal(String token, Principal principal) {
      principals.put(token, principal);
      return this;
    }

    public Builder presenceStore(PresenceStore v) {
      presence = v;
      return this;
    }

    public Builder scheduler(ManualScheduler v) {
      scheduler = v;
      return this;
    }

    /** Where the hub reports metrics; none by default. */
    public Builder metrics(dev.herald.core.hub.HubMetrics v) {
      metrics = v;
      return this;
    }

    /** How the hub tells other hubs of account actions; none by default. */
    public Builder controlBus(dev.herald.core.broker.ControlBus v) {
      control = v;
      return this;
    }

    /** Who counts each user's connections; the hub's in-memory counter by default. */
    public Builder userConnections(dev.herald.core.limits.UserConnections v) {
      userConnections = v;
      return this;
    }

    public TestHub build() {
      ManualScheduler s = scheduler == null ? new ManualScheduler() : scheduler;
      Broker b = broker.apply(s);
      Hub.Builder hb =
          Hub.builder()
              .config(config)
              .namespaces(new ArrayList<>(namespaces.values()))
              .broker(b)
              .scheduler(s)
              .authenticator(
                  authenticator != null
                      ? authenticator
                      : tokenAuthenticator(Map.copyOf(principals)))
              .authorizer(authorizer)
              .metrics(metrics)
              .controlBus(control);
      if (presence != null) {
        hb.presenceStore(presence);
      }
      if (userConnections != null) {
        hb.userConnections(userConnections);
      }
      return new TestHub(hb.build(), s, b);
    }
  }

  /** The authenticator described in the class comment. */
  public static Authenticator tokenAuthenticator(Map<String, Principal> principals) {
    return request -> {
      String token = request.token();
      if (token == null) {
        return CompletableFuture.failedFuture(new AuthenticationException("token required", false));
      }
      Principal known = principals.get(token);
      if (known != null) {
        return CompletableFuture.completedFuture(known);
      }
      switch (token) {
        case "expired":
          return CompletableFuture.failedFuture(new AuthenticationException("token expired", true));
        case "bad":
          return CompletableFuture.failedFuture(
              new AuthenticationException("invalid token", false));
        case "error":
          return CompletableFuture.failedFuture(new IllegalStateException("auth backend down"));
        default:
          if (!token.matches("[A-Za-z0-9_-]+")) {
            return CompletableFuture.failedFuture(
                new AuthenticationException("invalid token", false));
          }
          return CompletableFuture.completedFuture(
              new Principal(token, json("{\"name\":\"" + token + "\"}"), 0));
      }
    };
  }
}
