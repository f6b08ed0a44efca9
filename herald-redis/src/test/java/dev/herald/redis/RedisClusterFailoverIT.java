package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.hub.HubException;
import dev.herald.core.testkit.BrokerContract.Events;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.StreamPosition;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A master of a Redis Cluster fails over during continuous publishing, with real processes: three
 * masters with a replica each. One node publishes without pause to three channels, one on each
 * master, while another only subscribes. The replica of one master is frozen (SIGSTOP) for the last
 * publications before that master is killed (kill -9), so the replica that the cluster promotes may
 * lack acknowledged publications: asynchronous replication losing writes.
 *
 * <p>What must hold: publishing to the failed master's channel resumes on its promoted replica,
 * which starts a new epoch; the other channels carry on in their epoch without a reset; and on both
 * nodes each acknowledged publication was delivered exactly once and in order, or the node told its
 * subscribers to resubscribe (clients see {@code recovered:false} and refetch) between the
 * publications delivered around it. Publications refused meanwhile fail with error 115.
 */
class RedisClusterFailoverIT {
  private static final Logger log = LoggerFactory.getLogger(RedisClusterFailoverIT.class);
  private static final HistoryPolicy HISTORY = new HistoryPolicy(10_000, 300_000, 600_000);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final JsonCodec codec = new JsonCodec();

  private RedisCluster cluster;
  private Vertx vertx;
  private final List<RedisBroker> brokers = new ArrayList<>();

  @BeforeEach
  void start() {
    cluster = RedisCluster.start(3, 1);
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    brokers.forEach(RedisBroker::close);
    vertx.close().toCompletionStage().toCompletableFuture().join();
    cluster.close();
  }

  private RedisSettings settings(String node) {
    return new RedisSettings(
            "redis://127.0.0.1:1",
            "failover-it",
            node,
            Duration.ofSeconds(10),
            Duration.ofMillis(50),
            Duration.ofMillis(500))
        .withClusterNodes(cluster.urls());
  }

  private RedisBroker node(String name, Events events, Iterable<String> channels) {
    RedisBroker b = new RedisBroker(vertx, settings(name), codec);
    brokers.add(b);
    b.start(events);
    await().atMost(WAIT).until(b::healthy);
    for (String ch : channels) {
      b.subscribe(ch, HISTORY).join();
    }
    return b;
  }

  /**
   * Publishes n = 0, 1, 2, ... to each channel in turn until stopped; a failed publication is
   * counted and not retried.
   */
  private static final class Publisher extends Thread {
    final Map<String, List<Deliveries.Acked>> acked = new ConcurrentHashMap<>();
    final List<Throwable> refused = Collections.synchronizedList(new ArrayList<>());
    private final RedisBroker broker;
    private final List<String> channels;
    private volatile boolean stop;

    Publisher(RedisBroker broker, List<String> channels) {
      super("cluster-publisher");
      this.broker = broker;
      this.channels = channels;
      channels.forEach(ch -> acked.put(ch, Collections.synchronizedList(new ArrayList<>())));
    }

