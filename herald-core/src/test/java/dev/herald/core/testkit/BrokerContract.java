package dev.herald.core.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.core.broker.Broker;
import dev.herald.core.broker.BrokerEventHandler;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.HistoryResult;
import dev.herald.core.broker.IdempotencyKey;
import dev.herald.core.broker.PresenceEvent;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Broker} promises, written once and run against each implementation (the
 * in-memory broker and the Redis broker). A subclass says how to make a node, how to cut a node off
 * its store and how to make its store lose data, and how time passes for stream expiry.
 */
public abstract class BrokerContract {
  protected static final Duration WAIT = Duration.ofSeconds(30);

  /** A node: a started broker and what its handler received. */
  public record Node(Broker broker, Events events) {}

  /** A started broker whose handler records every event; closed by the subclass after the test. */
  protected abstract Node node();

  /** The history policy of the tests' channels, with the given stream TTL. */
  protected abstract HistoryPolicy policy(Duration streamTtl);

  /** A stream TTL short enough for {@link #expireQuietStreams} to pass it. */
  protected abstract Duration shortStreamTtl();

  /**
   * Cuts the node off its store as a network failure would, and lets it reconnect; publications
   * made meanwhile must still reach it, in order. A broker without such a link does nothing.
   */
  protected abstract void interrupt(Node node);

  /**
   * Makes the store lose every stream, as a Redis restarted empty would. Returns false for a broker
   * whose streams cannot be lost while a node subscribes to them.
   */
  protected abstract boolean loseAllStreams(Node node);

  /** Lets more than {@code ttl} pass, as far as stream expiry is concerned. */
  protected abstract void expireQuietStreams(Node node, Duration ttl);

  /** Whether the store still knows the channel's stream (without touching it). */
  protected abstract boolean remembers(Node node, String channel);

  /** A channel name unique to the test, so tests share nothing. */
  protected String channel(String name) {
    return "ct:" + name + "-" + Long.toHexString(System.nanoTime());
  }

  private static RawJson json(String text) {
    return TestHub.json(text);
  }

  protected StreamPosition publish(Node n, String channel, int i, Duration streamTtl) {
    return n.broker().publish(channel, json("{\"i\":" + i + "}"), null, policy(streamTtl)).join();
  }

  // ------------------------------------------------------------------ the contract

  @Test
  void concurrentPublishersGetOneOrderDeliveredOnceInOffsetOrder() throws Exception {
    Node n = node();
    String ch = channel("order");
    n.broker().subscribe(ch, policy(Duration.ofHours(1))).get(30, TimeUnit.SECONDS);
    int threads = 4;
    int each = 100;
    List<List<Long>> assigned = new ArrayList<>();
    List<Thread> publishers = new ArrayList<>();
    CountDownLatch start = new CountDownLatch(1);
    for (int t = 0; t < threads; t++) {
      List<Long> mine = Collections.synchronizedList(new ArrayList<>());
      assigned.add(mine);
      Thread p =
          new Thread(
              () -> {
                awaitLatch(start);
                for (int i = 0; i < each; i++) {
                  mine.add(publish(n, ch, i, Duration.ofHours(1)).offset());
                }
              });
      p.start();
      publishers.add(p);
    }
    start.countDown();
    for (Thread p : publishers) {
      p.join(WAIT.toMillis());
    }
    long total = (long) threads * each;
    await().atMost(WAIT).until(() -> n.events().pubs(ch).size() >= total);
    assertThat(n.events().pubs(ch))
        .extracting(Pub::offset)
        .containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
    for (List<Long> mine : assigned) {
      assertThat(mine).isSorted().doesNotHaveDuplicates(); // each publisher's order is kept
    }
    assertThat(n.events().overlaps()).isZero();
  }

