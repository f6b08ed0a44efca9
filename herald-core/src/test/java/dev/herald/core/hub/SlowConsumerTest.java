package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.RecordingTransport;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ServerMessage.Disconnect;
import dev.herald.protocol.ServerMessage.Join;
import dev.herald.protocol.ServerMessage.Leave;
import dev.herald.protocol.ServerMessage.Pub;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SlowConsumerTest {
  private static final String DATA = "\"" + "x".repeat(100) + "\"";
  private final TestHub th =
      TestHub.builder().config(c -> c.withLimits(128, 4096, 64 * 1024, 32 * 1024)).build();

  @AfterEach
  void close() {
    th.close();
  }

  @Test
  void overflowingOutboxClosesWith4003AndOthersKeepReceiving() {
    TestClient other = th.connect("other", RecordingTransport.threaded("other"));
    other.subscribeOk("test:feed");
    other
        .transport()
        .awaitMessage(Join.class); // its own join is through before the others subscribe
    TestClient slow = th.connect("slow");
    TestClient fast = th.connect("fast");
    slow.subscribeOk("test:feed");
    fast.subscribeOk("test:feed");
    slow.transport().skipAll();
    slow.transport().writable(false);

    int n = 100;
    for (int i = 0; i < n; i++) {
      th.publish("test:feed", DATA);
      // "other" reads on its own thread; let it keep up so that only "slow" overflows
      other.transport().awaitCount(Pub.class, i + 1);
    }

    assertThat(slow.transport().lastClose().code()).isEqualTo(4003);
    assertThat(slow.session().isClosed()).isTrue();
    // nothing queued is sent after overflow: only the disconnect
    Disconnect d = slow.transport().next(Disconnect.class);
    assertThat(d.code()).isEqualTo(4003);
    assertThat(d.reconnect()).isTrue();
    slow.transport().assertNoMoreMessages();
    slow.transport().assertNoViolations();

    List<Long> expected = LongStream.rangeClosed(1, n).boxed().toList();
    assertThat(fast.transport().messages(Pub.class))
        .extracting(Pub::offset)
        .containsExactlyElementsOf(expected);
    assertThat(other.transport().awaitCount(Pub.class, n))
        .extracting(Pub::offset)
        .containsExactlyElementsOf(expected);
    assertThat(fast.transport().messages(Leave.class))
        .extracting(l -> l.client().client())
        .containsExactly(slow.clientId());

    HubStats stats = th.hub().stats();
    assertThat(stats.slowConsumers()).isEqualTo(1);
    assertThat(stats.sessions()).isEqualTo(2);
  }

  @Test
  void liveMessagesHeldDuringASlowHistoryReadAreBoundedByTheOutboxLimit() {
    java.util.concurrent.atomic.AtomicReference<dev.herald.core.testkit.BlockingHistoryBroker>
        broker = new java.util.concurrent.atomic.AtomicReference<>();
    TestHub slowHistory =
        TestHub.builder()
            .config(c -> c.withLimits(128, 4096, 64 * 1024, 32 * 1024))
            .broker(
                sch -> {
                  broker.set(
                      new dev.herald.core.testkit.BlockingHistoryBroker(
                          new dev.herald.core.broker.MemoryBroker(sch)));
                  return broker.get();
                })
            .build();
    try {
      TestClient c = slowHistory.connect("alice");
      broker.get().arm(dev.herald.core.testkit.BlockingHistoryBroker.Mode.SNAPSHOT_EARLY);
      c.subscribe("nopresence:busy");
      broker.get().awaitHistoryCalled();
      for (int i = 0; i < 60; i++) { // 60 x ~170 bytes > 4096: more than the outbox may hold
        slowHistory.publish("nopresence:busy", DATA);
      }
      assertThat(c.transport().awaitClose().code()).isEqualTo(4003);
      assertThat(slowHistory.hub().stats().slowConsumers()).isEqualTo(1);
      broker.get().release();
    } finally {
      slowHistory.close();
    }
  }

  @Test
  void aSlowConsumerRecoversABacklogLargerThanItsOutboxAtItsOwnPace() {
    TestClient slow = th.connect("slow");
    slow.subscribeOk("nopresence:feed");
    slow.transport().writable(false);
    int n = 100; // ~20 KB of publications against a 4 KB outbox
    String epoch = th.publish("nopresence:feed", DATA).epoch();
    for (int i = 1; i < n; i++) {
      th.publish("nopresence:feed", DATA);
    }
    assertThat(slow.transport().lastClose().code()).isEqualTo(4003);

    // Back with the position it last saw (nothing, offset 0): the backlog is five times the outbox.
    TestClient again = th.connect("slow");
    again.transport().blockAfterEachSend(true);
    long sub = again.subscribe("nopresence:feed", new dev.herald.protocol.StreamPosition(epoch, 0));
    again.transport().writable(true); // the reply
    dev.herald.protocol.ServerMessage.SubscribeResult r =
        TestClient.result(
            again.reply(sub), dev.herald.protocol.ServerMessage.SubscribeResult.class);
    assertThat(r.recovered()).isTrue();
    assertThat(r.missed()).isEqualTo(n);
    // A live publication while the backlog is still being written: it must come after it.
    th.publish("nopresence:feed", "\"live\"");
    int sends = 0;
    while (again.transport().messages(Pub.class).size() < n + 1 && sends++ < 1000) {
      assertThat(th.hub().outboxStats().maxBytes())
          .isLessThanOrEqualTo(4096); // never more than the outbox limit queued
      again.transport().writable(true);
    }
    assertThat(again.transport().messages(Pub.class))
        .extracting(Pub::offset)
        .containsExactlyElementsOf(LongStream.rangeClosed(1, n + 1).boxed().toList());
    assertThat(again.transport().batchSizes().size()).isGreaterThan(5); // paged, not one burst
    assertThat(again.transport().isClosed()).isFalse();
    assertThat(th.hub().stats().slowConsumers()).isEqualTo(1);
  }

  @Test
  void notWritableHoldsMessagesUntilWritableAgain() {
    TestClient c = th.connect("alice");
    c.subscribeOk("nopresence:x");
    c.transport().writable(false);
    th.publish("nopresence:x", "1");
    th.publish("nopresence:x", "2");
    th.publish("nopresence:x", "3");
    c.transport().assertNoMoreMessages();
    int sends = c.transport().batchSizes().size();

    c.transport().writable(true);
    assertThat(c.transport().messages(Pub.class))
        .extracting(Pub::offset)
        .containsExactly(1L, 2L, 3L);
    assertThat(c.transport().batchSizes())
        .hasSize(sends + 1)
        .last()
        .isEqualTo(3); // batched in one send
    assertThat(th.hub().stats().slowConsumers()).isZero();
    assertThat(c.transport().isClosed()).isFalse();
  }

  @Test
  void batchesRespectTheBatchSizeLimit() {
    HubConfig d = TestHub.defaultConfig();
    try (TestHub small =
        TestHub.builder()
            .config(
                new HubConfig(
                    d.node(),
                    d.pingInterval(),
                    d.pongTimeout(),
                    d.connectTimeout(),
                    128,
                    1 << 20,
                    300,
                    d.maxMessageBytes(),
                    d.maxPublishBytes(),
                    d.maxPresenceStateBytes(),
                    d.maxQueuedRequests(),
                    d.shutdownRetryMin(),
                    d.shutdownRetryMax()))
            .build()) {
      TestClient c = small.connect("alice");
      c.subscribeOk("nopresence:x");
      c.transport().writable(false);
      for (int i = 0; i < 10; i++) {
        small.publish("nopresence:x", DATA);
      }
      int before = c.transport().batchSizes().size();
      c.transport().writable(true);
      assertThat(c.transport().messages(Pub.class)).hasSize(10);
      List<Integer> batches =
          c.transport().batchSizes().subList(before, c.transport().batchSizes().size());
      assertThat(batches.stream().mapToInt(Integer::intValue).sum()).isEqualTo(10);
      assertThat(batches).hasSizeGreaterThan(1).allSatisfy(b -> assertThat(b).isBetween(1, 2));
    }
  }

  @Test
  void manualExecutorDrainsOnlyWhenRun() {
    RecordingTransport t = RecordingTransport.manual();
    TestClient c = th.open(t);
    c.connect("alice");
    assertThat(t.messages()).isEmpty();
    assertThat(t.pendingTasks()).isPositive();
    t.runPending();
    assertThat(t.messages()).hasSize(1);
    c.subscribeOk("nopresence:x");
    th.publish("nopresence:x", "1");
    assertThat(t.messages(Pub.class)).isEmpty(); // drain is queued on the executor
    t.runPending();
    assertThat(t.messages(Pub.class)).hasSize(1);
  }
}
