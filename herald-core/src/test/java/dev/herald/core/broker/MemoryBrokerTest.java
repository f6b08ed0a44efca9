package dev.herald.core.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.ManualScheduler;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MemoryBrokerTest {
  private static final HistoryPolicy POLICY =
      new HistoryPolicy(100, Duration.ofMinutes(10).toMillis(), Duration.ofHours(1).toMillis());

  private final ManualScheduler scheduler = new ManualScheduler();
  private final List<Pub> delivered = new CopyOnWriteArrayList<>();
  private final List<PresenceEvent> presence = new CopyOnWriteArrayList<>();
  private MemoryBroker broker;

  @BeforeEach
  void start() {
    broker = new MemoryBroker(scheduler);
    broker.start(
        new BrokerEventHandler() {
          @Override
          public void onPublication(Pub publication) {
            delivered.add(publication);
          }

          @Override
          public void onPresence(PresenceEvent event) {
            presence.add(event);
          }
        });
  }

  @AfterEach
  void stop() {
    broker.close();
  }

  private StreamPosition publish(String channel, int n, HistoryPolicy policy) {
    return broker.publish(channel, TestHub.json("{\"n\":" + n + "}"), null, policy).join();
  }

  private static List<Long> offsets(List<Pub> pubs) {
    return pubs.stream().map(Pub::offset).toList();
  }

  @Test
  void offsetsGrowByOneWithinOneEpochAndAreDeliveredInOrder() {
    StreamPosition p1 = publish("c", 1, POLICY);
    StreamPosition p2 = broker.publish("c", TestHub.json("{\"n\":2}"), "alice", POLICY).join();
    StreamPosition p3 = publish("c", 3, POLICY);

    assertThat(p1.offset()).isEqualTo(1);
    assertThat(p2.offset()).isEqualTo(2);
    assertThat(p3.offset()).isEqualTo(3);
    assertThat(p1.epoch()).isEqualTo(p2.epoch()).isEqualTo(p3.epoch()).hasSize(10);

    assertThat(offsets(delivered)).containsExactly(1L, 2L, 3L);
    Pub second = delivered.get(1);
    assertThat(second.channel()).isEqualTo("c");
    assertThat(second.user()).isEqualTo("alice");
    assertThat(second.data().json()).isEqualTo("{\"n\":2}");
    assertThat(second.ts()).isEqualTo(scheduler.nowMillis());
    assertThat(delivered.get(0).user()).isNull();
  }

  @Test
  void channelsHaveIndependentStreams() {
    StreamPosition a = publish("a", 1, POLICY);
    publish("a", 2, POLICY);
    StreamPosition b = publish("b", 1, POLICY);
    assertThat(b.offset()).isEqualTo(1);
    assertThat(b.epoch()).isNotEqualTo(a.epoch());
    assertThat(broker.streamCount()).isEqualTo(2);
  }

  @Test
  void historyReturnsTheSliceAfterTheOffset() {
    for (int i = 1; i <= 10; i++) {
      publish("c", i, POLICY);
    }
    HistoryResult all = broker.history("c", 0, POLICY).join();
    assertThat(all.top().offset()).isEqualTo(10);
    assertThat(offsets(all.publications()))
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);

    assertThat(offsets(broker.history("c", 4, POLICY).join().publications()))
        .containsExactly(5L, 6L, 7L, 8L, 9L, 10L);
    assertThat(offsets(broker.history("c", 9, POLICY).join().publications())).containsExactly(10L);
    assertThat(broker.history("c", 10, POLICY).join().publications()).isEmpty();
    HistoryResult none = broker.history("c", Long.MAX_VALUE, POLICY).join();
    assertThat(none.publications()).isEmpty();
    assertThat(none.top()).isEqualTo(all.top());
  }

  @Test
  void historyOfUnknownChannelCreatesTheStreamThatLaterPublicationsContinue() {
    HistoryResult h = broker.history("fresh", 0, POLICY).join();
    assertThat(h.top().offset()).isZero();
    assertThat(h.publications()).isEmpty();
    StreamPosition p = publish("fresh", 1, POLICY);
    assertThat(p).isEqualTo(new StreamPosition(h.top().epoch(), 1));
  }

  @Test
  void historyIsTrimmedBySize() {
    HistoryPolicy small = new HistoryPolicy(3, 600_000, 3_600_000);
    for (int i = 1; i <= 5; i++) {
      publish("c", i, small);
    }
    HistoryResult h = broker.history("c", 0, small).join();
    assertThat(h.top().offset()).isEqualTo(5);
    assertThat(offsets(h.publications())).containsExactly(3L, 4L, 5L);
    assertThat(h.continues(new StreamPosition(h.top().epoch(), 2))).isTrue();
    assertThat(h.continues(new StreamPosition(h.top().epoch(), 1))).isFalse();
  }

  @Test
  void zeroSizeKeepsNoHistoryButOffsetsStillGrow() {
    HistoryPolicy none = new HistoryPolicy(0, 600_000, 3_600_000);
    publish("c", 1, none);
    StreamPosition p = publish("c", 2, none);
    assertThat(p.offset()).isEqualTo(2);
    HistoryResult h = broker.history("c", 0, none).join();
    assertThat(h.publications()).isEmpty();
    assertThat(h.top()).isEqualTo(p);
    assertThat(offsets(delivered)).containsExactly(1L, 2L);
  }

  @Test
  void historyIsTrimmedByAgeOnFakeTime() {
    HistoryPolicy tenSeconds = new HistoryPolicy(100, 10_000, 3_600_000);
    publish("c", 1, tenSeconds); // t=0
    scheduler.advance(Duration.ofSeconds(6));
    publish("c", 2, tenSeconds); // t=6s
    scheduler.advance(Duration.ofSeconds(4)); // t=10s: pub 1 is exactly 10s old, still kept
    assertThat(offsets(broker.history("c", 0, tenSeconds).join().publications()))
        .containsExactly(1L, 2L);
    scheduler.advance(Duration.ofMillis(1)); // 10.001s: pub 1 is too old
    assertThat(offsets(broker.history("c", 0, tenSeconds).join().publications()))
        .containsExactly(2L);
    scheduler.advance(Duration.ofSeconds(10));
    HistoryResult h = broker.history("c", 0, tenSeconds).join();
    assertThat(h.publications()).isEmpty();
    assertThat(h.top().offset()).isEqualTo(2); // the stream itself lives on
  }

  @Test
  void streamTtlSweepStartsANewEpoch() {
    HistoryPolicy policy = new HistoryPolicy(100, 60_000, 120_000);
    StreamPosition first = publish("c", 1, policy);
    publish("c", 2, policy);
    scheduler.advance(
        Duration.ofMinutes(2)); // sweeps at 1 and 2 minutes: not idle for more than 2 minutes yet
    assertThat(broker.streamCount()).isEqualTo(1);
    assertThat(broker.history("c", 0, policy).join().top().epoch()).isEqualTo(first.epoch());

    // reading history counts as activity; now stay idle past the stream TTL
    scheduler.advance(Duration.ofMinutes(3));
    assertThat(broker.streamCount()).isZero();

    StreamPosition after = publish("c", 3, policy);
    assertThat(after.epoch()).isNotEqualTo(first.epoch());
    assertThat(after.offset()).isEqualTo(1);
    HistoryResult h = broker.history("c", 0, policy).join();
    assertThat(offsets(h.publications())).containsExactly(1L);
    assertThat(h.continues(new StreamPosition(first.epoch(), 2))).isFalse();
  }

  @Test
  void activeStreamsAreNotSwept() {
    HistoryPolicy policy = new HistoryPolicy(100, 60_000, 120_000);
    StreamPosition first = publish("c", 1, policy);
    for (int i = 0; i < 10; i++) {
      scheduler.advance(Duration.ofSeconds(90));
      assertThat(publish("c", i + 2, policy).epoch()).isEqualTo(first.epoch());
    }
  }

  @Test
  void aQuietStreamWithSubscribersOnThisNodeIsNotDroppedByItsTtl() {
    HistoryPolicy policy = new HistoryPolicy(100, 60_000, 120_000);
    broker.subscribe("quiet", policy).join();
    StreamPosition first = publish("quiet", 1, policy);
    scheduler.advance(Duration.ofMinutes(30)); // far past the stream TTL, nothing published
    assertThat(broker.history("quiet", 0, policy).join().top()).isEqualTo(first);
    assertThat(publish("quiet", 2, policy).epoch()).isEqualTo(first.epoch());

    broker.unsubscribe("quiet").join(); // the last subscriber left: the TTL applies again
    scheduler.advance(Duration.ofMinutes(5));
    assertThat(broker.streamCount()).isZero();
  }

  /**
   * A presence event published while a publication of the same channel is being handed to the
   * handler waits for it: one channel's events never reach the handler concurrently, and no lock is
   * held while the handler runs.
   */
  @Test
  void presenceEventsAreNeverDeliveredConcurrentlyWithPublicationsOfTheirChannel()
      throws Exception {
    MemoryBroker b = new MemoryBroker(scheduler);
    java.util.concurrent.CountDownLatch inHandler = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger inside =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger overlaps =
        new java.util.concurrent.atomic.AtomicInteger();
    List<String> order = new CopyOnWriteArrayList<>();
    b.start(
        new BrokerEventHandler() {
          @Override
          public void onPublication(Pub p) {
            enter();
            order.add("pub " + p.offset());
            if (p.offset() == 1) {
              inHandler.countDown();
              await(release);
            }
            inside.decrementAndGet();
          }

          @Override
          public void onPresence(PresenceEvent e) {
            enter();
            order.add("presence on " + Thread.currentThread().getName());
            inside.decrementAndGet();
          }

          private void enter() {
            if (inside.incrementAndGet() > 1) {
              overlaps.incrementAndGet();
            }
          }
        });
    Thread publisher =
        new Thread(() -> b.publish("c", TestHub.json("1"), null, POLICY).join(), "publisher");
    publisher.start();
    assertThat(inHandler.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    // The publisher is inside the handler: this call must neither overlap it nor wait for it.
    b.publishPresence(
            new PresenceEvent(
                PresenceEvent.Kind.JOIN, "c", new ClientInfo("c-1", "alice", null, null)))
        .join();
    b.publish("c", TestHub.json("2"), null, POLICY).join();
    assertThat(order).containsExactly("pub 1");
    release.countDown();
    publisher.join(10_000);
    assertThat(order).containsExactly("pub 1", "presence on publisher", "pub 2");
    assertThat(overlaps).hasValue(0);
    b.close();
  }

  private static void await(java.util.concurrent.CountDownLatch latch) {
    try {
      if (!latch.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
        throw new AssertionError("not released");
      }
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void presenceEventsAreDeliveredNotKept() {
    PresenceEvent e =
        new PresenceEvent(PresenceEvent.Kind.JOIN, "c", new ClientInfo("c-1", "alice", null, null));
    broker.publishPresence(e).join();
    assertThat(presence).containsExactly(e);
    assertThat(broker.history("c", 0, POLICY).join().publications()).isEmpty();
  }

  @Test
  void closeCancelsTheSweep() {
    assertThat(scheduler.pendingTasks()).isEqualTo(1);
    broker.close();
    assertThat(scheduler.pendingTasks()).isZero();
  }
}
