package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The same protocol scenarios over every transport: WebSocket, SSE and long-polling carry the same
 * messages (docs/protocol.md, section 1), so ordering, recovery, presence, client publishing, error
 * handling and heartbeats must behave the same on each.
 */
class TransportMatrixIT {
  private static TestServer server;

  @BeforeAll
  static void start() {
    Map<String, String> cfg = TestServer.baseConfig();
    // Short enough that a long-polling client that went away leaves presence within a test.
    cfg.put("longpoll.timeout", "2s");
    cfg.put("longpoll.session-timeout", "4s");
    server = TestServer.start(cfg);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** The transports under test. */
  enum Transport {
    WEBSOCKET,
    SSE,
    LONG_POLLING;

    String id() {
      return name().toLowerCase().replace('_', '-');
    }

    /** Opens a connection on this transport and sends connect for the user. */
    Conn connect(TestServer s, String user) {
      String token = "{\"type\":\"connect\",\"token\":\"" + s.token(user) + "\"}";
      Conn c;
      if (this == WEBSOCKET) {
        c = new Ws(RawClient.open(s.wsUri()));
      } else {
        c =
            new Http(
                HttpTransportClient.open(
                    s,
                    this == SSE
                        ? HttpTransportClient.Kind.SSE
                        : HttpTransportClient.Kind.LONG_POLLING));
      }
      JsonNode reply = c.request(token);
      assertThat(reply.has("result")).as("connect reply over %s: %s", this, reply).isTrue();
      c.clientId(reply.get("result").get("client").asText());
      return c;
    }
  }

  /** What the scenarios need from a client, whatever carries it. */
  interface Conn extends AutoCloseable {
    JsonNode request(String jsonWithoutId);

    void send(String text);

    JsonNode await(Predicate<JsonNode> p);

    default JsonNode awaitType(String type) {
      return await(m -> m.path("type").asText().equals(type));
    }

    List<JsonNode> pubs(String channel, int n);

    void autoPong(boolean v);

    /** Waits for the disconnect message and the end of the transport; returns the code. */
    int awaitDisconnect();

    /** Whether the server ended this connection (close frame, stream end, disconnect). */
    boolean ended();

    String clientId();

    void clientId(String id);

    @Override
    void close();
  }

  static final class Ws implements Conn {
    final RawClient c;
    String clientId;

    Ws(RawClient c) {
      this.c = c;
    }

    @Override
    public JsonNode request(String json) {
      return c.request(json);
    }

    @Override
    public void send(String text) {
      c.send(text);
    }

    @Override
    public JsonNode await(Predicate<JsonNode> p) {
      return c.await(p);
    }

    @Override
    public List<JsonNode> pubs(String channel, int n) {
      return c.pubs(channel, n);
    }

    @Override
    public void autoPong(boolean v) {
      c.autoPong(v);
    }

    @Override
    public int awaitDisconnect() {
      int code = c.awaitType("disconnect").get("code").asInt();
      assertThat(c.awaitClose()).as("close frame code").isEqualTo(code);
      return code;
    }

    @Override
    public boolean ended() {
      return c.isClosed();
    }

    @Override
    public String clientId() {
      return clientId;
    }

    @Override
    public void clientId(String id) {
      clientId = id;
    }

    @Override
    public void close() {
      c.close();
    }
  }

  static final class Http implements Conn {
    final HttpTransportClient c;
    String clientId;

    Http(HttpTransportClient c) {
      this.c = c;
    }

    @Override
    public JsonNode request(String json) {
      return c.request(json);
    }

    @Override
    public void send(String text) {
      c.send(text);
    }

    @Override
    public JsonNode await(Predicate<JsonNode> p) {
      return c.await(p);
    }

    @Override
    public List<JsonNode> pubs(String channel, int n) {
      return c.pubs(channel, n);
    }

    @Override
    public void autoPong(boolean v) {
      c.autoPong(v);
    }

    @Override
    public int awaitDisconnect() {
      return c.awaitDisconnect();
    }

    @Override
    public boolean ended() {
      return c.isDisconnected() || c.isEnded();
    }

    @Override
    public String clientId() {
      return clientId;
    }

    @Override
    public void clientId(String id) {
      clientId = id;
    }

    @Override
    public void close() {
      c.close();
    }
  }

  // ---------------------------------------------------------------- scenarios

  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  void httpPublicationsArriveInOrderWithConsecutiveOffsets(Transport t) {
    String channel = "test:order-" + t.id();
    try (Conn c = t.connect(server, "alice")) {
      JsonNode sub = c.request(subscribe(channel)).get("result");
      String epoch = sub.get("epoch").asText();
      long start = sub.get("offset").asLong();
      for (int i = 0; i < 300; i++) {
        assertThat(server.publishHttp(channel, "{\"n\":" + i + "}").statusCode()).isEqualTo(200);
      }
      List<JsonNode> pubs = c.pubs(channel, 300);
      for (int i = 0; i < 300; i++) {
        JsonNode p = pubs.get(i);
        assertThat(p.get("epoch").asText()).isEqualTo(epoch);
        assertThat(p.get("offset").asLong()).as("offset of pub %d", i).isEqualTo(start + 1 + i);
        assertThat(p.get("data").get("n").asInt()).isEqualTo(i);
      }
      expectNextPubIsSentinel(c, channel, start + 300);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  void recoversEverythingPublishedWhileTheTransportWasDropped(Transport t) {
    String channel = "test:recover-" + t.id();
    String epoch;
    long offset;
    try (Conn c = t.connect(server, "alice")) {
      c.request(subscribe(channel));
      server.publishHttp(channel, "{\"n\":-1}");
      JsonNode last = c.pubs(channel, 1).get(0);
      epoch = last.get("epoch").asText();
      offset = last.get("offset").asLong();
    } // dropped: the stream or the polls stop without a goodbye
    for (int i = 0; i < 500; i++) {
      assertThat(server.publishHttp(channel, "{\"n\":" + i + "}").statusCode()).isEqualTo(200);
    }
    try (Conn c = t.connect(server, "alice")) {
      JsonNode r =
          c.request(
                  "{\"type\":\"subscribe\",\"channel\":\""
                      + channel
                      + "\",\"since\":{\"epoch\":\""
                      + epoch
                      + "\",\"offset\":"
                      + offset
                      + "}}")
              .get("result");
      assertThat(r.get("recovered").asBoolean()).as("recovered: %s", r).isTrue();
      assertThat(r.get("missed").asInt()).isEqualTo(500);
      assertThat(r.get("offset").asLong()).isEqualTo(offset + 500);
      List<JsonNode> pubs = c.pubs(channel, 500);
      for (int i = 0; i < 500; i++) {
        assertThat(pubs.get(i).get("epoch").asText()).isEqualTo(epoch);
        assertThat(pubs.get(i).get("offset").asLong()).isEqualTo(offset + 1 + i);
        assertThat(pubs.get(i).get("data").get("n").asInt()).isEqualTo(i);
      }
      expectNextPubIsSentinel(c, channel, offset + 500);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  void reportsNotRecoveredWhenTheShortHistoryNoLongerCoversTheGap(Transport t) {
    String channel = "short:gap-" + t.id();
    JsonNode first;
    try (Conn c = t.connect(server, "alice")) {
      c.request(subscribe(channel));
      server.publishHttp(channel, "0");
      first = c.pubs(channel, 1).get(0);
    }
    for (int i = 0; i < 25; i++) {
      server.publishHttp(channel, String.valueOf(i));
    }
    try (Conn c = t.connect(server, "alice")) {
      JsonNode r =
          c.request(
                  "{\"type\":\"subscribe\",\"channel\":\""
                      + channel
                      + "\",\"since\":{\"epoch\":\""
                      + first.get("epoch").asText()
                      + "\",\"offset\":"
                      + first.get("offset").asLong()
                      + "}}")
              .get("result");
      assertThat(r.get("recoverable").asBoolean()).isTrue();
      assertThat(r.get("recovered").asBoolean()).isFalse();
      assertThat(r.get("missed").asInt()).isZero();
      assertThat(r.get("offset").asLong()).isEqualTo(first.get("offset").asLong() + 25);
      expectNextPubIsSentinel(c, channel, r.get("offset").asLong());
    }
  }

  /**
   * A client of the transport under test subscribes first, then one of each other transport: it
   * sees their joins, everyone sees everyone in presence; then the first one goes away and the
   * others see it leave, then a second one goes and the last sees that.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  void presenceJoinAndLeaveAreSeenAcrossTransports(Transport t) {
    String channel = "test:presence-" + t.id();
    List<Transport> order = new ArrayList<>();
    order.add(t);
    for (Transport o : Transport.values()) {
      if (o != t) {
        order.add(o);
      }
    }
    List<Conn> conns = new ArrayList<>();
    try {
      for (Transport o : order) {
        Conn c = o.connect(server, "p-" + o.id());
        conns.add(c);
        JsonNode sub = c.request(subscribe(channel));
        assertThat(sub.has("result")).as("subscribe %s", sub).isTrue();
        expectJoin(c, channel, c.clientId(), "p-" + o.id());
      }
      Conn first = conns.get(0);
      // the first sees the joins of the others, across transports
      for (int i = 1; i < conns.size(); i++) {
        expectJoin(first, channel, conns.get(i).clientId(), "p-" + order.get(i).id());
      }
      expectJoin(conns.get(1), channel, conns.get(2).clientId(), "p-" + order.get(2).id());
      Set<String> all = new HashSet<>();
      conns.forEach(c -> all.add(c.clientId()));
      for (Conn c : conns) {
        JsonNode clients =
            c.request("{\"type\":\"presence\",\"channel\":\"" + channel + "\"}")
                .get("result")
                .get("clients");
        Set<String> ids = new HashSet<>();
        clients.forEach(e -> ids.add(e.get("client").asText()));
        assertThat(ids).isEqualTo(all);
      }
      // the transport under test goes away: the others see it leave
      first.close();
      expectLeave(conns.get(1), channel, first.clientId(), "p-" + t.id());
      expectLeave(conns.get(2), channel, first.clientId(), "p-" + t.id());
      // then the second; the last one sees that too
      conns.get(1).close();
      expectLeave(conns.get(2), channel, conns.get(1).clientId(), "p-" + order.get(1).id());
      JsonNode clients =
          conns
              .get(2)
              .request("{\"type\":\"presence\",\"channel\":\"" + channel + "\"}")
              .get("result")
              .get("clients");
      assertThat(clients).hasSize(1);
      assertThat(clients.get(0).get("client").asText()).isEqualTo(conns.get(2).clientId());
    } finally {
      conns.forEach(Conn::close);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  void clientPublishReachesAWebSocketSubscriberWithTheUser(Transport t) {
    String channel = "test:client-publish-" + t.id();
    try (Conn ws = Transport.WEBSOCKET.connect(server, "reader");
        Conn publisher = t.connect(server, "writer-" + t.id())) {
      ws.request(subscribe(channel));
      JsonNode r =
          publisher
              .request(
                  "{\"type\":\"publish\",\"channel\":\""
                      + channel
                      + "\",\"data\":{\"text\":\"hello from "
                      + t.id()
                      + "\",\"big\":12345678901234567}}")
              .get("result");
      JsonNode pub = ws.pubs(channel, 1).get(0);
      assertThat(pub.get("user").asText()).isEqualTo("writer-" + t.id());
      assertThat(pub.get("data").get("text").asText()).isEqualTo("hello from " + t.id());
      assertThat(pub.get("data").get("big").asLong()).isEqualTo(12345678901234567L);
      assertThat(pub.get("epoch").asText()).isEqualTo(r.get("epoch").asText());
      assertThat(pub.get("offset").asLong()).isEqualTo(r.get("offset").asLong());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  void malformedJsonGetsAStandaloneErrorAndTheSessionSurvives(Transport t) {
    try (Conn c = t.connect(server, "alice")) {
      c.send("{\"type\":\"subscribe\",\"id\":77,\"channel\":");
      JsonNode e = c.awaitType("error");
      assertThat(e.has("id")).isFalse();
      assertThat(e.get("error").get("code").asInt()).isEqualTo(107);
      assertThat(e.get("error").get("message").asText()).startsWith("malformed JSON");
      c.send("{\"type\":\"ping\"}");
      c.awaitType("pong");
      JsonNode sub = c.request(subscribe("test:after-error-" + t.id()));
      assertThat(sub.has("result")).as("subscribe after the error: %s", sub).isTrue();
      assertThat(c.ended()).isFalse();
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  void heartbeatTimeoutDisconnectsASilentClientWhileOneThatAnswersStays(Transport t) {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("heartbeat.interval", "300ms");
    cfg.put("heartbeat.timeout", "600ms");
    try (TestServer hb = TestServer.start(cfg);
        Conn dead = t.connect(hb, "dead");
        Conn alive = t.connect(hb, "alive")) {
      dead.autoPong(false);
      assertThat(dead.awaitDisconnect()).isEqualTo(4002);
      if (dead instanceof Http) {
        HttpTransportClient d = ((Http) dead).c;
        JsonNode msg = d.disconnectMessage();
        assertThat(msg.get("reconnect").asBoolean()).isTrue();
        if (t == Transport.LONG_POLLING) {
          // the disconnect arrived as a poll response
          assertThat(d.batches())
              .anySatisfy(b -> assertThat(b.body()).contains("\"type\":\"disconnect\""));
        }
      }
      // the live peer answered every ping meanwhile: several pings seen, still connected
      for (int i = 0; i < 3; i++) {
        alive.awaitType("ping");
      }
      assertThat(alive.ended()).isFalse();
      alive.send("{\"type\":\"ping\"}");
      alive.awaitType("pong");
      assertThat(alive.ended()).isFalse();
    }
  }

  // ---------------------------------------------------------------- helpers

  private static String subscribe(String channel) {
    return "{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}";
  }

  /**
   * Publishes a sentinel and checks it is the very next pub of the channel: nothing was duplicated
   * or left over before it.
   */
  private static void expectNextPubIsSentinel(Conn c, String channel, long lastOffset) {
    server.publishHttp(channel, "{\"sentinel\":true}");
    JsonNode next = c.pubs(channel, 1).get(0);
    assertThat(next.get("offset").asLong()).isEqualTo(lastOffset + 1);
    assertThat(next.get("data").get("sentinel").asBoolean()).isTrue();
  }

  private static void expectJoin(Conn c, String channel, String client, String user) {
    JsonNode j = c.await(event("join", channel, client));
    assertThat(j.get("user").asText()).isEqualTo(user);
    assertThat(j.get("info").get("name").asText()).isEqualTo(user.toUpperCase());
    assertThat(j.get("state").isObject()).isTrue();
  }

  private static void expectLeave(Conn c, String channel, String client, String user) {
    JsonNode l = c.await(event("leave", channel, client));
    assertThat(l.get("user").asText()).isEqualTo(user);
  }

  private static Predicate<JsonNode> event(String type, String channel, String client) {
    return m ->
        m.path("type").asText().equals(type)
            && m.path("channel").asText().equals(channel)
            && m.path("client").asText().equals(client);
  }
}