  @Test
  void presenceEventsAreNeverDeliveredConcurrentlyWithPublicationsOfTheirChannel()
      throws Exception {
    Node n = node();
    String ch = channel("presence");
    n.broker().subscribe(ch, policy(Duration.ofHours(1))).get(30, TimeUnit.SECONDS);
    int rounds = 200;
    CountDownLatch start = new CountDownLatch(1);
    Thread publisher =
        new Thread(
            () -> {
              awaitLatch(start);
              for (int i = 0; i < rounds; i++) {
                publish(n, ch, i, Duration.ofHours(1));
              }
            });
    Thread presence =
        new Thread(
            () -> {
              awaitLatch(start);
              for (int i = 0; i < rounds; i++) {
                n.broker()
                    .publishPresence(
                        new PresenceEvent(
                            PresenceEvent.Kind.JOIN,
                            ch,
                            new ClientInfo("c-" + i, "u", RawJson.EMPTY_OBJECT, null)))
                    .join();
              }
            });
    publisher.start();
    presence.start();
    start.countDown();
    publisher.join(WAIT.toMillis());
    presence.join(WAIT.toMillis());
    await()
        .atMost(WAIT)
        .until(
            () -> n.events().pubs(ch).size() == rounds && n.events().presence(ch).size() == rounds);
    assertThat(n.events().overlaps()).as("events of one channel handled concurrently").isZero();
    assertThat(n.events().pubs(ch))
        .extracting(Pub::offset)
        .containsExactlyElementsOf(LongStream.rangeClosed(1, rounds).boxed().toList());
  }

  @Test
  void publicationsMadeWhileANodeIsCutOffReachItInOrderAfterwards() throws Exception {
    Node n = node();
    String ch = channel("gap");
    n.broker().subscribe(ch, policy(Duration.ofHours(1))).get(30, TimeUnit.SECONDS);
    for (int i = 1; i <= 20; i++) {
      publish(n, ch, i, Duration.ofHours(1));
    }
    await().atMost(WAIT).until(() -> n.events().pubs(ch).size() == 20);
    interrupt(n);
    for (int i = 21; i <= 60; i++) {
      publishRetrying(n, ch, i);
    }
    await().atMost(WAIT).until(() -> n.events().pubs(ch).size() >= 60);
    assertThat(n.events().pubs(ch))
        .extracting(Pub::offset)
        .containsExactlyElementsOf(LongStream.rangeClosed(1, 60).boxed().toList());
    assertThat(n.events().resets(ch)).isZero();
  }

  @Test
  void aStreamThatLostItsDataStartsOverAndIsNeverContinuedSilently() throws Exception {
    Node n = node();
    String ch = channel("reset");
    n.broker().subscribe(ch, policy(Duration.ofHours(1))).get(30, TimeUnit.SECONDS);
    StreamPosition before = null;
    for (int i = 1; i <= 3; i++) {
      before = publish(n, ch, i, Duration.ofHours(1));
    }
    StreamPosition last = before;
    await().atMost(WAIT).until(() -> n.events().pubs(ch).size() == 3);
    boolean lost = loseAllStreams(n);
    StreamPosition after = publishRetrying(n, ch, 4);
    if (!lost) {
      assertThat(after).isEqualTo(new StreamPosition(last.epoch(), 4));
      return;
    }
    assertThat(after.epoch()).isNotEqualTo(last.epoch());
    assertThat(after.offset()).isEqualTo(1);
    HistoryResult h = n.broker().history(ch, last.offset(), policy(Duration.ofHours(1))).join();
    assertThat(h.continues(last)).isFalse();
    // The subscribed node was told before anything of the new epoch reached it.
    await().atMost(WAIT).until(() -> n.events().resets(ch) > 0);
    List<Object> seq = n.events().sequence(ch);
    int reset = seq.indexOf("reset");
    for (int i = 0; i < seq.size(); i++) {
      if (seq.get(i) instanceof Pub p && !p.epoch().equals(last.epoch())) {
        assertThat(i).as("new epoch delivered only after the reset").isGreaterThan(reset);
      }
    }
  }

  @Test
  void aQuietStreamIsForgottenAfterItsTtlUnlessThisNodeSubscribesToIt() throws Exception {
    Node n = node();
    String kept = channel("kept");
    String quiet = channel("quiet");
    Duration ttl = shortStreamTtl();
    n.broker().subscribe(kept, policy(ttl)).get(30, TimeUnit.SECONDS);
    StreamPosition k = publish(n, kept, 1, ttl);
    publish(n, quiet, 1, ttl);
    assertThat(remembers(n, quiet)).isTrue();
    expireQuietStreams(n, ttl);
    await().atMost(WAIT).until(() -> !remembers(n, quiet));
    assertThat(remembers(n, kept)).as("a subscribed stream outlives its TTL").isTrue();
    assertThat(n.broker().history(kept, 0, policy(ttl)).join().top()).isEqualTo(k);
    assertThat(publish(n, quiet, 2, ttl).offset()).as("starts over").isEqualTo(1);
  }

