package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.client.CloseInfo;
import dev.herald.client.ConnectionListener;
import dev.herald.client.HeraldClient;
import dev.herald.client.Subscription;
import dev.herald.client.SubscriptionHandler;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.redis.RedisCluster;
import dev.herald.redis.RedisSentinels;
import dev.herald.redis.RedisServer;
import dev.herald.server.it.HeraldCluster.Node;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three Herald nodes (separate JVMs) on one Redis, with Java clients spread over them. Publications
 * go through the HTTP publish API to random nodes, one after the other, each carrying a sequence
 * number, so every client can check it got each one exactly once and in order.
 */
class ClusterIT {
  private static final Duration LONG = Duration.ofSeconds(120);
  private static RedisServer redis;
  private static HttpClient http;
  private static ExecutorService events;
  private HeraldCluster cluster;
  private final List<HeraldClient> clients = new ArrayList<>();

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    events = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  static void stopRedis() {
    events.shutdownNow();
    redis.close();
  }

  @AfterEach
  void stopCluster() {
    clients.forEach(HeraldClient::close);
    clients.clear();
    if (cluster != null) {
      cluster.close();
    }
  }

  private HeraldCluster cluster() throws Exception {
    return cluster(Map.of());
  }

  /** Three nodes with the test namespaces and {@code more} settings. */
  private HeraldCluster cluster(Map<String, String> more) throws Exception {
    Map<String, String> config =
        new java.util.HashMap<>(
            Map.of(
                "namespaces", "test,user,short,nohist,feed",
                "namespace.feed.history-size", "20000",
                "namespace.feed.history-ttl", "10m"));
    config.putAll(more);
    cluster = new HeraldCluster(redis.url(), 3, config);
    return cluster.start();
  }

  @Test
  void everyClientOnEveryNodeGetsEveryMessageOnceInOrderAcrossAKill9() throws Exception {
    cluster();
    int clientCount = 120;
    int total = 10_000;
    List<Recorder> recorders = subscribeSpread(clientCount, "feed:all");
    Node victim = cluster.node(2);
    Set<Node> live = ConcurrentHashMap.newKeySet();
    live.addAll(cluster.nodes());
    publishAll(
        "feed:all",
        total,
        live,
        null,
        seq -> {
          if (seq == total / 3) {
            // Between two publications, so no publication is in flight to the victim.
            live.remove(victim);
            kill(victim);
          }
        });
    await().atMost(LONG).until(() -> recorders.stream().allMatch(r -> r.received.size() >= total));
    for (Recorder r : recorders) {
      assertThat(r.lost).as("client %s lost state", r.name).isEmpty();
      assertThat(r.received)
          .as("client %s", r.name)
          .containsExactlyElementsOf(IntStream.range(0, total).boxed().toList());
    }
    // The victim's clients moved to the other nodes.
    long moved = recorders.stream().filter(r -> r.reconnects.get() > 0).count();
    assertThat(moved).isGreaterThanOrEqualTo(clientCount / 3);
  }

  @Test
  void redisRestartedEmptyTellsEveryClientAndNothingIsSilentlyLost() throws Exception {
    cluster();
    publishThroughARedisFault(
        "feed:restart",
        1500,
        seq -> {
          if (seq == 500) {
            redis.kill();
          }
        },
        refused -> {
          if (refused == 3) {
            redis.restart(); // empty, like a Redis without persistence that crashed
          }
        });
  }

  /**
   * Redis behind Sentinel (a master, a replica, three sentinels): the master is killed (kill -9)
   * while publications go on, after the replica stopped taking the replication stream (SIGSTOP), so
   * the promoted replica lacks acknowledged publications. The nodes follow the failover on their
   * own; every client is told to refetch and nothing acknowledged is silently lost.
   */
  @Test
  void aSentinelFailoverTellsEveryClientAndNothingIsSilentlyLost() throws Exception {
    try (RedisSentinels sentinels = RedisSentinels.start()) {
      cluster(
          Map.of(
              "redis.mode",
              "sentinel",
              "redis.sentinels",
              String.join(",", sentinels.urls()),
              "redis.master-name",
              RedisSentinels.MASTER_NAME));
      int total = 600;
      Map<Integer, Acked> acked =
          publishThroughARedisFault(
              "feed:failover",
              total,
              seq -> {
                if (seq == 200) {
                  sentinels.replica().pause(); // what is acknowledged now is only on the master
                } else if (seq == 230) {
                  sentinels.master().kill();
                  sentinels.replica().resume();
                }
              },
              refused -> {});
      assertThat(sentinels.masterPort()).isEqualTo(sentinels.replica().port());
      assertThat(acked.get(total - 1).epoch())
          .as("the promoted replica starts a new epoch")
          .isNotEqualTo(acked.get(0).epoch());
    }
  }

