package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.broker.BrokerEventHandler;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.HistoryResult;
import dev.herald.core.broker.MemoryBroker;
import dev.herald.core.testkit.ForwardingBroker;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Disconnect;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.StreamPosition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * When a broker cannot continue a stream for this node (its store lost the data, or this node
 * missed publications that history no longer holds), subscribers are told to resubscribe, and the
 * resubscription says whether they recovered: nothing is silently skipped.
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
  void aResetStreamDisconnectsItsSubscribersWhoThenLearnTheyDidNotRecover() {
    TestClient a = th.connect("alice");
    SubscribeResult sub = a.subscribeOk("test:reset");
    TestClient other = th.connect("bob");
    other.subscribeOk("test:other");
    th.publish("test:reset", "{\"n\":1}");
    Pub first = a.transport().awaitMessage(Pub.class);

    broker.handler.onStreamReset("test:reset");

    Disconnect d = a.transport().awaitMessage(Disconnect.class);
    assertThat(d.code()).isEqualTo(4007);
    assertThat(d.reconnect()).isTrue();
    assertThat(other.session().isClosed()).isFalse();

    // The stream really restarted (new epoch): resubscribing from the old position says so.
    broker.forgetAndRestart("test:reset");
    TestClient again = th.connect("alice");
    SubscribeResult r =
        again.subscribeOk("test:reset", new StreamPosition(sub.epoch(), first.offset()));
    assertThat(r.recovered()).isFalse();
    assertThat(r.epoch()).isNotEqualTo(sub.epoch());
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
    assertThat(b.transport().awaitMessage(Disconnect.class).code()).isEqualTo(4007);
    assertThat(a.transport().awaitMessage(Disconnect.class).code()).isEqualTo(4007);
    assertThat(a.transport().messages()).filteredOn(m -> m instanceof Pub).hasSize(1);
    assertThat(b.transport().messages()).filteredOn(m -> m instanceof Pub).hasSize(1);
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
