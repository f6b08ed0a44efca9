package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.core.broker.ControlMessage;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.testkit.BrokerContract.Events;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two nodes on a Redis Cluster of three masters: channels whose keys live on each master publish,
 * subscribe and recover across the nodes, and presence, per-user limits, the node registry and the
 * control bus work across them.
 */
class RedisClusterShardingIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final HistoryPolicy HISTORY = new HistoryPolicy(1000, 300_000, 600_000);
  private static final JsonCodec codec = new JsonCodec();
  @RegisterExtension static final RedisClusterFixture redis = new RedisClusterFixture();

  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private RedisSettings settings(String node) {
    return redis.settings("cluster-it", node, Duration.ofSeconds(10));
  }

  /** One channel per master: channel name -> the master holding its keys. */
  private Map<String, RedisServer> channelPerMaster(String stem) {
    List<RedisServer> masters = redis.cluster().masters();
    assertThat(masters).hasSize(3);
    Map<String, RedisServer> out = new LinkedHashMap<>();
    for (int i = 0; out.size() < masters.size(); i++) {
      String ch = stem + i;
      RedisServer m = redis.cluster().masterOf(ClusterSlots.slot(settings("x").key(ch, "m")));
      if (!out.containsValue(m)) {
        out.put(ch, m);
      }
    }
    return out;
  }

  private RedisBroker broker(String node, Events events) {
    RedisBroker b = new RedisBroker(redis.vertx(), settings(node), codec);
    open.add(b::close);
    b.start(events);
    await().atMost(WAIT).until(b::healthy);
    return b;
  }

  private static RawJson raw(String json) {
    try {
      return codec.parseRaw(json);
    } catch (ProtocolException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static List<Long> upTo(long n) {
    return LongStream.rangeClosed(1, n).boxed().toList();
  }

  @Test
  void channelsOnEveryMasterPublishSubscribeAndRecoverAcrossTwoNodes() throws Exception {
    Map<String, RedisServer> channels = channelPerMaster("room-");
    Events atA = new Events();
    Events atB = new Events();
    RedisBroker a = broker("a", atA);
    RedisBroker b = broker("b", atB);
    for (String ch : channels.keySet()) {
      a.subscribe(ch, HISTORY).get(30, TimeUnit.SECONDS);
      b.subscribe(ch, HISTORY).get(30, TimeUnit.SECONDS);
    }
    for (int i = 1; i <= 20; i++) {
      for (String ch : channels.keySet()) {
        (i % 2 == 0 ? a : b)
            .publish(ch, raw("{\"i\":" + i + "}"), null, HISTORY)
            .get(30, TimeUnit.SECONDS);
      }
    }
    for (Events node : List.of(atA, atB)) {
      for (String ch : channels.keySet()) {
        await().atMost(WAIT).until(() -> node.pubs(ch).size() >= 20);
        assertThat(node.pubs(ch)).extracting(Pub::offset).containsExactlyElementsOf(upTo(20));
      }
    }
    // Each channel's keys are on its own master: the channels are spread over the cluster.
    channels.forEach(
        (ch, master) ->
            assertThat(master.cli("EXISTS", settings("a").key(ch, "h"))).isEqualTo("1"));

    // Node b loses its pub/sub connection while a publishes: b catches up from the streams.
    b.simulateConnectionLoss();
    for (int i = 21; i <= 40; i++) {
      for (String ch : channels.keySet()) {
        a.publish(ch, raw("{\"i\":" + i + "}"), null, HISTORY).get(30, TimeUnit.SECONDS);
      }
    }
    for (String ch : channels.keySet()) {
      await().atMost(WAIT).until(() -> atB.pubs(ch).size() >= 40);
      assertThat(atB.pubs(ch)).extracting(Pub::offset).containsExactlyElementsOf(upTo(40));
      assertThat(atB.resets(ch)).isZero();
      assertThat(b.history(ch, 30, HISTORY).get(30, TimeUnit.SECONDS).publications())
          .extracting(Pub::offset)
          .containsExactly(31L, 32L, 33L, 34L, 35L, 36L, 37L, 38L, 39L, 40L);
    }
  }

  @Test
  void everyMasterRunsTheScriptsByShaAndAFlushedCacheOnEveryMasterCostsNoPublication()
      throws Exception {
    Map<String, RedisServer> channels = channelPerMaster("sha-");
    Events atB = new Events();
    RedisBroker a = broker("a", new Events());
    RedisBroker b = broker("b", atB);
    for (String ch : channels.keySet()) {
      b.subscribe(ch, HISTORY).get(30, TimeUnit.SECONDS);
    }
    for (RedisServer m : channels.values()) {
      m.cli("CONFIG", "RESETSTAT");
    }
    for (String ch : channels.keySet()) {
      a.publish(ch, raw("{\"i\":1}"), null, HISTORY).get(30, TimeUnit.SECONDS);
    }
    // Each master was sent the publish script by name, never its text.
    for (RedisServer m : channels.values()) {
      assertThat(calls(m, "evalsha")).isPositive();
      assertThat(calls(m, "eval")).isZero();
    }
    for (RedisServer m : channels.values()) {
      m.cli("SCRIPT", "FLUSH");
    }
    for (int i = 2; i <= 10; i++) {
      for (String ch : channels.keySet()) {
        a.publish(ch, raw("{\"i\":" + i + "}"), null, HISTORY).get(30, TimeUnit.SECONDS);
      }
    }
    for (Map.Entry<String, RedisServer> e : channels.entrySet()) {
      assertThat(calls(e.getValue(), "eval")).as("EVAL after NOSCRIPT on its master").isPositive();
      await().atMost(WAIT).until(() -> atB.pubs(e.getKey()).size() >= 10);
      assertThat(atB.pubs(e.getKey())).extracting(Pub::offset).containsExactlyElementsOf(upTo(10));
      assertThat(atB.resets(e.getKey())).isZero();
    }
  }

  /** Calls of a command on a server since its last CONFIG RESETSTAT (INFO commandstats). */
  private static long calls(RedisServer server, String command) {
    String prefix = "cmdstat_" + command + ":calls=";
    for (String line : server.cli("INFO", "commandstats").split("\\R")) {
      if (line.startsWith(prefix)) {
        String rest = line.substring(prefix.length());
        return Long.parseLong(rest.substring(0, rest.indexOf(',')));
      }
    }
    return 0;
  }

  /**
   * Resharding moves a channel's slot to another master while two nodes subscribe and one
   * publishes: the nodes follow (a {@code MOVED} answer or the next layout read), and since the
   * channel now lives on another server it starts a new epoch (the run-id rule of {@link Scripts}).
   * On both nodes every acknowledged publication is delivered once in order or covered by a reset,
   * and nothing of the new epoch comes before the reset.
   */
  @Test
  void aChannelWhoseSlotMovesToAnotherMasterIsFollowedAndReset() throws Exception {
    Map.Entry<String, RedisServer> first = channelPerMaster("moved-").entrySet().iterator().next();
    String ch = first.getKey();
    RedisServer from = first.getValue();
    RedisServer to =
        redis.cluster().masters().stream().filter(m -> m != from).findFirst().orElseThrow();
    Events atA = new Events();
    Events atB = new Events();
    RedisBroker a = broker("a", atA);
    RedisBroker b = broker("b", atB);
    a.subscribe(ch, HISTORY).get(30, TimeUnit.SECONDS);
    b.subscribe(ch, HISTORY).get(30, TimeUnit.SECONDS);
    List<Deliveries.Acked> acked = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      acked.add(
          new Deliveries.Acked(
              i, a.publish(ch, raw("{\"i\":" + i + "}"), null, HISTORY).get(30, TimeUnit.SECONDS)));
    }

    redis.cluster().moveSlot(ClusterSlots.slot(settings("a").key(ch, "m")), from, to);
    for (int i = 6; i <= 10; i++) {
      acked.add(
          new Deliveries.Acked(
              i, a.publish(ch, raw("{\"i\":" + i + "}"), null, HISTORY).get(30, TimeUnit.SECONDS)));
    }
    String before = acked.get(0).at().epoch();
    String after = acked.get(9).at().epoch();
    assertThat(acked.subList(0, 5)).allMatch(x -> x.at().epoch().equals(before));
    assertThat(after).isNotEqualTo(before);
    assertThat(acked.subList(5, 10)).allMatch(x -> x.at().epoch().equals(after));
    assertThat(to.cli("EXISTS", settings("a").key(ch, "h"))).isEqualTo("1");
    for (Events node : List.of(atA, atB)) {
      await().atMost(WAIT).until(() -> node.pubs(ch).stream().anyMatch(p -> Deliveries.n(p) == 10));
      List<Object> seq = node.sequence(ch);
      Deliveries.check(acked, seq);
      int reset = seq.indexOf("reset");
      assertThat(reset).as("reset reported").isNotNegative();
      for (int i = 0; i < seq.size(); i++) {
        if (seq.get(i) instanceof Pub p && p.epoch().equals(after)) {
          assertThat(i).as("new epoch only after the reset").isGreaterThan(reset);
        }
      }
    }
  }

  @Test
  void presenceLimitsRegistryAndControlBusWorkAcrossNodes() throws Exception {
    Map<String, RedisServer> channels = channelPerMaster("doc-");
    RedisPresenceStore presenceA = new RedisPresenceStore(redis.vertx(), settings("a"), codec);
    RedisPresenceStore presenceB = new RedisPresenceStore(redis.vertx(), settings("b"), codec);
    open.add(presenceA);
    open.add(presenceB);
    for (String ch : channels.keySet()) {
      presenceA.put(ch, new ClientInfo("c-" + ch, "alice", null, null)).get(30, TimeUnit.SECONDS);
    }
    for (String ch : channels.keySet()) {
      assertThat(presenceB.get(ch).get(30, TimeUnit.SECONDS))
          .extracting(ClientInfo::client)
          .containsExactly("c-" + ch);
    }

    RedisUserConnections usersA = new RedisUserConnections(redis.vertx(), settings("a"));
    RedisUserConnections usersB = new RedisUserConnections(redis.vertx(), settings("b"));
    open.add(usersA::close);
    open.add(usersB::close);
    assertThat(usersA.acquire("alice", "1", 1).get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(usersB.acquire("alice", "2", 1).get(30, TimeUnit.SECONDS))
        .as("the limit counts the other node's connection")
        .isFalse();

    RedisNodeRegistry registryA = new RedisNodeRegistry(redis.vertx(), settings("a"));
    RedisNodeRegistry registryB = new RedisNodeRegistry(redis.vertx(), settings("b"));
    open.add(registryA);
    open.add(registryB);
    registryA.register("http://10.0.0.5:8080").get(30, TimeUnit.SECONDS);
    assertThat(registryB.lookup("a").get(30, TimeUnit.SECONDS))
        .isEqualTo(Optional.of("http://10.0.0.5:8080"));

    RedisControlBus busA = new RedisControlBus(redis.vertx(), settings("a"));
    RedisControlBus busB = new RedisControlBus(redis.vertx(), settings("b"));
    open.add(busA::close);
    open.add(busB::close);
    List<ControlMessage> atB = new CopyOnWriteArrayList<>();
    busA.start(m -> {});
    busB.start(atB::add);
    ControlMessage revoke =
        new ControlMessage(ControlMessage.Kind.REVOKE_USER, "alice", 4501, "logged out");
    // Sent until b is subscribed (a message published before that reaches nobody).
    await()
        .atMost(WAIT)
        .until(
            () -> {
              busA.send(revoke).get(30, TimeUnit.SECONDS);
              return !atB.isEmpty();
            });
    assertThat(atB.get(0)).isEqualTo(revoke);
  }
}