    @Override
    public void run() {
      for (int n = 0; !stop; n++) {
        for (String ch : channels) {
          try {
            StreamPosition at =
                broker
                    .publish(ch, raw("{\"n\":" + n + "}"), null, HISTORY)
                    .get(30, TimeUnit.SECONDS);
            acked.get(ch).add(new Deliveries.Acked(n, at));
          } catch (ExecutionException e) {
            // The channel's master is unreachable: the other channels go on (each refusal is
            // immediate, so this loop still spends its time on the publications that succeed).
            refused.add(e.getCause());
          } catch (TimeoutException e) {
            refused.add(e);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }

    int count(String channel) {
      return acked.get(channel).size();
    }

    void finish() throws InterruptedException {
      stop = true;
      join(TimeUnit.SECONDS.toMillis(60));
    }
  }

  private static RawJson raw(String json) {
    try {
      return codec.parseRaw(json);
    } catch (ProtocolException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** A channel name whose keys are on {@code master}. */
  private String channelOn(RedisServer master, String stem) {
    for (int i = 0; ; i++) {
      String ch = stem + i;
      if (cluster.masterOf(ClusterSlots.slot(settings("x").key(ch, "m"))) == master) {
        return ch;
      }
    }
  }

  /** Whether a publication is refused (waiting at most for its reply's timeout). */
  private static boolean refused(java.util.concurrent.CompletableFuture<?> publication) {
    try {
      publication.get(30, TimeUnit.SECONDS);
      return false;
    } catch (ExecutionException e) {
      return true;
    } catch (TimeoutException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aMasterFailingOverDuringPublishingLosesNoAcknowledgedPublicationSilently() throws Exception {
    // One channel per master, the first one's master is the one that fails.
    List<RedisServer> masters = cluster.masters();
    assertThat(masters).hasSize(3);
    Map<RedisServer, String> byMaster = new LinkedHashMap<>();
    for (int i = 0; byMaster.size() < 3; i++) {
      String ch = "room-" + i;
      byMaster.putIfAbsent(cluster.masterOf(ClusterSlots.slot(settings("x").key(ch, "m"))), ch);
    }
    RedisServer victim = masters.get(0);
    RedisServer replica = cluster.replicasOf(victim).get(0);
    String failing = byMaster.get(victim);
    List<String> channels = List.copyOf(byMaster.values());

    Events publisherEvents = new Events();
    Events subscriberEvents = new Events();
    RedisBroker publisherNode = node("a", publisherEvents, channels);
    node("b", subscriberEvents, channels);
    Publisher publisher = new Publisher(publisherNode, channels);
    publisher.start();
    try {
      await().atMost(WAIT).until(() -> publisher.count(failing) >= 100);
      // What is acknowledged from now on is only on the master (its replica takes nothing in).
      replica.pause();
      int paused = publisher.count(failing);
      await().atMost(WAIT).until(() -> publisher.count(failing) >= paused + 20);
      String probeOnFailed = channelOn(victim, "probe-failed-");
      List<String> probesOnHealthy =
          masters.subList(1, 3).stream().map(m -> channelOn(m, "probe-healthy-")).toList();
      victim.kill();
      int killed = publisher.count(failing);
      // The failed master's slots cannot be taken over while its replica is frozen: the node
      // stays ready and publishing to the other masters' channels goes on.
      await()
          .atMost(WAIT)
          .until(() -> refused(publisherNode.publish(probeOnFailed, raw("{}"), null, HISTORY)));
      for (String probe : probesOnHealthy) {
        publisherNode.publish(probe, raw("{}"), null, HISTORY).get(30, TimeUnit.SECONDS);
      }
      assertThat(publisherNode.healthy()).as("ready while one master has no replacement").isTrue();
      assertThat(refused(publisherNode.publish(probeOnFailed, raw("{}"), null, HISTORY)))
          .as("the failed master's slots still had no master during the probe")
          .isTrue();
      replica.resume();

      // The cluster promotes the replica; publishing to the channel resumes on it. A node whose
      // catch-up read comes after the last publication covers all of the new master's with its
      // reset and delivers none live: publish until both nodes deliver the new epoch live.
      String before = publisher.acked.get(failing).get(0).at().epoch();
      await()
          .atMost(WAIT)
          .until(
              () ->
                  publisher.count(failing) >= killed + 100
                      && List.of(publisherEvents, subscriberEvents).stream()
                          .allMatch(
                              e ->
                                  e.pubs(failing).stream()
                                      .anyMatch(p -> !p.epoch().equals(before))));
      assertThat(cluster.masterOf(ClusterSlots.slot(settings("x").key(failing, "m"))))
          .isSameAs(replica);
      publisher.finish();

      List<Deliveries.Acked> onFailing = List.copyOf(publisher.acked.get(failing));
      String after = onFailing.get(onFailing.size() - 1).at().epoch();
      assertThat(onFailing.subList(0, killed)).allMatch(a -> a.at().epoch().equals(before));
      // The promoted replica is another server: it must not continue the epoch.
      assertThat(after).isNotEqualTo(before);
      assertThat(publisher.refused)
          .allSatisfy(
              f ->
                  assertThat(f)
                      .isInstanceOfSatisfying(
                          HubException.class,
                          h -> assertThat(h.code()).isEqualTo(ErrorCode.UNAVAILABLE)));

      for (String ch : channels) {
        List<Deliveries.Acked> acked = List.copyOf(publisher.acked.get(ch));
        int last = acked.get(acked.size() - 1).n();
        for (Events node : List.of(publisherEvents, subscriberEvents)) {
          String which = node == publisherEvents ? "publishing" : "subscribing";
          await()
              .atMost(WAIT)
              .alias(which + " node gets the last publication of " + ch)
              .until(() -> node.pubs(ch).stream().anyMatch(p -> Deliveries.n(p) == last));
          Deliveries.Counts c = Deliveries.check(acked, node.sequence(ch));
          log.info(
              "cluster failover, {} node, channel {} ({}): {} acknowledged, {} delivered, {}"
                  + " covered by a refetch signal, {} resets",
              which,
              ch,
              ch.equals(failing) ? "on the failed master" : "on a healthy master",
              acked.size(),
              c.delivered(),
              c.covered(),
              node.resets(ch));
          if (!ch.equals(failing)) {
            assertThat(node.resets(ch)).as("%s on a healthy master is not reset", ch).isZero();
            assertThat(c.covered()).isZero();
          }
        }
      }
      log.info(
          "cluster failover: {} publications refused with 115 while the failed master's slots"
              + " had no master; {} acknowledged on the failed master before the kill ({} of them"
              + " while its replica was frozen)",
          publisher.refused.size(),
          killed,
          killed - paused);
      assertThat(subscriberEvents.resets(failing)).isPositive();
    } finally {
      publisher.finish();
    }
  }
}