  /**
   * A node that catches up after its store lost the streams re-creates the stream it reads; that
   * stream must still expire once nobody subscribes (else the store keeps one stream per channel
   * name ever seen).
   */
  @Test
  void aStreamRecreatedByACatchUpAfterDataLossIsStillForgottenOnceUnused() throws Exception {
    Node n = node();
    String ch = channel("recreated");
    Duration ttl = shortStreamTtl();
    n.broker().subscribe(ch, policy(ttl)).get(30, TimeUnit.SECONDS);
    publish(n, ch, 1, ttl);
    await().atMost(WAIT).until(() -> n.events().pubs(ch).size() == 1);
    if (loseAllStreams(n)) {
      interrupt(n); // the node reconnects and catches up: its read re-creates the stream
      await().atMost(WAIT).until(() -> remembers(n, ch));
    }
    n.broker().unsubscribe(ch).get(30, TimeUnit.SECONDS);
    expireQuietStreams(n, ttl);
    await().atMost(WAIT).until(() -> !remembers(n, ch));
  }

  @Test
  void historyReturnsWhatFollowsAPositionAndCreatesTheStreamLaterPublicationsContinue() {
    Node n = node();
    String ch = channel("history");
    HistoryResult empty = n.broker().history(ch, 0, policy(Duration.ofHours(1))).join();
    assertThat(empty.top().offset()).isZero();
    StreamPosition p1 = publish(n, ch, 1, Duration.ofHours(1));
    assertThat(p1).isEqualTo(new StreamPosition(empty.top().epoch(), 1));
    publish(n, ch, 2, Duration.ofHours(1));
    publish(n, ch, 3, Duration.ofHours(1));
    HistoryResult h = n.broker().history(ch, 1, policy(Duration.ofHours(1))).join();
    assertThat(h.publications()).extracting(Pub::offset).containsExactly(2L, 3L);
    assertThat(h.continues(p1)).isTrue();
  }

  @Test
  void aPublishRetriedWithItsIdempotencyKeyAnswersTheFirstPositionAndIsDeliveredOnce()
      throws Exception {
    Node n = node();
    String ch = channel("once");
    String other = channel("once-other");
    HistoryPolicy policy = policy(Duration.ofHours(1));
    n.broker().subscribe(ch, policy).get(30, TimeUnit.SECONDS);
    IdempotencyKey key = new IdempotencyKey("order-7-shipped", Duration.ofHours(1));

    StreamPosition first = n.broker().publish(ch, json("{\"i\":1}"), null, policy, key).join();
    StreamPosition retry = n.broker().publish(ch, json("{\"i\":2}"), null, policy, key).join();
    StreamPosition next =
        n.broker()
            .publish(ch, json("{\"i\":3}"), null, policy, IdempotencyKey.of("order-8-shipped"))
            .join();
    StreamPosition elsewhere =
        n.broker().publish(other, json("{\"i\":4}"), null, policy, key).join();

    assertThat(retry).isEqualTo(first);
    assertThat(next).isEqualTo(new StreamPosition(first.epoch(), first.offset() + 1));
    assertThat(elsewhere.offset()).as("keys of different channels are independent").isEqualTo(1);
    await().atMost(WAIT).until(() -> n.events().pubs(ch).size() >= 2);
    assertThat(n.broker().history(ch, 0, policy).join().publications())
        .extracting(p -> p.data().json())
        .containsExactly("{\"i\":1}", "{\"i\":3}");
    assertThat(n.events().pubs(ch))
        .extracting(p -> p.data().json())
        .containsExactly("{\"i\":1}", "{\"i\":3}");
  }

