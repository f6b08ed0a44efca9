package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.core.broker.BrokerEventHandler;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.PresenceEvent;
import dev.herald.core.hub.HubException;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sentinel failover with real processes: a master, a replica and three sentinels. One node
 * publishes without pause while another only subscribes; the master is killed (kill -9) and the
 * sentinels promote the replica. The replica is frozen (SIGSTOP) for the last acknowledged
 * publications before the kill, so the promoted replica certainly lacks them: asynchronous
 * replication losing acknowledged writes, made deterministic.
 *
 * <p>What must hold: publishing resumes on the promoted replica; the nodes reconnect to it on their
 * own; it starts a new epoch (its data is not the data the acknowledgements described); and on
 * every node each acknowledged publication was delivered exactly once and in order, or the node
 * told its subscribers to resubscribe (which clients see as {@code recovered:false}) after the last
 * publication before it and before the first one after it. Never a silent gap, never a duplicate;
 * publications that failed were refused with 115. Each node's count of acknowledged publications
 * delivered and covered by a reset is asserted to add up to all of them and logged.
 *
 * <p>A node whose catch-up read comes after the last publication covers every publication made on
 * the new master with its reset and delivers none of them live; so the publisher keeps going until
 * every node delivers live again, and only then stops.
 */
class RedisSentinelIT {
  private static final Logger log = LoggerFactory.getLogger(RedisSentinelIT.class);
  private static final HistoryPolicy HISTORY = new HistoryPolicy(10_000, 300_000, 600_000);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final JsonCodec codec = new JsonCodec();
  private static final String CHANNEL = "room";
  private static final String RESET = "reset";

  private RedisSentinels redis;
  private Vertx vertx;
  private final List<RedisBroker> brokers = new ArrayList<>();

  @BeforeEach
  void start() {
    redis = RedisSentinels.start();
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    brokers.forEach(RedisBroker::close);
    vertx.close().toCompletionStage().toCompletableFuture().join();
    redis.close();
  }

  /**
   * One publication acknowledged by Redis: the n-th of the publisher, where it landed, and when the
   * acknowledgement came (System.nanoTime).
   */
  private record Acked(int n, StreamPosition at, long nanos) {}

  /** Everything a node hands its hub, in order: each publication's n, or RESET. */
  private static final class Log implements BrokerEventHandler {
    final List<Object> events = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void onPublication(Pub p) {
      String json = p.data().json();
      events.add(Integer.parseInt(json.substring(json.indexOf(':') + 1, json.length() - 1)));
    }

    @Override
    public void onPresence(PresenceEvent event) {}

    @Override
    public void onStreamReset(String channel) {
      events.add(RESET);
    }

    List<Object> snapshot() {
      synchronized (events) {
        return List.copyOf(events);
      }
    }
  }

  private RedisBroker node(String name, Log log) {
    RedisSettings s =
        new RedisSettings(
                "redis://127.0.0.1:1",
                "sentinel-it",
                name,
                Duration.ofSeconds(2),
                Duration.ofMillis(50),
                Duration.ofMillis(500))
            .withSentinels(redis.urls(), RedisSentinels.MASTER_NAME);
    RedisBroker b = new RedisBroker(vertx, s, codec);
    brokers.add(b);
    b.start(log);
    await().atMost(WAIT).until(b::healthy);
    b.subscribe(CHANNEL, HISTORY).join();
    return b;
  }

  /**
   * Publishes n = 0, 1, 2, ... one at a time until stopped; a failed publication is not retried.
   */
  private static final class Publisher extends Thread {
    final List<Acked> acked = Collections.synchronizedList(new ArrayList<>());
    final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    private final RedisBroker broker;
    private volatile boolean stop;

    Publisher(RedisBroker broker) {
      super("sentinel-publisher");
      this.broker = broker;
    }