  /**
   * Redis Cluster (three masters with a replica each): the master holding the channel is killed
   * (kill -9) while publications go on, after its replica stopped taking the replication stream
   * (SIGSTOP). The cluster promotes the replica; the nodes follow on their own, every client is
   * told to refetch and nothing acknowledged is silently lost.
   */
  @Test
  void aRedisClusterFailoverTellsEveryClientAndNothingIsSilentlyLost() throws Exception {
    try (RedisCluster redisCluster = RedisCluster.start(3, 1)) {
      cluster(
          Map.of(
              "redis.mode",
              "cluster",
              "redis.cluster-nodes",
              String.join(",", redisCluster.urls())));
      String channel = "feed:cluster";
      String key = cluster.prefix() + ":{" + channel + "}:m";
      RedisServer master = redisCluster.masterOfKey(key);
      RedisServer replica = redisCluster.replicasOf(master).get(0);
      int total = 600;
      Map<Integer, Acked> acked =
          publishThroughARedisFault(
              channel,
              total,
              seq -> {
                if (seq == 200) {
                  replica.pause(); // what is acknowledged now is only on the master
                } else if (seq == 230) {
                  master.kill();
                  replica.resume();
                }
              },
              refused -> {});
      assertThat(redisCluster.masterOfKey(key)).isSameAs(replica);
      assertThat(acked.get(total - 1).epoch())
          .as("the promoted replica starts a new epoch")
          .isNotEqualTo(acked.get(0).epoch());
    }
  }

