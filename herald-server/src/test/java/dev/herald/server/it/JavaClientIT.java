package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.client.CloseInfo;
import dev.herald.client.ConnectionListener;
import dev.herald.client.HeraldClient;
import dev.herald.client.LiveData;
import dev.herald.client.Subscription;
import dev.herald.client.SubscriptionHandler;
import dev.herald.client.SubscriptionState;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.ErrorInfo;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.StreamPosition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Java client ({@code herald-client}) against a real server over real sockets: ordered
 * delivery, automatic reconnects with backoff after network failures, dead-peer detection and
 * server restarts, recovery of what was missed (or an explicit {@code onStateLost}), presence.
 * Network failures are produced by a {@link TcpProxy} between client and server.
 */
class JavaClientIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Reconnect backoff used by the tests: ceilings 100, 200, 400, 800, 1000, 1000, ... ms. */
  private static final long BACKOFF_BASE_MS = 100;

  private static final long BACKOFF_CAP_MS = 1_000;

  @RegisterExtension static final TestServer server = TestServer.perClass();

  private final List<HeraldClient> clients = new ArrayList<>();

  @AfterEach
  void closeClientsAndCheckProxyThreads() {
    clients.forEach(HeraldClient::close);
    // Every proxy was closed by its test; none of its threads may linger.
    assertThat(Thread.getAllStackTraces().keySet())
        .extracting(Thread::getName)
        .noneMatch(name -> name.startsWith("tcp-proxy-"));
  }

  // ======================================================================================= tests

  @Test
  void receivesThousandPublicationsInOrderThroughTheProxy() throws Exception {
    String channel = "test:java-order";
    try (TcpProxy proxy = TcpProxy.to(server.port())) {
      Events events = new Events();
      HeraldClient client = connected(builder(proxy.port(), server.token("alice"), events));
      Recorder rec = new Recorder();
      Subscription sub = client.subscribe(channel, rec);
      SubscribeResult initial = rec.awaitSubscribed(1);
      assertThat(initial.recovered()).isFalse();

      publishSeq(server, channel, 0, 1000);

      rec.awaitPubs(1000);
      assertSequence(rec.pubs, initial.epoch(), initial.offset() + 1, 0);
      assertThat(sub.position())
          .isEqualTo(new StreamPosition(initial.epoch(), initial.offset() + 1000));
      assertThat(rec.lost).isEmpty();
      assertThat(events.count(Kind.RECONNECTING)).isZero();
      assertThat(proxy.acceptedConnections()).isEqualTo(1);
    }
  }

  @Test
  void reconnectsWithBackoffAfterTheConnectionIsCutAndRecoversEverythingMissed() throws Exception {
    String channel = "test:java-cut";
    try (TcpProxy proxy = TcpProxy.to(server.port())) {
      Events events = new Events();
      // A constant random source makes the full-jitter delays deterministic: half the ceiling.
      HeraldClient client =
          connected(builder(proxy.port(), server.token("alice"), events).random(constant(0.5)));
      Recorder rec = new Recorder();
      Subscription sub = client.subscribe(channel, rec);
      SubscribeResult initial = rec.awaitSubscribed(1);
      publishSeq(server, channel, 0, 10);
      rec.awaitPubs(10);

      int mark = events.mark();
      proxy.refuseNewConnections();
      assertThat(proxy.cutAll()).isEqualTo(1);
      events.awaitEvent(mark, Kind.RECONNECTING, 1);
      assertThat(sub.state()).isEqualTo(SubscriptionState.PENDING);

      publishSeq(server, channel, 10, 1010);
      // A client publish made while away waits for the connection.
      CompletableFuture<StreamPosition> outbox =
          client.publish("test:java-cut-outbox", "{\"queued\":true}");
      // Several reconnect attempts have failed by now (or will shortly): let four of them fail.
      eventually(
          "four refused reconnect attempts",
          () -> proxy.refusedConnections() >= 4,
          () -> proxy.refusedConnections() + " refused");
      assertThat(rec.pubs).hasSize(10);
      proxy.acceptNewConnections();

      events.awaitEvent(mark, Kind.CONNECTED, 1);
      rec.awaitPubs(1010);
      publishSeq(server, channel, 1010, 1011);
      rec.awaitPubs(1011);

      // Every publication exactly once, in order; the subscription was recovered, not lost.
      assertSequence(rec.pubs, initial.epoch(), initial.offset() + 1, 0);
      assertThat(rec.lost).isEmpty();
      assertThat(rec.subscribed).hasSize(2);
      SubscribeResult resumed = rec.subscribed.get(1);
      assertThat(resumed.recovered()).isTrue();
      assertThat(resumed.missed()).isEqualTo(1000);
      assertThat(resumed.offset()).isEqualTo(initial.offset() + 1010);
      // The replayed publications are marked; those before the drop and after catch-up are not.
      assertThat(rec.pubs.stream().map(Pub::recovered))
          .containsExactlyElementsOf(
              IntStream.range(0, 1011)
                  .mapToObj(i -> i >= 10 && i < 1010)
                  .collect(Collectors.toList()));

      // The listener saw: the drop, failed attempts with growing delays, then a connect.
      List<Event> seen = events.since(mark);
      assertThat(kinds(seen))
          .matches("RECONNECTING(,CONNECTING,RECONNECTING)+,CONNECTING,CONNECTED");
      List<Event> reconnecting =
          seen.stream().filter(e -> e.kind == Kind.RECONNECTING).collect(Collectors.toList());
      assertThat(reconnecting.get(0).cause.code()).isEqualTo(CloseInfo.ABNORMAL);
      assertThat(reconnecting.get(0).cause.remote()).isFalse();
      assertThat(reconnecting.size()).isGreaterThanOrEqualTo(4);
      for (int i = 0; i < reconnecting.size(); i++) {
        assertThat(reconnecting.get(i).delayMs)
            .as("delay before attempt %d", i + 1)
            .isEqualTo(Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS << i) / 2);
      }
      assertWaitedBeforeEachAttempt(seen);
      assertThat(outbox.get(10, TimeUnit.SECONDS).offset()).isEqualTo(1);
    }
  }

  @Test
  void reportsStateLostWhenTheGapExceedsTheHistoryAndThenContinuesLive() throws Exception {
    String channel = "short:java-gap";
    try (TcpProxy proxy = TcpProxy.to(server.port())) {
      Events events = new Events();
      HeraldClient client = connected(builder(proxy.port(), server.token("alice"), events));
      Recorder rec = new Recorder();
      client.subscribe(channel, rec);
      SubscribeResult initial = rec.awaitSubscribed(1);
      publishSeq(server, channel, 0, 5);
      rec.awaitPubs(5);

      int mark = events.mark();
      proxy.refuseNewConnections();
      proxy.cutAll();
      events.awaitEvent(mark, Kind.RECONNECTING, 1);
      publishSeq(server, channel, 5, 55); // 50 while away; the namespace keeps 10
      proxy.acceptNewConnections();

      eventually("onStateLost", () -> rec.lost.size() == 1, () -> rec);
      SubscribeResult lost = rec.lost.get(0);
      assertThat(lost.recovered()).isFalse();
      assertThat(lost.missed()).isZero();
      assertThat(lost.epoch()).isEqualTo(initial.epoch());
      assertThat(lost.offset()).isEqualTo(initial.offset() + 55);

      publishSeq(server, channel, 55, 60);
      rec.awaitPubs(10);
      // The 5 seen before, then nothing of the gap, then live ones right after the reported
      // position.
      assertSequence(rec.pubs.subList(0, 5), initial.epoch(), initial.offset() + 1, 0);
      assertSequence(rec.pubs.subList(5, 10), lost.epoch(), lost.offset() + 1, 55);
      assertThat(rec.lost).hasSize(1);
      assertThat(rec.subscribed).hasSize(1); // onStateLost is called instead of onSubscribed
    }
  }

  @Test
  void followsTheServersRetryHintAcrossARestartAndResubscribes() throws Exception {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("server.port", String.valueOf(freePort()));
    cfg.put("shutdown.retry-min", "300ms");
    cfg.put("shutdown.retry-max", "600ms");
    String channel = "test:java-restart";
    try (TestServer first = TestServer.start(cfg)) {
      Events events = new Events();
      HeraldClient client = connected(builder(first.port(), first.token("alice"), events));
      Recorder rec = new Recorder();
      client.subscribe(channel, rec);
      SubscribeResult initial = rec.awaitSubscribed(1);
      publishSeq(first, channel, 0, 1);
      rec.awaitPubs(1);

      int mark = events.mark();
      first.herald().stop(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
      Event restart = events.awaitEvent(mark, Kind.RECONNECTING, 1);
      assertThat(restart.cause.code()).isEqualTo(4001);
      assertThat(restart.cause.remote()).isTrue();
      assertThat(restart.cause.retryMs()).isBetween(300L, 600L);
      // The suggestion plus at most a tenth of it as jitter.
      assertThat(restart.delayMs)
          .isBetween(restart.cause.retryMs(), restart.cause.retryMs() * 11 / 10);

      try (TestServer second = TestServer.start(cfg)) {
        events.awaitEvent(mark, Kind.CONNECTED, 1);
        assertWaitedBeforeEachAttempt(events.since(mark));

        // A new server has a new stream (new epoch, no history): recovery is impossible.
        eventually("onStateLost", () -> rec.lost.size() == 1, () -> rec);
        SubscribeResult lost = rec.lost.get(0);
        assertThat(lost.epoch()).isNotEqualTo(initial.epoch());
        assertThat(lost.recovered()).isFalse();

        publishSeq(second, channel, 1, 2);
        rec.awaitPubs(2);
        assertSequence(rec.pubs.subList(1, 2), lost.epoch(), lost.offset() + 1, 1);
      }
    }
  }

  @Test
  void afterTwoIdleCutsByAProxyItAsksForHeartbeatsOftenEnoughToStayConnected() throws Exception {
    String channel = "test:java-idle-cut";
    try (TcpProxy proxy = TcpProxy.to(server.port())) {
      // The server pings every 25 s; the proxy cuts a connection the server was silent on for 4 s.
      proxy.cutWhenServerIdle(Duration.ofSeconds(4));
      Events events = new Events();
      List<Long> asked = new CopyOnWriteArrayList<>();
      HeraldClient client =
          connected(
              builder(proxy.port(), server.token("alice"), events)
                  .listener(
                      new ConnectionListener() {
                        @Override
                        public void onConnected(ConnectResult result) {
                          asked.add(result.pingMs());
                          events.onConnected(result);
                        }

                        @Override
                        public void onReconnecting(CloseInfo cause, long delayMs) {
                          events.onReconnecting(cause, delayMs);
                        }
                      }));
      Recorder rec = new Recorder();
      client.subscribe(channel, rec);
      SubscribeResult initial = rec.awaitSubscribed(1);
      assertThat(asked.get(0)).isEqualTo(25_000);

      // Cut twice after about 4 s of silence; the third connection asks for pings every ~2 s.
      events.awaitEvent(0, Kind.CONNECTED, 3);
      // Half of the silence it saw before each cut (4 s, longer on a slow machine): below the cut.
      assertThat(asked.get(2)).isBetween(1_000L, 3_999L);
      assertThat(events.count(Kind.RECONNECTING)).isEqualTo(2);
      // Adapted: the heartbeats keep the connection open through the proxy, and it stays open.
      Awaitility.await("no further cuts")
          .during(Duration.ofSeconds(10))
          .atMost(TIMEOUT)
          .until(() -> proxy.acceptedConnections() == 3 && proxy.activeConnections() == 1);
      publishSeq(server, channel, 0, 3);
      rec.awaitPubs(3);
      assertSequence(rec.pubs, initial.epoch(), initial.offset() + 1, 0);
      assertThat(events.count(Kind.RECONNECTING)).isEqualTo(2);
    }
  }

  @Test
  void aDrainingNodeRefusesTheHandshakeWithRetryAfterAndTheClientGoesOnToTheNextNode()
      throws Exception {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("shutdown.retry-min", "2s");
    cfg.put("shutdown.retry-max", "2s");
    cfg.put("node.name", "draining");
    Map<String, String> other = new java.util.HashMap<>(TestServer.baseConfig());
    other.put("node.name", "serving");
    try (TestServer draining = TestServer.start(cfg);
        TestServer serving = TestServer.start(other)) {
      draining.herald().hub().shutdown(); // readiness 503, new connections refused
      Events events = new Events();
      HeraldClient client =
          builder(draining.port(), draining.token("alice"), events)
              .alternateUris(
                  List.of(URI.create("ws://127.0.0.1:" + serving.port() + "/connection/websocket")))
              .build();
      clients.add(client);

      ConnectResult result = client.connect().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

      assertThat(result.node()).isEqualTo("serving");
      Event refused = events.awaitEvent(0, Kind.RECONNECTING, 1);
      assertThat(refused.cause.retryMs()).as("Retry-After honoured").isEqualTo(2_000);
      assertThat(refused.delayMs).isBetween(2_000L, 2_200L);
      assertThat(events.errors)
          .anySatisfy(e -> assertThat(e).hasMessageContaining("503 (shutting-down)"));
    }
  }

  @Test
  void detectsADeadConnectionBySilenceAndRecoversAfterwards() throws Exception {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("heartbeat.interval", "300ms");
    cfg.put("heartbeat.timeout", "300ms");
    String channel = "test:java-dead";
    try (TestServer hb = TestServer.start(cfg);
        TcpProxy proxy = TcpProxy.to(hb.port())) {
      Events events = new Events();
      // A short connect timeout, so that attempts through the frozen proxy fail fast.
      HeraldClient client =
          connected(
              builder(proxy.port(), hb.token("alice"), events)
                  .connectTimeout(Duration.ofSeconds(1)));
      ConnectResult session = client.session().orElseThrow();
      assertThat(session.pingMs()).isEqualTo(300);
      assertThat(session.pongMs()).isEqualTo(300);
      Recorder rec = new Recorder();
      client.subscribe(channel, rec);
      SubscribeResult initial = rec.awaitSubscribed(1);
      publishSeq(hb, channel, 0, 1);
      rec.awaitPubs(1);

      int mark = events.mark();
      proxy.freeze();
      Event dead = events.awaitEvent(mark, Kind.RECONNECTING, 1);
      assertThat(dead.cause.code()).isEqualTo(CloseInfo.ABNORMAL);
      assertThat(dead.cause.remote()).isFalse();
      assertThat(dead.cause.reason()).matches("nothing received from the server for \\d+ ms");
      // Declared dead ping_ms + pong_ms after it last heard anything (plus scheduling slack).
      long heartbeatMs = session.pingMs() + session.pongMs();
      long silentMs = TimeUnit.NANOSECONDS.toMillis(dead.atNanos - proxy.lastToClientNanos());
      assertThat(silentMs).isBetween(heartbeatMs - 50, heartbeatMs + 500);

      // Published while the network is stalled; the client must get them after recovering.
      publishSeq(hb, channel, 1, 4);
      // A new attempt reached the (frozen) proxy and stalls there.
      eventually(
          "a reconnect attempt at the frozen proxy",
          () -> proxy.acceptedConnections() >= 2,
          events::toString);
      proxy.unfreeze();

      events.awaitEvent(mark, Kind.CONNECTED, 1);
      publishSeq(hb, channel, 4, 5);
      rec.awaitPubs(5);
      assertSequence(rec.pubs, initial.epoch(), initial.offset() + 1, 0);
      assertThat(rec.lost).isEmpty();
      assertThat(rec.subscribed.get(rec.subscribed.size() - 1).recovered()).isTrue();
    }
  }

  @Test
  void presenceAndClientPublishingBetweenTwoClients() throws Exception {
    String channel = "test:java-room";
    HeraldClient alice = connected(builder(server.port(), server.token("alice"), new Events()));
    HeraldClient bob = connected(builder(server.port(), server.token("bob"), new Events()));
    String aliceId = alice.session().orElseThrow().client();
    String bobId = bob.session().orElseThrow().client();

    Recorder atAlice = new Recorder();
    Subscription aliceSub = alice.subscribe(channel, atAlice);
    atAlice.awaitSubscribed(1);
    ClientInfo aliceJoin = atAlice.awaitJoin(aliceId);
    assertThat(aliceJoin.user()).isEqualTo("alice");

    Recorder atBob = new Recorder();
    Subscription bobSub = bob.subscribe(channel, atBob);
    atBob.awaitSubscribed(1);
    ClientInfo bobJoin = atAlice.awaitJoin(bobId);
    assertThat(bobJoin.user()).isEqualTo("bob");
    assertThat(JSON.readTree(bobJoin.info().json()).path("name").asText()).isEqualTo("BOB");

    List<ClientInfo> present = aliceSub.presence().get(10, TimeUnit.SECONDS);
    assertThat(present).extracting(ClientInfo::client).containsExactlyInAnyOrder(aliceId, bobId);

    bobSub.setPresenceState("{\"editing\":\"item:7\"}").get(10, TimeUnit.SECONDS);
    eventually("presence update at alice", () -> !atAlice.updates.isEmpty(), () -> atAlice);
    ClientInfo update = atAlice.updates.get(0);
    assertThat(update.client()).isEqualTo(bobId);
    assertThat(JSON.readTree(update.state().json()).path("editing").asText()).isEqualTo("item:7");

    StreamPosition published =
        bob.publish(channel, "{\"text\":\"hello\"}").get(10, TimeUnit.SECONDS);
    atAlice.awaitPubs(1);
    Pub pub = atAlice.pubs.get(0);
    assertThat(pub.user()).isEqualTo("bob");
    assertThat(JSON.readTree(pub.data().json()).path("text").asText()).isEqualTo("hello");
    assertThat(new StreamPosition(pub.epoch(), pub.offset())).isEqualTo(published);
    atBob.awaitPubs(1); // the publisher, subscribed, gets its own publication too

    bob.close();
    eventually(
        "bob's leave at alice",
        () -> atAlice.leaves.stream().anyMatch(c -> c.client().equals(bobId)),
        () -> atAlice);
    assertThat(aliceSub.presence().get(10, TimeUnit.SECONDS))
        .extracting(ClientInfo::client)
        .containsExactly(aliceId);
    assertThat(atAlice.leaves).extracting(ClientInfo::client).doesNotContain(aliceId);
  }

  @Test
  void presenceStateIsRestoredAfterAReconnect() throws Exception {
    String channel = "test:java-presence";
    HeraldClient alice = connected(builder(server.port(), server.token("alice"), new Events()));
    Recorder atAlice = new Recorder();
    Subscription aliceSub = alice.subscribe(channel, atAlice);
    atAlice.awaitSubscribed(1);
    try (TcpProxy proxy = TcpProxy.to(server.port())) {
      Events bobEvents = new Events();
      HeraldClient bob = connected(builder(proxy.port(), server.token("bob"), bobEvents));
      String firstId = bob.session().orElseThrow().client();
      Recorder atBob = new Recorder();
      Subscription bobSub = bob.subscribe(channel, atBob);
      atBob.awaitSubscribed(1);
      bobSub.setPresenceState("{\"editing\":\"item:7\"}").get(10, TimeUnit.SECONDS);
      eventually(
          "presence update of bob's first connection",
          () -> atAlice.updates.stream().anyMatch(c -> c.client().equals(firstId)),
          () -> atAlice);

      int mark = bobEvents.mark();
      proxy.cutAll();
      bobEvents.awaitEvent(mark, Kind.CONNECTED, 1);
      String secondId = bob.session().orElseThrow().client();
      assertThat(secondId).isNotEqualTo(firstId);

      // Alice sees the old connection leave and the new one join, then its state come back.
      eventually(
          "leave of bob's first connection",
          () -> atAlice.leaves.stream().anyMatch(c -> c.client().equals(firstId)),
          () -> atAlice);
      atAlice.awaitJoin(secondId);
      eventually(
          "restored presence state of bob's second connection",
          () -> atAlice.updates.stream().anyMatch(c -> c.client().equals(secondId)),
          () -> atAlice);
      List<ClientInfo> present = aliceSub.presence().get(10, TimeUnit.SECONDS);
      assertThat(present)
          .extracting(ClientInfo::client)
          .containsExactlyInAnyOrder(alice.session().orElseThrow().client(), secondId);
      ClientInfo restored =
          present.stream().filter(c -> c.client().equals(secondId)).findFirst().orElseThrow();
      assertThat(JSON.readTree(restored.state().json()).path("editing").asText())
          .isEqualTo("item:7");
      assertThat(atBob.lost).isEmpty();
    }
  }

  @Test
  void liveDataFillsAGapAndLostHistoryFromTheAppAndStaysInOrder() throws Exception {
    String channel = "short:java-live-data";
    // The app's side: its committed events (seq 1, 2, 3, ...), and the fetches made.
    List<Long> committed = new CopyOnWriteArrayList<>();
    List<Long> fetches = new CopyOnWriteArrayList<>();
    LiveData.Source<List<Long>> source =
        new LiveData.Source<>() {
          @Override
          public CompletableFuture<LiveData.Snapshot<List<Long>>> snapshot() {
            List<Long> state = new ArrayList<>(committed);
            return CompletableFuture.completedFuture(new LiveData.Snapshot<>(state.size(), state));
          }

          @Override
          public CompletableFuture<LiveData.Changes> changes(long since) {
            fetches.add(since);
            List<LiveData.Event> after =
                committed.stream()
                    .filter(s -> s > since)
                    .map(s -> new LiveData.Event(s, "n", null, null, 0, String.valueOf(s)))
                    .toList();
            return CompletableFuture.completedFuture(
                new LiveData.Changes(committed.size(), false, false, after));
          }
        };
    try (TcpProxy proxy = TcpProxy.to(server.port())) {
      Events events = new Events();
      HeraldClient client = connected(builder(proxy.port(), server.token("alice"), events));
      LiveData<List<Long>> live =
          LiveData.builder(
                  client,
                  channel,
                  source,
                  (List<Long> state, LiveData.Event e) -> {
                    state.add(e.seq());
                    return state;
                  })
              .start();
      live.ready().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      eventually("live", () -> live.status() == LiveData.Status.LIVE, live::status);

      // The relay publishes 1 and 2; 3 never reaches the hub; 4 does: the gap is filled.
      for (long seq = 1; seq <= 4; seq++) {
        committed.add(seq);
        if (seq != 3) {
          assertThat(server.publishHttp(channel, "{\"seq\":" + seq + "}").statusCode())
              .isEqualTo(200);
        }
      }
      eventually("1 to 4", () -> live.state().size() == 4, live::state);
      assertThat(live.state()).containsExactly(1L, 2L, 3L, 4L);
      assertThat(fetches).containsExactly(2L);

      // Away for longer than the hub's history (10): onStateLost, then the changes since 4.
      int mark = events.mark();
      proxy.refuseNewConnections();
      proxy.cutAll();
      events.awaitEvent(mark, Kind.RECONNECTING, 1);
      for (long seq = 5; seq <= 30; seq++) {
        committed.add(seq);
        assertThat(server.publishHttp(channel, "{\"seq\":" + seq + "}").statusCode())
            .isEqualTo(200);
      }
      proxy.acceptNewConnections();
      eventually("5 to 30 after the reconnect", () -> live.state().size() == 30, live::state);
      committed.add(31L);
      server.publishHttp(channel, "{\"seq\":31}");
      eventually(
          "31, live",
          () -> live.state().size() == 31 && live.status() == LiveData.Status.LIVE,
          live::state);
      assertThat(live.state())
          .containsExactlyElementsOf(LongStream.rangeClosed(1, 31).boxed().toList());
      assertThat(fetches).containsExactly(2L, 4L);
      live.close();
      assertThat(live.status()).isEqualTo(LiveData.Status.CLOSED);
    }
  }

  // ===================================================================================== helpers

  private HeraldClient.Builder builder(int port, String token, Events events) {
    return HeraldClient.builder(URI.create("ws://127.0.0.1:" + port + "/connection/websocket"))
        .token(token)
        .backoff(Duration.ofMillis(BACKOFF_BASE_MS), Duration.ofMillis(BACKOFF_CAP_MS))
        .connectTimeout(Duration.ofSeconds(5))
        .listener(events);
  }

  private HeraldClient connected(HeraldClient.Builder builder) throws Exception {
    HeraldClient client = builder.build();
    clients.add(client);
    client.connect().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    return client;
  }

  /**
   * Waits up to {@link #TIMEOUT} for {@code condition}; on timeout, fails showing {@code state}.
   */
  private static void eventually(String what, BooleanSupplier condition, Supplier<?> state) {
    try {
      Awaitility.await(what)
          .atMost(TIMEOUT)
          .pollInterval(Duration.ofMillis(20))
          .until(condition::getAsBoolean);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "timed out after "
              + TIMEOUT.toSeconds()
              + " s waiting for "
              + what
              + "; state: "
              + state.get(),
          e);
    }
  }

  /** Publishes {@code {"seq":n}} for n in [from, to) over HTTP. */
  private static void publishSeq(TestServer s, String channel, int from, int to) {
    for (int n = from; n < to; n++) {
      assertThat(s.publishHttp(channel, "{\"seq\":" + n + "}").statusCode())
          .as("publish %d", n)
          .isEqualTo(200);
    }
  }

  /**
   * {@code pubs} are seq firstSeq, firstSeq+1, ... at offsets firstOffset, firstOffset+1, ... of
   * {@code epoch}.
   */
  private static void assertSequence(List<Pub> pubs, String epoch, long firstOffset, int firstSeq) {
    List<Pub> snapshot = List.copyOf(pubs);
    int n = snapshot.size();
    assertThat(snapshot).extracting(Pub::epoch).containsOnly(epoch);
    assertThat(snapshot)
        .extracting(Pub::offset)
        .containsExactlyElementsOf(
            LongStream.range(firstOffset, firstOffset + n).boxed().collect(Collectors.toList()));
    assertThat(snapshot)
        .extracting(JavaClientIT::seq)
        .containsExactlyElementsOf(
            IntStream.range(firstSeq, firstSeq + n).boxed().collect(Collectors.toList()));
  }

  private static int seq(Pub pub) {
    try {
      JsonNode data = JSON.readTree(pub.data().json());
      return data.path("seq").asInt(-1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Each attempt started no earlier than the delay announced with the RECONNECTING before it. */
  private static void assertWaitedBeforeEachAttempt(List<Event> seen) {
    for (int i = 0; i + 1 < seen.size(); i++) {
      Event e = seen.get(i);
      if (e.kind == Kind.RECONNECTING && seen.get(i + 1).kind == Kind.CONNECTING) {
        long waitedMs = TimeUnit.NANOSECONDS.toMillis(seen.get(i + 1).atNanos - e.atNanos);
        assertThat(waitedMs).as("wait after %s", e).isGreaterThanOrEqualTo(e.delayMs);
      }
    }
  }

  private static String kinds(List<Event> events) {
    return events.stream().map(e -> e.kind.name()).collect(Collectors.joining(","));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** A "random" source that always returns {@code u}. */
  private static RandomGenerator constant(double u) {
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        return (long) (u * Long.MAX_VALUE);
      }

      @Override
      public double nextDouble() {
        return u;
      }
    };
  }

  enum Kind {
    CONNECTING,
    CONNECTED,
    RECONNECTING,
    CLOSED
  }

  static final class Event {
    final Kind kind;
    final CloseInfo cause;
    final long delayMs;
    final long atNanos = System.nanoTime();

    Event(Kind kind, CloseInfo cause, long delayMs) {
      this.kind = kind;
      this.cause = cause;
      this.delayMs = delayMs;
    }

    @Override
    public String toString() {
      return kind + (cause == null ? "" : " (" + cause + ", delay " + delayMs + " ms)");
    }
  }

  /** Records the connection life cycle. */
  static final class Events implements ConnectionListener {
    final List<Event> all = new CopyOnWriteArrayList<>();
    final List<Throwable> errors = new CopyOnWriteArrayList<>();

    @Override
    public void onConnecting() {
      all.add(new Event(Kind.CONNECTING, null, 0));
    }

    @Override
    public void onConnected(ConnectResult result) {
      all.add(new Event(Kind.CONNECTED, null, 0));
    }

    @Override
    public void onReconnecting(CloseInfo cause, long delayMs) {
      all.add(new Event(Kind.RECONNECTING, cause, delayMs));
    }

    @Override
    public void onClosed(CloseInfo reason) {
      all.add(new Event(Kind.CLOSED, reason, 0));
    }

    @Override
    public void onError(Throwable error) {
      errors.add(error);
    }

    int mark() {
      return all.size();
    }

    List<Event> since(int mark) {
      List<Event> snapshot = List.copyOf(all);
      return snapshot.subList(mark, snapshot.size());
    }

    @Override
    public String toString() {
      return "events " + all + ", errors " + errors;
    }

    long count(Kind kind) {
      return all.stream().filter(e -> e.kind == kind).count();
    }

    /** Waits for the n-th event of {@code kind} after {@code mark} and returns it. */
    Event awaitEvent(int mark, Kind kind, int n) {
      eventually(
          kind + " #" + n,
          () -> since(mark).stream().filter(e -> e.kind == kind).count() >= n,
          () -> since(mark));
      return since(mark).stream().filter(e -> e.kind == kind).skip(n - 1).findFirst().orElseThrow();
    }
  }

  /** Records what a subscription handler gets. */
  static final class Recorder implements SubscriptionHandler {
    final List<Pub> pubs = new CopyOnWriteArrayList<>();
    final List<SubscribeResult> subscribed = new CopyOnWriteArrayList<>();
    final List<SubscribeResult> lost = new CopyOnWriteArrayList<>();
    final List<ClientInfo> joins = new CopyOnWriteArrayList<>();
    final List<ClientInfo> leaves = new CopyOnWriteArrayList<>();
    final List<ClientInfo> updates = new CopyOnWriteArrayList<>();
    final List<ErrorInfo> errors = new CopyOnWriteArrayList<>();

    @Override
    public void onPublication(Pub pub) {
      pubs.add(pub);
    }

    @Override
    public void onSubscribed(SubscribeResult result) {
      subscribed.add(result);
    }

    @Override
    public void onStateLost(SubscribeResult result) {
      lost.add(result);
    }

    @Override
    public void onJoin(ClientInfo client) {
      joins.add(client);
    }

    @Override
    public void onLeave(ClientInfo client) {
      leaves.add(client);
    }

    @Override
    public void onPresenceUpdate(ClientInfo client) {
      updates.add(client);
    }

    @Override
    public void onError(ErrorInfo error) {
      errors.add(error);
    }

    @Override
    public String toString() {
      Pub last = pubs.isEmpty() ? null : pubs.get(pubs.size() - 1);
      return pubs.size()
          + " publications (last "
          + (last == null ? "none" : last.epoch() + ":" + last.offset())
          + "), subscribed "
          + subscribed
          + ", lost "
          + lost
          + ", joins "
          + joins.size()
          + ", leaves "
          + leaves.size()
          + ", updates "
          + updates.size()
          + ", errors "
          + errors;
    }

    SubscribeResult awaitSubscribed(int n) {
      eventually(
          "subscribed #" + n, () -> subscribed.size() >= n || !errors.isEmpty(), this::toString);
      assertThat(errors).isEmpty();
      return subscribed.get(n - 1);
    }

    /** Waits until at least {@code n} publications arrived. */
    void awaitPubs(int n) {
      eventually(n + " publications", () -> pubs.size() >= n, this::toString);
    }

    ClientInfo awaitJoin(String clientId) {
      eventually(
          "join of " + clientId,
          () -> joins.stream().anyMatch(c -> c.client().equals(clientId)),
          this::toString);
      return joins.stream().filter(c -> c.client().equals(clientId)).findFirst().orElseThrow();
    }
  }
}
