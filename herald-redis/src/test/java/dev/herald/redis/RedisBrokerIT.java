package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.herald.core.broker.BrokerEventHandler;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.HistoryResult;
import dev.herald.core.broker.PresenceEvent;
import dev.herald.core.hub.HubException;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Redis broker and presence store against a real redis-server, with three "nodes". */
class RedisBrokerIT {
  private static final HistoryPolicy HISTORY = new HistoryPolicy(1000, 300_000, 600_000);
  private static final Duration WAIT = Duration.ofSeconds(30);
  @RegisterExtension static final RedisFixture fixture = new RedisFixture();
  private static final JsonCodec codec = new JsonCodec();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private RedisServer redis;
  private Vertx vertx;

  @BeforeEach
  void fixture() {
    redis = fixture.server();
    vertx = fixture.vertx();
  }

  @AfterEach
  void closeNodes() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    closeables.clear();
  }

  private Node node(String name, String prefix) {
    return node(name, prefix, RedisBroker.MAX_PENDING);
  }

  private Node node(String name, String prefix, int maxPending) {
    RedisSettings s = fixture.settings(prefix, name, Duration.ofSeconds(2));
    Node n = new Node(new RedisBroker(vertx, s, codec, maxPending), new RecordingHandler());
    n.broker.start(n.events);
    closeables.add(n.broker);
    await().atMost(WAIT).until(n.broker::healthy);
    return n;
  }

  private record Node(RedisBroker broker, RecordingHandler events) {}

  private static RawJsonFactory json = new RawJsonFactory();

  @Test
  void publicationsFromEveryNodeReachEveryNodeInOffsetOrder() {
    String prefix = "fan" + System.nanoTime();
    List<Node> nodes = List.of(node("a", prefix), node("b", prefix), node("c", prefix));
    for (Node n : nodes) {
      n.broker.subscribe("room:1", HISTORY).join();
    }
    int total = 600;
    List<CompletableFuture<StreamPosition>> sent = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      Node from = nodes.get(i % 3);
      sent.add(from.broker.publish("room:1", json.of("{\"n\":" + i + "}"), "u" + i, HISTORY));
    }
    CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
    assertThat(sent.stream().map(f -> f.join().offset()).sorted().toList())
        .containsExactlyElementsOf(
            java.util.stream.LongStream.rangeClosed(1, total).boxed().toList());
    for (Node n : nodes) {
      await().atMost(WAIT).until(() -> n.events.pubs.size() >= total);
      assertThat(n.events.pubs).extracting(Pub::offset).isSorted().doesNotHaveDuplicates();
      assertThat(n.events.pubs).hasSize(total);
      assertThat(n.events.resets).isEmpty();
    }
    // Which node's publication Redis took first is a race between three connections; each
    // publication keeps its user and data whatever its offset.
    Pub first =
        nodes.get(1).events.pubs.stream()
            .filter(p -> p.data().json().equals("{\"n\":0}"))
            .findFirst()
            .orElseThrow();
    assertThat(first.user()).isEqualTo("u0");
  }

  @Test
  void scriptsGoByTheirShaAndAFlushedScriptCacheCostsNoPublication() {
    String prefix = "sha" + System.nanoTime();
    Node a = node("a", prefix);
    Node b = node("b", prefix);
    b.broker.subscribe("room:1", HISTORY).join();
    redis.cli("CONFIG", "RESETSTAT");
    for (int i = 1; i <= 20; i++) {
      a.broker.publish("room:1", json.of(Integer.toString(i)), null, HISTORY).join();
    }
    // By name: every publication was an EVALSHA, none sent the script's text.
    assertThat(callsOf("evalsha")).isGreaterThanOrEqualTo(20);
    assertThat(callsOf("eval")).isZero();

    // An operator flushes the script cache while the nodes are connected: the next calls are
    // answered NOSCRIPT, made again with the text, and nothing is lost or reordered.
    redis.cli("SCRIPT", "FLUSH");
    List<CompletableFuture<StreamPosition>> sent = new ArrayList<>();
    for (int i = 21; i <= 40; i++) {
      sent.add(a.broker.publish("room:1", json.of(Integer.toString(i)), null, HISTORY));
    }
    CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
    assertThat(callsOf("eval")).isPositive();
    await().atMost(WAIT).until(() -> b.events.pubs.size() >= 40);
    assertThat(b.events.pubs).extracting(Pub::offset).isSorted().doesNotHaveDuplicates();
    assertThat(b.events.pubs).hasSize(40);
    assertThat(b.broker.history("room:1", 0, HISTORY).join().publications()).hasSize(40);
  }

  /** Calls of a command since the last CONFIG RESETSTAT (INFO commandstats). */
  private long callsOf(String command) {
    for (String line : redis.cli("INFO", "commandstats").split("\\R")) {
      if (line.startsWith("cmdstat_" + command + ":calls=")) {
        String rest = line.substring(("cmdstat_" + command + ":calls=").length());
        return Long.parseLong(rest.substring(0, rest.indexOf(',')));
      }
    }
    return 0;
  }

  @Test
  void historyRecoversFromAnyNodeAndIsBoundedBySize() {
    String prefix = "hist" + System.nanoTime();
    Node a = node("a", prefix);
    Node b = node("b", prefix);
    HistoryPolicy small = new HistoryPolicy(5, 300_000, 600_000);
    StreamPosition last = null;
    for (int i = 1; i <= 12; i++) {
      last = a.broker.publish("c", json.of(Integer.toString(i)), null, small).join();
    }
    HistoryResult h = b.broker.history("c", 8, small).join();
    assertThat(h.top()).isEqualTo(last);
    assertThat(h.publications()).extracting(Pub::offset).containsExactly(9L, 10L, 11L, 12L);
    assertThat(h.continues(new StreamPosition(last.epoch(), 8))).isTrue();
    HistoryResult trimmed = b.broker.history("c", 2, small).join();
    assertThat(trimmed.publications())
        .extracting(Pub::offset)
        .containsExactly(8L, 9L, 10L, 11L, 12L);
    assertThat(trimmed.continues(new StreamPosition(last.epoch(), 2))).isFalse();
    HistoryResult fresh = b.broker.history("other", Long.MAX_VALUE, small).join();
    assertThat(fresh.top().offset()).isZero();
    assertThat(fresh.top().epoch()).isNotEqualTo(last.epoch());
  }

  @Test
  void aNodeThatLostItsConnectionCatchesUpFromTheStreamInOrder() {
    String prefix = "gap" + System.nanoTime();
    Node a = node("a", prefix);
    Node b = node("b", prefix);
    b.broker.subscribe("c", HISTORY).join();
    for (int i = 1; i <= 10; i++) {
      a.broker.publish("c", json.of(Integer.toString(i)), null, HISTORY).join();
    }
    await().atMost(WAIT).until(() -> b.events.pubs.size() == 10);
    b.broker.simulateConnectionLoss();
    // Published while b is (or may be) cut off; b must still see all, in order, exactly once.
    for (int i = 11; i <= 200; i++) {
      a.broker.publish("c", json.of(Integer.toString(i)), null, HISTORY).join();
    }
    await().atMost(WAIT).until(b.broker::healthy);
    a.broker.publish("c", json.of("201"), null, HISTORY).join();
    await().atMost(WAIT).until(() -> b.events.pubs.size() >= 201);
    assertThat(b.events.pubs)
        .extracting(Pub::offset)
        .containsExactlyElementsOf(
            java.util.stream.LongStream.rangeClosed(1, 201).boxed().toList());
    assertThat(b.events.resets).isEmpty();
  }

  @Test
  void aNodeCatchingUpWhilePublicationsContinueMissesNothing() throws Exception {
    String prefix = "bound" + System.nanoTime();
    Node a = node("a", prefix);
    Node b = node("b", prefix, 1); // at most one event held while catching up, then re-read
    b.broker.subscribe("c", HISTORY).join();
    a.broker.publish("c", json.of("1"), null, HISTORY).join();
    await().atMost(WAIT).until(() -> b.events.pubs.size() == 1);
    // Publish without pause while b loses its connection and catches up, several times.
    java.util.concurrent.atomic.AtomicBoolean stop =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger sent =
        new java.util.concurrent.atomic.AtomicInteger(1);
    Thread publisher =
        new Thread(
            () -> {
              while (!stop.get() && sent.get() < 3000) {
                int n = sent.incrementAndGet();
                a.broker.publish("c", json.of(Integer.toString(n)), null, HISTORY).join();
              }
            });
    publisher.start();
    try {
      await()
          .atMost(WAIT)
          .until(
              () -> {
                if (sent.get() >= 600) {
                  return true;
                }
                b.broker.simulateConnectionLoss();
                await().atMost(WAIT).until(b.broker::healthy);
                return false;
              });
    } finally {
      stop.set(true);
      publisher.join();
    }
    int total = sent.get();
    await().atMost(WAIT).until(() -> b.events.pubs.size() >= total);
    assertThat(b.events.pubs)
        .extracting(Pub::offset)
        .containsExactlyElementsOf(
            java.util.stream.LongStream.rangeClosed(1, total).boxed().toList());
    assertThat(b.events.resets).isEmpty();
  }

  @Test
  void redisRestartedEmptyResetsStreamsAndPublishingFailsWhileDown() {
    String prefix = "restart" + System.nanoTime();
    Node a = node("a", prefix);
    Node b = node("b", prefix);
    b.broker.subscribe("c", HISTORY).join();
    StreamPosition before = a.broker.publish("c", json.of("1"), null, HISTORY).join();
    await().atMost(WAIT).until(() -> b.events.pubs.size() == 1);

    redis.kill();
    try {
      await().atMost(WAIT).until(() -> !a.broker.healthy() && !b.broker.healthy());
      assertThatThrownBy(() -> a.broker.publish("c", json.of("2"), null, HISTORY).join())
          .isInstanceOf(CompletionException.class)
          .cause()
          .isInstanceOf(HubException.class)
          .satisfies(e -> assertThat(((HubException) e).code()).isEqualTo(ErrorCode.UNAVAILABLE));
    } finally {
      redis.restart();
    }
    await().atMost(WAIT).until(() -> a.broker.healthy() && b.broker.healthy());
    // b had subscribers at the old epoch: it is told the stream was reset.
    await().atMost(WAIT).until(() -> b.events.resets.contains("c"));
    StreamPosition after = a.broker.publish("c", json.of("3"), null, HISTORY).join();
    assertThat(after.epoch()).isNotEqualTo(before.epoch());
    await().atMost(WAIT).until(() -> b.events.pubs.size() == 2);
    assertThat(b.events.pubs.get(1).epoch()).isEqualTo(after.epoch());
  }

  @Test
  void presenceIsTheSameFromEveryNodeAndADeadNodesEntriesExpire() {
    String prefix = "pres" + System.nanoTime();
    RedisSettings base = fixture.settings(prefix, "a", Duration.ofSeconds(2));
    RedisPresenceStore a = new RedisPresenceStore(vertx, base, codec);
    RedisPresenceStore b = new RedisPresenceStore(vertx, base, codec);
    RedisPresenceStore c = new RedisPresenceStore(vertx, base, codec);
    closeables.add(b);
    closeables.add(c);
    ClientInfo alice = new ClientInfo("c-1", "alice", json.of("{\"name\":\"Alice\"}"), null);
    ClientInfo bob = new ClientInfo("c-2", "bob", null, json.of("{\"typing\":true}"));
    a.put("room", alice).join();
    b.put("room", bob).join();
    for (RedisPresenceStore s : List.of(a, b, c)) {
      assertThat(s.get("room").join()).containsExactlyInAnyOrder(alice, bob);
    }
    // Entries outlive several TTLs while their node is alive (refreshed by its heartbeat)...
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              assertThat(c.get("room").join()).containsExactlyInAnyOrder(alice, bob);
              return System.nanoTime() > until;
            });
    // ...and vanish within one TTL once their node stops (as after kill -9: no removal sent).
    a.close();
    await().atMost(WAIT).until(() -> c.get("room").join().equals(List.of(bob)));
    b.remove("room", "c-2").join();
    assertThat(c.get("room").join()).isEmpty();
  }

  @Test
  void presenceEventsFanOutToEveryNode() {
    String prefix = "pev" + System.nanoTime();
    Node a = node("a", prefix);
    Node b = node("b", prefix);
    b.broker.subscribe("room", HISTORY).join();
    ClientInfo alice = new ClientInfo("c-1", "alice", null, null);
    a.broker.publishPresence(new PresenceEvent(PresenceEvent.Kind.JOIN, "room", alice)).join();
    await().atMost(WAIT).until(() -> !b.events.presence.isEmpty());
    assertThat(b.events.presence.get(0))
        .isEqualTo(new PresenceEvent(PresenceEvent.Kind.JOIN, "room", alice));
  }

  /** Records what a node's broker delivers. */
  static final class RecordingHandler implements BrokerEventHandler {
    final List<Pub> pubs = new CopyOnWriteArrayList<>();
    final List<PresenceEvent> presence = new CopyOnWriteArrayList<>();
    final List<String> resets = new CopyOnWriteArrayList<>();

    @Override
    public void onPublication(Pub publication) {
      pubs.add(publication);
    }

    @Override
    public void onPresence(PresenceEvent event) {
      presence.add(event);
    }

    @Override
    public void onStreamReset(String channel) {
      resets.add(channel);
    }
  }

  /** Raw JSON from text via the codec (which validates it). */
  static final class RawJsonFactory {
    dev.herald.protocol.RawJson of(String s) {
      try {
        return codec.parseRaw(s);
      } catch (dev.herald.protocol.ProtocolException e) {
        throw new IllegalArgumentException(e);
      }
    }
  }
}