  /**
   * Publishes {"seq":0..total-1} to clients spread over the nodes while {@code before} (called
   * before each publication) and {@code onRefused} (called with the count of 503 refusals so far)
   * make Redis fail, then more until every client receives live again after its refetch notice.
   * Then: some publications were refused, every client got the last one and was told to refetch,
   * and every acknowledged publication was received or covered by a refetch. Returns the
   * acknowledged publications.
   */
  private Map<Integer, Acked> publishThroughARedisFault(
      String channel, int total, IntConsumer before, IntConsumer onRefused) throws Exception {
    List<Recorder> recorders = subscribeSpread(30, channel);
    Set<Node> live = ConcurrentHashMap.newKeySet();
    live.addAll(cluster.nodes());
    Map<Integer, Acked> acked = new ConcurrentHashMap<>();
    AtomicInteger unavailable = new AtomicInteger();
    publishAll(channel, total, live, statuses(acked, onRefused, unavailable), before);
    assertThat(unavailable.get())
        .as("publishes refused with 503 while Redis was down")
        .isPositive();
    for (Node n : cluster.nodes()) {
      await().atMost(LONG).until(() -> cluster.get(n, "/health/ready").statusCode() == 200);
    }
    // Publishing goes on until every client receives live again after its refetch notice: a node
    // whose catch-up read comes after the last publication covers them all with its reset, and its
    // clients would never receive the last one.
    AtomicInteger next = new AtomicInteger(total);
    await()
        .alias("every client live again")
        .atMost(LONG)
        .pollInSameThread()
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              if (publishOnce(
                  channel,
                  next.get(),
                  live,
                  statuses(acked, onRefused, unavailable),
                  new AtomicReference<>())) {
                next.incrementAndGet();
              }
              return recorders.stream().allMatch(Recorder::liveAgain);
            });
    int last = next.get() - 1;
    await().atMost(LONG).until(() -> recorders.stream().allMatch(r -> r.last() == last));
    long covered = 0;
    for (Recorder r : recorders) {
      assertThat(r.lost).as("client %s was told to refetch", r.name).isNotEmpty();
      covered += r.assertNoSilentLoss(acked);
    }
    long each = (long) acked.size() * recorders.size();
    System.out.printf(
        "%s: %d publications acknowledged, %d refused with 503 (115); over %d clients, %d of %d"
            + " deliveries made once and in order, %d covered by a refetch, 0 missing%n",
        channel, acked.size(), unavailable.get(), recorders.size(), each - covered, each, covered);
    return acked;
  }

  /** Keeps the acknowledged publications and counts the 503 refusals, telling {@code onRefused}. */
  private static StatusSink statuses(
      Map<Integer, Acked> acked, IntConsumer onRefused, AtomicInteger unavailable) {
    return (seq, status, sentAt, body) -> {
      if (status == 200) {
        acked.put(seq, Acked.parse(body, sentAt));
      } else if (status == 503) {
        onRefused.accept(unavailable.incrementAndGet());
      }
    };
  }

  @Test
  void presenceIsTheSameFromEveryNodeAndAKilledNodesEntriesExpire() throws Exception {
    cluster();
    List<Subscription> subs = new ArrayList<>();
    for (Node n : cluster.nodes()) {
      HeraldClient c = client(n, "user-" + n.name(), List.of(), new Recorder(n.name()));
      subs.add(c.subscribe("test:room", new Recorder(n.name())));
    }
    await().atMost(LONG).until(() -> subs.stream().allMatch(s -> clientIds(s).size() == 3));
    Set<String> fromFirst = clientIds(subs.get(0));
    for (Subscription s : subs) {
      assertThat(clientIds(s)).isEqualTo(fromFirst);
    }
    kill(cluster.node(2));
    await()
        .atMost(LONG)
        .until(() -> clientIds(subs.get(0)).size() == 2 && clientIds(subs.get(1)).size() == 2);
    assertThat(clientIds(subs.get(0))).isEqualTo(clientIds(subs.get(1)));
  }

  @Test
  void aRollingRestartOfEveryNodeLosesNothing() throws Exception {
    cluster();
    int total = 4000;
    List<Recorder> recorders = subscribeSpread(45, "feed:rolling");
    Set<Node> live = ConcurrentHashMap.newKeySet();
    live.addAll(cluster.nodes());
    AtomicReference<Node> inFlight = new AtomicReference<>();
    AtomicInteger restarted = new AtomicInteger();
    Thread roller =
        new Thread(
            () -> {
              try {
                for (Node n : cluster.nodes()) {
                  live.remove(n);
                  await().atMost(LONG).until(() -> inFlight.get() != n);
                  cluster.stop(n); // SIGTERM: drain with a reconnect delay, exit
                  cluster.launch(n);
                  cluster.awaitReady(n);
                  live.add(n);
                  restarted.incrementAndGet();
                }
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "rolling-restart");
    roller.start();
    publishAll("feed:rolling", total, live, null, seq -> {}, inFlight, () -> restarted.get() == 3);
    roller.join(LONG.toMillis());
    assertThat(restarted.get()).isEqualTo(3);
    await().atMost(LONG).until(() -> recorders.stream().allMatch(r -> r.received.size() >= total));
    for (Recorder r : recorders) {
      assertThat(r.lost).as("client %s lost state", r.name).isEmpty();
      assertThat(r.received)
          .as("client %s", r.name)
          .containsExactlyElementsOf(IntStream.range(0, total).boxed().toList());
      assertThat(r.reconnects.get()).as("client %s moved", r.name).isPositive();
    }
  }

  @Test
  void httpSessionsWorkWhenEveryRequestLandsOnAnotherNode() throws Exception {
    cluster();
    List<String> bases = cluster.nodes().stream().map(Node::baseUrl).toList();
    for (HttpTransportClient.Kind kind : HttpTransportClient.Kind.values()) {
      String channel = "test:http-" + kind.name().toLowerCase();
      Node owner = cluster.node(0);
      try (HttpTransportClient c =
          HttpTransportClient.open(owner.baseUrl(), kind, Map.of()).rotateRequestsOver(bases)) {
        JsonNode connected =
            c.request("{\"type\":\"connect\",\"token\":\"" + cluster.token("http-user") + "\"}");
        assertThat(connected.path("result").path("node").asText()).isEqualTo(owner.name());
        JsonNode sub = c.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
        assertThat(sub.has("result")).as("subscribe reply %s", sub).isTrue();
        for (int i = 0; i < 30; i++) {
          Node n = cluster.node(i % 3);
          assertThat(cluster.publish(n, channel, "{\"seq\":" + i + "}").statusCode())
              .isEqualTo(200);
        }
        List<JsonNode> pubs = c.pubs(channel, 30);
        for (int i = 0; i < 30; i++) {
          assertThat(pubs.get(i).path("offset").asLong()).isEqualTo(i + 1);
          assertThat(pubs.get(i).path("data").path("seq").asInt()).isEqualTo(i);
        }
      }
    }
    // A session whose node is gone: another node answers "unknown session", so the client opens
    // a new one (and recovers from its positions).
    HttpTransportClient orphan =
        HttpTransportClient.openRotating(
            cluster.node(2).baseUrl(),
            HttpTransportClient.Kind.LONG_POLLING,
            List.of(bases.get(0)));
    kill(cluster.node(2));
    try (orphan) {
      assertThat(orphan.awaitEnded()).contains("404").contains("session-unknown");
    }
  }

  // ------------------------------------------------------------------ helpers

  private static Set<String> clientIds(Subscription s) {
    Set<String> out = new java.util.TreeSet<>();
    for (ClientInfo c : s.presence().join()) {
      out.add(c.client());
    }
    return out;
  }

  private void kill(Node n) {
    try {
      cluster.kill(n);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Clients spread round-robin over the nodes, each knowing the others to fail over to. */
  private List<Recorder> subscribeSpread(int count, String channel) {
    List<Recorder> out = new ArrayList<>();
    List<Node> nodes = cluster.nodes();
    for (int i = 0; i < count; i++) {
      Node home = nodes.get(i % nodes.size());
      List<URI> others = new ArrayList<>();
      for (int k = 1; k < nodes.size(); k++) {
        others.add(nodes.get((i + k) % nodes.size()).wsUri());
      }
      Recorder r = new Recorder("c" + i + "@" + home.name());
      HeraldClient c = client(home, "user" + i, others, r);
      c.subscribe(channel, r);
      out.add(r);
    }
    await().atMost(LONG).until(() -> out.stream().allMatch(r -> r.subscribed.get() > 0));
    return out;
  }

  private HeraldClient client(Node home, String user, List<URI> others, Recorder r) {
    HeraldClient c =
        HeraldClient.builder(home.wsUri())
            .alternateUris(others)
            .token(cluster.token(user))
            .httpClient(http)
            .executor(events)
            .backoff(Duration.ofMillis(100), Duration.ofSeconds(2))
            .listener(r)
            .build();
    c.connect();
    clients.add(c);
    return c;
  }

  interface StatusSink {
    void accept(int seq, int status, long sentAt, String body);
  }

  /** An accepted publication: where it landed, and when its request was sent. */
  record Acked(String epoch, long offset, long sentAt) {
    static Acked parse(String body, long sentAt) {
      String epoch = body.replaceAll(".*\"epoch\":\"([^\"]+)\".*", "$1");
      long offset = Long.parseLong(body.replaceAll(".*\"offset\":(\\d+).*", "$1"));
      return new Acked(epoch, offset, sentAt);
    }
  }

  private void publishAll(
      String channel, int total, Set<Node> live, StatusSink statuses, IntConsumer before)
      throws Exception {
    publishAll(channel, total, live, statuses, before, new AtomicReference<>(), () -> true);
  }

  /**
   * Publishes {"seq":0..total-1} one after the other, each to a random live node, retrying a
   * publication until a node accepts it; at the end, keeps going only until {@code done} holds.
   */
  private void publishAll(
      String channel,
      int total,
      Set<Node> live,
      StatusSink statuses,
      IntConsumer before,
      AtomicReference<Node> inFlight,
      java.util.function.BooleanSupplier done)
      throws Exception {
    for (int seq = 0; seq < total; seq++) {
      before.accept(seq);
      int s = seq;
      // Retried every 20 ms until a live node accepts it (refusals are expected while a node or
      // Redis is down).
      await()
          .alias("publication " + seq)
          .atMost(LONG.multipliedBy(2))
          .pollInSameThread()
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(20))
          .until(() -> publishOnce(channel, s, live, statuses, inFlight));
      if (seq == total - 1 && !done.getAsBoolean()) {
        await().atMost(LONG).until(done::getAsBoolean);
      }
    }
  }

  /** One attempt to publish {"seq":seq} to a random live node; true when it was accepted. */
  private boolean publishOnce(
      String channel, int seq, Set<Node> live, StatusSink statuses, AtomicReference<Node> inFlight)
      throws Exception {
    List<Node> candidates = new ArrayList<>(live);
    if (candidates.isEmpty()) {
      return false;
    }
    Node n = candidates.get(ThreadLocalRandom.current().nextInt(candidates.size()));
    inFlight.set(n);
    int status;
    String body = "";
    long sentAt = System.nanoTime();
    try {
      if (!live.contains(n)) {
        return false;
      }
      HttpResponse<String> res = cluster.publish(n, channel, "{\"seq\":" + seq + "}");
      status = res.statusCode();
      body = res.body();
    } catch (java.io.IOException e) {
      status = -1;
    } finally {
      inFlight.set(null);
    }
    if (statuses != null) {
      statuses.accept(seq, status, sentAt, body);
    }
    return status == 200;
  }

  /** A state-lost notice: the position the client continues from, and when it came. */
  record Lost(String epoch, long offset, long at) {}

  /** What one client saw on its subscription: sequence numbers and state-lost notices. */
  static final class Recorder implements SubscriptionHandler, ConnectionListener {
    final String name;
    final List<Integer> received = java.util.Collections.synchronizedList(new ArrayList<>());
    final List<Lost> lost = new java.util.concurrent.CopyOnWriteArrayList<>();
    // For each state-lost notice, the index in received where the new segment starts.
    final List<Integer> segmentStarts = new java.util.concurrent.CopyOnWriteArrayList<>();
    final AtomicInteger subscribed = new AtomicInteger();
    final AtomicInteger reconnects = new AtomicInteger();

    Recorder(String name) {
      this.name = name;
    }

    @Override
    public void onPublication(Pub pub) {
      String json = pub.data().json();
      received.add(Integer.parseInt(json.substring(json.indexOf(':') + 1, json.indexOf('}'))));
    }

    @Override
    public void onSubscribed(SubscribeResult result) {
      subscribed.incrementAndGet();
    }

    @Override
    public void onStateLost(SubscribeResult result) {
      // The application would refetch its state here.
      lost.add(new Lost(result.epoch(), result.offset(), System.nanoTime()));
      segmentStarts.add(received.size());
      subscribed.incrementAndGet();
    }

    @Override
    public void onReconnecting(CloseInfo reason, long delayMs) {
      reconnects.incrementAndGet();
    }

    /** Told to refetch, and received a publication after the last such notice. */
    boolean liveAgain() {
      synchronized (received) {
        return !segmentStarts.isEmpty()
            && received.size() > segmentStarts.get(segmentStarts.size() - 1);
      }
    }

    int last() {
      synchronized (received) {
        return received.isEmpty() ? -1 : received.get(received.size() - 1);
      }
    }

    /**
     * Between state-lost notices the sequence has no gap and no duplicate; every acknowledged
     * publication was either received or followed by a state-lost notice (the refetch covers it).
     */
    int assertNoSilentLoss(Map<Integer, Acked> acked) {
      List<Integer> got;
      synchronized (received) {
        got = List.copyOf(received);
      }
      List<Integer> bounds = new ArrayList<>(segmentStarts);
      bounds.add(got.size());
      int from = 0;
      for (int to : bounds) {
        for (int i = from + 1; i < to; i++) {
          assertThat(got.get(i))
              .as("%s: after %s", name, got.get(i - 1))
              .isEqualTo(got.get(i - 1) + 1);
        }
        from = to;
      }
      Set<Integer> seen = Set.copyOf(got);
      AtomicInteger refetched = new AtomicInteger();
      acked.forEach(
          (seq, a) -> {
            if (!seen.contains(seq)) {
              refetched.incrementAndGet();
              // Covered by a refetch: one told at a position at or after it in its epoch, or
              // (the epoch was lost) one that came after it was sent.
              boolean covered =
                  lost.stream()
                      .anyMatch(
                          l ->
                              l.epoch().equals(a.epoch())
                                  ? a.offset() <= l.offset()
                                  : l.at() > a.sentAt());
              assertThat(covered)
                  .as("%s never got %s (%s) and was not told to refetch: %s", name, seq, a, lost)
                  .isTrue();
            }
          });
      return refetched.get();
    }
  }
}
