package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HubMetricsTest {
  /** Records every hook call. */
  static final class Recorder implements HubMetrics {
    final List<String> connects = new CopyOnWriteArrayList<>();
    final List<String> disconnects = new CopyOnWriteArrayList<>();
    final AtomicInteger subscribed = new AtomicInteger();
    final AtomicInteger unsubscribed = new AtomicInteger();
    final AtomicInteger published = new AtomicInteger();
    final AtomicLong delivered = new AtomicLong();
    final AtomicInteger deliveredCalls = new AtomicInteger();
    final List<String> slow = new CopyOnWriteArrayList<>();
    final List<Recovery> recoveries = new CopyOnWriteArrayList<>();
    final List<Long> latencies = new CopyOnWriteArrayList<>();

    @Override
    public void connected(String transport) {
      connects.add(transport);
    }

    @Override
    public void disconnected(String transport, boolean wasConnected, int code, String reason) {
      disconnects.add(transport + "/" + wasConnected + "/" + code + "/" + reason);
    }

    @Override
    public void subscribed() {
      subscribed.incrementAndGet();
    }

    @Override
    public void unsubscribed() {
      unsubscribed.incrementAndGet();
    }

    @Override
    public void published() {
      published.incrementAndGet();
    }

    @Override
    public void delivered(int count) {
      delivered.addAndGet(count);
      deliveredCalls.incrementAndGet();
    }

    @Override
    public void slowConsumer(String transport) {
      slow.add(transport);
    }

    @Override
    public void recovery(Recovery outcome) {
      recoveries.add(outcome);
    }

    @Override
    public void deliveryLatency(long millis) {
      latencies.add(millis);
    }
  }

  private final Recorder m = new Recorder();
  private final TestHub th =
      TestHub.builder()
          .metrics(m)
          .config(c -> c.withLimits(128, 4096, 64 * 1024, 32 * 1024))
          .build();

  @AfterEach
  void close() {
    th.close();
  }

  @Test
  void connectSubscribePublishAndDisconnectAreReported() {
    TestClient a = th.connect("alice");
    TestClient b = th.connect("bob");
    assertThat(m.connects).containsExactly("test", "test");
    a.subscribeOk("test:feed");
    b.subscribeOk("test:feed");
    assertThat(m.subscribed).hasValue(2);
    assertThat(m.recoveries)
        .containsExactly(HubMetrics.Recovery.NOT_REQUESTED, HubMetrics.Recovery.NOT_REQUESTED);

    th.publish("test:feed", "1");
    th.publish("test:feed", "2");
    th.publish("test:other", "3"); // nobody subscribed: published, not delivered
    assertThat(m.published).hasValue(3);
    assertThat(m.delivered).hasValue(4);
    assertThat(m.deliveredCalls).as("one call per fan-out, not per subscriber").hasValue(2);

    b.unsubscribeOk("test:feed");
    assertThat(m.unsubscribed).hasValue(1);
    a.closeFromPeer();
    assertThat(m.unsubscribed).hasValue(2);
    assertThat(m.disconnects).containsExactly("test/true/0/transport_closed");

    th.hub().shutdown();
    assertThat(m.disconnects).contains("test/true/4001/shutdown");
  }

  @Test
  void unauthenticatedSessionsAreReportedAsNotConnected() {
    TestClient c = th.open();
    c.closeFromPeer();
    assertThat(m.connects).isEmpty();
    assertThat(m.disconnects).containsExactly("test/false/0/transport_closed");
  }

  @Test
  void recoveryOutcomes() {
    TestClient a = th.connect("alice");
    a.subscribeOk("test:feed");
    StreamPosition p1 = th.publish("test:feed", "1");
    th.publish("test:feed", "2");
    TestClient b = th.connect("bob");
    b.subscribeOk("test:feed", p1);
    TestClient c = th.connect("carol");
    c.subscribeOk("test:feed", new StreamPosition("wrong-epoch", 1));
    assertThat(m.recoveries)
        .containsExactly(
            HubMetrics.Recovery.NOT_REQUESTED,
            HubMetrics.Recovery.RECOVERED,
            HubMetrics.Recovery.NOT_RECOVERED);
  }

  @Test
  void deliveryLatencyIsPublishToWriteOnTheHubClockOncePerBatch() {
    TestClient a = th.connect("alice");
    a.subscribeOk("test:feed");
    a.transport().writable(false);
    th.publish("test:feed", "1");
    th.scheduler().advance(Duration.ofMillis(100));
    th.publish("test:feed", "2");
    th.scheduler().advance(Duration.ofMillis(150));
    assertThat(m.latencies).isEmpty();
    a.transport().writable(true); // both go in one batch: the oldest one's latency counts
    assertThat(a.transport().messages(Pub.class)).hasSize(2);
    assertThat(m.latencies).containsExactly(250L);

    th.publish("test:feed", "3"); // written at once
    assertThat(m.latencies).containsExactly(250L, 0L);
  }

  @Test
  void replyOnlyBatchesAreNotMeasured() {
    TestClient a = th.connect("alice");
    a.subscribeOk("test:feed");
    a.publishOk("test:feed", "1"); // the publish reply and the pub itself
    assertThat(m.latencies).hasSize(1);
  }

  @Test
  void slowConsumerIsReported() {
    TestClient slow = th.connect("slow");
    slow.subscribeOk("test:feed");
    slow.transport().skipAll();
    slow.transport().writable(false);
    String data = "\"" + "x".repeat(100) + "\"";
    for (int i = 0; i < 100 && !slow.session().isClosed(); i++) {
      th.publish("test:feed", data);
    }
    assertThat(m.slow).containsExactly("test");
    assertThat(m.disconnects).containsExactly("test/true/4003/slow_consumer");
  }

  @Test
  void outboxStatsShowQueuedBytes() {
    TestClient a = th.connect("alice");
    a.subscribeOk("test:feed");
    a.transport().writable(false);
    th.publish("test:feed", "\"hello\"");
    Hub.QueueStats q = th.hub().outboxStats();
    assertThat(q.totalBytes()).isPositive();
    assertThat(q.maxBytes()).isEqualTo(q.totalBytes());
    a.transport().writable(true);
    assertThat(th.hub().outboxStats().totalBytes()).isZero();
    assertThat(th.hub().brokerHealthy()).isTrue();
  }
}
