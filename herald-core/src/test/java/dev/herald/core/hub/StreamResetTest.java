package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.broker.BrokerEventHandler;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.HistoryResult;
import dev.herald.core.broker.MemoryBroker;
import dev.herald.core.testkit.ForwardingBroker;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.ServerMessage.Unsubscribed;
import dev.herald.protocol.StreamPosition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * When a broker cannot continue a stream for this node (its store lost the data, or this node
 * missed publications that history no longer holds), the subscriptions of that channel end with
 * {@code unsubscribed} 116, and the resubscription says whether they recovered: nothing is silently
 * skipped, and nothing else about the connection changes.
 */
class StreamResetTest {
  private CapturingBroker broker;
  private final TestHub th =
      TestHub.builder()
          .config(
              c ->
                  c.withShutdownRetry(Duration.ofMillis(100), Duration.ofMillis(200))
                      .withDrain(new HubConfig.Drain(5, Duration.ofMillis(100))))
          .broker(s -> broker = new CapturingBroker(new MemoryBroker(s)))
          .build();

  @AfterEach
  void close() {
    th.close();
  }

  @Test
  void aResetStreamEndsOnlyThatChannelsSubscriptionsWhoThenLearnTheyDidNotRecover() {
    TestClient a = th.connect("alice");
    SubscribeResult sub = a.subscribeOk("test:reset");
    a.subscribeOk("nopresence:kept");
    TestClient other = th.connect("bob");
    other.subscribeOk("test:other");
    th.publish("test:reset", "{\"n\":1}");
    Pub first = a.transport().awaitMessage(Pub.class);

    broker.handler.onStreamReset("test:reset");

    Unsubscribed u = a.transport().awaitMessage(Unsubscribed.class);
    assertThat(u.channel()).isEqualTo("test:reset");
    assertThat(u.code()).isEqualTo(ErrorCode.STREAM_RESET.code());
    assertThat(a.session().isClosed()).isFalse();
    assertThat(a.session().subscriptionCount()).isEqualTo(1);
    assertThat(other.session().isClosed()).isFalse();
    // The other subscription of the same connection goes on.
    th.publish("nopresence:kept", "{\"n\":2}");
    assertThat(a.transport().awaitMessage(Pub.class).channel()).isEqualTo("nopresence:kept");
    // Nothing more arrives for the ended subscription.
    th.publish("test:reset", "{\"n\":3}");
    assertThat(a.transport().unread())
        .noneMatch(m -> m instanceof Pub p && p.channel().equals("test:reset"));

    // The stream really restarted (new epoch): resubscribing from the old position says so.
    broker.forgetAndRestart("test:reset");
    SubscribeResult r =
        a.subscribeOk("test:reset", new StreamPosition(sub.epoch(), first.offset()));
    assertThat(r.recovered()).isFalse();
    assertThat(r.epoch()).isNotEqualTo(sub.epoch());
  }

  @Test
  void aResetDuringASubscribeEndsItAfterTheReplySoTheClientAsksAgain() {
    java.util.concurrent.atomic.AtomicReference<dev.herald.core.testkit.BlockingHistoryBroker>
        blocking = new java.util.concurrent.atomic.AtomicReference<>();
    CapturingBroker[] capture = new CapturingBroker[1];
    try (TestHub slow =
        TestHub.builder()
            .broker(
                s -> {
                  capture[0] = new CapturingBroker(new MemoryBroker(s));
                  blocking.set(new dev.herald.core.testkit.BlockingHistoryBroker(capture[0]));
                  return blocking.get();
                })
            .build()) {
      TestClient a = slow.connect("alice");
      blocking.get().arm(dev.herald.core.testkit.BlockingHistoryBroker.Mode.SNAPSHOT_EARLY);
      long id = a.subscribe("nopresence:pending");
      blocking.get().awaitHistoryCalled();
      capture[0].handler.onStreamReset("nopresence:pending");
      blocking.get().release();
      assertThat(TestClient.result(a.transport().awaitReply(id), SubscribeResult.class))
          .isNotNull();
      Unsubscribed u = a.transport().awaitMessage(Unsubscribed.class);
      assertThat(u.code()).isEqualTo(ErrorCode.STREAM_RESET.code());
      assertThat(a.session().isClosed()).isFalse();
      assertThat(a.session().subscriptionCount()).isZero();
    }
  }

  @Test
  void aPublicationFromAnotherEpochOrAfterAGapIsNeverDeliveredSilently() {
    TestClient a = th.connect("alice");
    TestClient b = th.connect("bob");
    SubscribeResult sa = a.subscribeOk("test:guard");
    b.subscribeOk("test:guard");
    RawJson data = TestHub.json("{}");
    // A broker bug or data loss: offset 1 is followed by 3 (b) or by another epoch (a).
    broker.handler.onPublication(new Pub("test:guard", sa.epoch(), 1, 0, data, null));
    a.transport().awaitMessage(Pub.class);
    b.transport().awaitMessage(Pub.class);
    broker.handler.onPublication(new Pub("test:guard", sa.epoch(), 3, 0, data, null));
    assertThat(b.transport().awaitMessage(Unsubscribed.class).code()).isEqualTo(116);
    assertThat(a.transport().awaitMessage(Unsubscribed.class).code()).isEqualTo(116);
    broker.handler.onPublication(new Pub("test:guard", "another", 4, 0, data, null));
    assertThat(a.transport().messages()).filteredOn(m -> m instanceof Pub).hasSize(1);
    assertThat(b.transport().messages()).filteredOn(m -> m instanceof Pub).hasSize(1);
    assertThat(a.session().isClosed()).isFalse();
    assertThat(b.session().isClosed()).isFalse();
  }

  @Test
  void shutdownDisconnectsInBatchesOverTime() {
    List<TestClient> clients = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      clients.add(th.connect("u" + i));
    }
    th.hub().shutdown();
    assertThat(closed(clients)).isEqualTo(5);
    th.scheduler().advance(Duration.ofMillis(100));
    assertThat(closed(clients)).isEqualTo(10);
    th.scheduler().advance(Duration.ofMillis(100));
    assertThat(closed(clients)).isEqualTo(12);
  }

  private static long closed(List<TestClient> clients) {
    return clients.stream().filter(c -> c.transport().lastClose() != null).count();
  }

  /** A broker that hands out the hub's handler, and can drop a stream as a lost store would. */
  static final class CapturingBroker extends ForwardingBroker {
    private final java.util.Set<String> forgotten = new java.util.HashSet<>();
    BrokerEventHandler handler;

    CapturingBroker(MemoryBroker delegate) {
      super(delegate);
    }

    void forgetAndRestart(String channel) {
      forgotten.add(channel);
    }

    @Override
    public void start(BrokerEventHandler h) {
      handler = h;
      super.start(h);
    }

    @Override
    public CompletableFuture<HistoryResult> history(
        String channel, long afterOffset, HistoryPolicy history) {
      if (forgotten.contains(channel)) {
        // As after a store restarted empty: a new epoch, nothing kept.
        return CompletableFuture.completedFuture(
            new HistoryResult(new StreamPosition("restarted1", 0), List.of()));
      }
      return delegate.history(channel, afterOffset, history);
    }
  }
}