  @Test
  void concurrentPublishesWithOneIdempotencyKeyMakeOnePublication() throws Exception {
    Node n = node();
    String ch = channel("once-concurrent");
    HistoryPolicy policy = policy(Duration.ofHours(1));
    IdempotencyKey key = IdempotencyKey.of("k-" + ch);
    List<java.util.concurrent.CompletableFuture<StreamPosition>> tries = new ArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      java.util.concurrent.CompletableFuture<StreamPosition> f =
          new java.util.concurrent.CompletableFuture<>();
      tries.add(f);
      int data = i;
      Thread t =
          new Thread(
              () -> {
                awaitLatch(go);
                n.broker()
                    .publish(ch, json("{\"i\":" + data + "}"), null, policy, key)
                    .whenComplete((p, e) -> complete(f, p, e));
              });
      t.start();
      threads.add(t);
    }
    go.countDown();
    for (Thread t : threads) {
      t.join(30_000);
    }
    List<StreamPosition> positions = new ArrayList<>();
    for (var f : tries) {
      positions.add(f.get(30, TimeUnit.SECONDS));
    }
    assertThat(positions).containsOnly(positions.get(0));
    assertThat(n.broker().history(ch, 0, policy).join().publications()).hasSize(1);
  }

  @Test
  void anIdempotencyKeyPublishesAnewOnceItsWindowHasPassed() {
    Node n = node();
    String ch = channel("once-window");
    HistoryPolicy policy = policy(Duration.ofHours(1));
    IdempotencyKey key = new IdempotencyKey("k", shortStreamTtl());
    StreamPosition first = n.broker().publish(ch, json("{\"i\":1}"), null, policy, key).join();
    expireQuietStreams(n, shortStreamTtl());
    java.util.concurrent.atomic.AtomicReference<StreamPosition> again =
        new java.util.concurrent.atomic.AtomicReference<>();
    await()
        .atMost(WAIT)
        .until(
            () -> {
              again.set(n.broker().publish(ch, json("{\"i\":2}"), null, policy, key).join());
              return !again.get().equals(first);
            });
    assertThat(again.get()).isEqualTo(new StreamPosition(first.epoch(), first.offset() + 1));
  }

  private static <T> void complete(
      java.util.concurrent.CompletableFuture<T> f, T value, Throwable error) {
    if (error != null) {
      f.completeExceptionally(error);
    } else {
      f.complete(value);
    }
  }

  /**
   * Publishes, trying again while the broker refuses because it is reconnecting (a refused
   * publication was not made, so trying again duplicates nothing).
   */
  protected StreamPosition publishRetrying(Node n, String ch, int i) {
    java.util.concurrent.atomic.AtomicReference<StreamPosition> made =
        new java.util.concurrent.atomic.AtomicReference<>();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              try {
                made.set(publish(n, ch, i, Duration.ofHours(1)));
                return true;
              } catch (java.util.concurrent.CompletionException e) {
                return false;
              }
            });
    return made.get();
  }

  private static void awaitLatch(CountDownLatch l) {
    try {
      l.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Records what a node's handler receives, per channel and in order, and counts events of one
   * channel that overlapped in time (which the contract forbids).
   */
  public static final class Events implements BrokerEventHandler {
    private final Map<String, List<Object>> byChannel = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> inside = new ConcurrentHashMap<>();
    private final AtomicInteger overlaps = new AtomicInteger();

    private void record(String channel, Object event) {
      AtomicInteger in = inside.computeIfAbsent(channel, c -> new AtomicInteger());
      if (in.incrementAndGet() > 1) {
        overlaps.incrementAndGet();
      }
      try {
        byChannel.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>()).add(event);
      } finally {
        in.decrementAndGet();
      }
    }

    @Override
    public void onPublication(Pub publication) {
      record(publication.channel(), publication);
    }

    @Override
    public void onPresence(PresenceEvent event) {
      record(event.channel(), event);
    }

    @Override
    public void onStreamReset(String channel) {
      record(channel, "reset");
    }

    public List<Object> sequence(String channel) {
      return List.copyOf(byChannel.getOrDefault(channel, List.of()));
    }

    public List<Pub> pubs(String channel) {
      return ofType(channel, Pub.class);
    }

    public List<PresenceEvent> presence(String channel) {
      return ofType(channel, PresenceEvent.class);
    }

    private <T> List<T> ofType(String channel, Class<T> type) {
      return sequence(channel).stream().filter(type::isInstance).map(type::cast).toList();
    }

    public long resets(String channel) {
      return sequence(channel).stream().filter("reset"::equals).count();
    }

    public int overlaps() {
      return overlaps.get();
    }
  }
}