    @Override
    public void run() {
      for (int n = 0; !stop; n++) {
        try {
          StreamPosition at =
              broker
                  .publish(CHANNEL, raw("{\"n\":" + n + "}"), null, HISTORY)
                  .get(30, TimeUnit.SECONDS);
          acked.add(new Acked(n, at, System.nanoTime()));
        } catch (ExecutionException e) {
          failures.add(e.getCause());
          // Redis is unreachable: wait for the node to reconnect rather than spin.
          await().atMost(WAIT).until(() -> stop || broker.healthy());
        } catch (TimeoutException e) {
          failures.add(e);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    int count() {
      return acked.size();
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

  @Test
  void aFailoverDuringPublishingLosesNoAcknowledgedPublicationSilently() throws Exception {
    Log publisherLog = new Log();
    Log subscriberLog = new Log();
    RedisBroker publisherNode = node("a", publisherLog);
    node("b", subscriberLog);
    Publisher publisher = new Publisher(publisherNode);
    publisher.start();
    try {
      await().atMost(WAIT).until(() -> publisher.count() >= 100);
      // Replication traffic per publication: the master's replication offset over 100 of them.
      long fromOffset = redis.master().replicationOffset();
      int fromCount = publisher.count();
      await().atMost(WAIT).until(() -> publisher.count() >= fromCount + 100);
      long replicated = redis.master().replicationOffset() - fromOffset;
      int replicatedCount = publisher.count() - fromCount;
      // The replica stops taking the replication stream: what is acknowledged now is only on the
      // master.
      redis.replica().pause();
      int paused = publisher.count();
      await().atMost(WAIT).until(() -> publisher.count() >= paused + 20);
      long killedAt = System.nanoTime();
      redis.master().kill();
      int killed = publisher.count();
      redis.replica().resume();

      // The sentinels promote the replica; publishing resumes on it. Publishing goes on until
      // every node delivers live again: a node whose catch-up read comes after the last
      // publication covers them all with its reset and would deliver none of them, so waiting only
      // for the last one to be delivered would wait for something that need not happen.
      await().atMost(WAIT).until(() -> publisher.count() >= killed + 100);
      for (Log node : List.of(publisherLog, subscriberLog)) {
        await().atMost(WAIT).until(() -> deliveredFrom(node.snapshot(), killed));
      }
      assertThat(redis.masterPort()).isEqualTo(redis.replica().port());
      publisher.finish();

      List<Acked> acked = List.copyOf(publisher.acked);
      String before = acked.get(0).at().epoch();
      String after = acked.get(acked.size() - 1).at().epoch();
      assertThat(acked.subList(0, killed)).allMatch(a -> a.at().epoch().equals(before));
      // The promoted replica lacks acknowledged publications: it must not continue their epoch.
      assertThat(after).isNotEqualTo(before);
      assertThat(acked.subList(killed, acked.size())).allMatch(a -> a.at().epoch().equals(after));
      assertThat(acked.get(killed).at().offset()).isEqualTo(1);
      // Publications that failed were refused with the documented error, never left hanging.
      assertThat(publisher.failures)
          .allSatisfy(
              f ->
                  assertThat(f)
                      .isInstanceOfSatisfying(
                          HubException.class,
                          h -> assertThat(h.code()).isEqualTo(ErrorCode.UNAVAILABLE)));

      int last = acked.get(acked.size() - 1).n();
      for (Log node : List.of(publisherLog, subscriberLog)) {
        String which = node == publisherLog ? "publishing" : "subscribing";
        try {
          await().atMost(WAIT).until(() -> node.snapshot().contains(last));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          List<Object> events = node.snapshot();
          throw new AssertionError(
              which
                  + " node never got publication "
                  + last
                  + "; it got "
                  + events.size()
                  + " events, the last ones "
                  + events.subList(Math.max(0, events.size() - 10), events.size())
                  + "; acknowledged after the kill: "
                  + acked.subList(killed, Math.min(acked.size(), killed + 5))
                  + "...; subscribers on the new master: "
                  + redis.replica().cli("pubsub", "numsub", "sentinel-it:ch:" + CHANNEL)
                  + "; its clients:\n"
                  + redis.replica().cli("client", "list"),
              e);
        }
        Outcome o = assertNothingLostSilently(acked, node.snapshot());
        // Every acknowledged publication is accounted for: delivered once, or covered by a reset.
        assertThat(o.delivered() + o.covered()).as(which).isEqualTo(acked.size());
        assertThat(o.resets()).as("%s node was told to refetch", which).isPositive();
        log.info(
            "failover, {} node: of {} acknowledged publications {} delivered once and in order,"
                + " {} covered by a reset ({} resets), 0 missing, 0 duplicated",
            which,
            acked.size(),
            o.delivered(),
            o.covered(),
            o.resets());
      }
      log.info(
          "failover: publishing resumed {} ms after the kill; {} publications acknowledged ({} on"
              + " the old master, {} of them not replicated), {} refused with 115 while no master"
              + " was reachable",
          TimeUnit.NANOSECONDS.toMillis(acked.get(killed).nanos() - killedAt),
          acked.size(),
          killed,
          killed - paused,
          publisher.failures.size());
      log.info(
          "replication: about {} bytes per publication of a {}-byte payload ({} bytes over {})",
          replicated / replicatedCount,
          "{\"n\":123}".length(),
          replicated,
          replicatedCount);
    } finally {
      publisher.finish();
    }
  }

  /**
   * Whether a node delivered, after its last reset, a publication numbered {@code from} or more.
   */
  private static boolean deliveredFrom(List<Object> events, int from) {
    for (int i = events.size() - 1; i >= 0 && !RESET.equals(events.get(i)); i--) {
      if (events.get(i) instanceof Integer n && n >= from) {
        return true;
      }
    }
    return false;
  }

  /**
   * What happened on one node to the acknowledged publications: delivered, or not delivered but
   * covered by a reset; and how many resets it got.
   */
  private record Outcome(int delivered, int covered, long resets) {}

  /**
   * Every acknowledged publication was delivered exactly once in order, or a reset came between the
   * delivered publications around it.
   */
  private static Outcome assertNothingLostSilently(List<Acked> acked, List<Object> events) {
    List<Integer> delivered = new ArrayList<>();
    for (Object e : events) {
      if (e instanceof Integer n) {
        delivered.add(n);
      }
    }
    assertThat(delivered).as("delivered in order, each once").isSorted().doesNotHaveDuplicates();
    java.util.Set<Integer> seen = java.util.Set.copyOf(delivered);
    int deliveredAcked = 0;
    int covered = 0;
    for (Acked a : acked) {
      if (seen.contains(a.n())) {
        deliveredAcked++;
        continue;
      }
      int from = -1; // index of the last delivery before it
      int to = events.size(); // index of the first delivery after it
      for (int i = 0; i < events.size(); i++) {
        if (events.get(i) instanceof Integer n) {
          if (n < a.n()) {
            from = i;
          } else if (to == events.size()) {
            to = i;
          }
        }
      }
      assertThat(events.subList(from + 1, to))
          .as("publication %d (%s) was not delivered: a reset must say so", a.n(), a.at())
          .contains(RESET);
      covered++;
    }
    return new Outcome(deliveredAcked, covered, events.stream().filter(RESET::equals).count());
  }
}
