package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.Join;
import dev.herald.protocol.ServerMessage.Pub;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FanOutTest {
  private final TestHub th = TestHub.create();

  @AfterEach
  void close() {
    th.close();
  }

  /** The raw message the transport received at the index of the first decoded message of a type. */
  private static OutboundMessage rawOf(TestClient c, Class<? extends ServerMessage> type, int nth) {
    List<ServerMessage> decoded = c.transport().messages();
    List<OutboundMessage> raw = c.transport().outbound();
    assertThat(raw).hasSameSizeAs(decoded);
    int seen = 0;
    for (int i = 0; i < decoded.size(); i++) {
      if (type.isInstance(decoded.get(i)) && seen++ == nth) {
        return raw.get(i);
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " #" + nth + " in " + decoded);
  }

  @Test
  void aPublicationIsEncodedOnceForAllSubscribers() {
    TestClient a = th.connect("alice");
    TestClient b = th.connect("bob");
    a.subscribeOk("test:fan");
    b.subscribeOk("test:fan");
    th.publish("test:fan", "{\"x\":1}");

    OutboundMessage ma = rawOf(a, Pub.class, 0);
    OutboundMessage mb = rawOf(b, Pub.class, 0);
    assertThat(ma).isSameAs(mb);
    assertThat(new String(ma.bytes(), StandardCharsets.UTF_8))
        .startsWith("{\"type\":\"pub\",\"channel\":\"test:fan\"")
        .doesNotContain("\n");
  }

  private java.util.List<TestClient> onOneLoop(
      TestHub hub, dev.herald.core.testkit.TestLoop loop, int n, String channel) {
    java.util.List<TestClient> clients = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      TestClient c = hub.open(dev.herald.core.testkit.RecordingTransport.on(loop, "c" + i));
      c.connectOk("u" + i);
      c.subscribeOk(channel);
      clients.add(c);
    }
    loop.runPending();
    return clients;
  }

  /** A publication for many connections of one loop is one task for the loop, not one each. */
  @Test
  void connectionsOfOneLoopGetAPublicationInOneTask() {
    dev.herald.core.testkit.TestLoop loop = new dev.herald.core.testkit.TestLoop();
    java.util.List<TestClient> clients = onOneLoop(th, loop, 100, "nopresence:fan");

    th.publish("nopresence:fan", "{\"x\":1}"); // from the test thread, not the loop
    assertThat(loop.pendingTasks()).isEqualTo(1);
    assertThat(clients.get(99).transport().messages(Pub.class)).isEmpty();
    assertThat(loop.runPending()).isEqualTo(1);
    for (TestClient c : clients) {
      assertThat(c.transport().messages(Pub.class)).extracting(Pub::offset).containsExactly(1L);
      c.transport().assertNoViolations();
    }
  }

  /** When the publisher runs on the subscribers' loop, they are written in the same pass. */
  @Test
  void aPublicationMadeOnTheLoopIsWrittenInTheSamePass() {
    dev.herald.core.testkit.TestLoop loop = new dev.herald.core.testkit.TestLoop();
    java.util.List<TestClient> clients = onOneLoop(th, loop, 50, "nopresence:fan");

    loop.run(() -> th.publish("nopresence:fan", "{\"x\":1}"));
    assertThat(loop.pendingTasks()).isZero();
    for (TestClient c : clients) {
      assertThat(c.transport().messages(Pub.class)).hasSize(1);
      c.transport().assertNoViolations();
    }
  }

  /** An event queued for the loop is never overtaken by a later one published on the loop. */
  @Test
  void aPublicationOnTheLoopWaitsForEarlierOnesQueuedForIt() {
    dev.herald.core.testkit.TestLoop loop = new dev.herald.core.testkit.TestLoop();
    java.util.List<TestClient> clients = onOneLoop(th, loop, 3, "nopresence:fan");

    th.publish("nopresence:fan", "1"); // queued for the loop
    loop.run(() -> th.publish("nopresence:fan", "2")); // must not go first
    loop.runPending();
    for (TestClient c : clients) {
      assertThat(c.transport().messages(Pub.class)).extracting(Pub::offset).containsExactly(1L, 2L);
      assertThat(c.session().isClosed()).isFalse();
    }
  }

  /**
   * With a write delay, one timer per loop flushes every connection that has something to write,
   * and messages queued meanwhile leave in one batch.
   */
  @Test
  void writeCoalescingFlushesAllConnectionsOfALoopWithOneTimer() {
    try (TestHub delayed =
        TestHub.builder().config(c -> c.withWriteDelay(java.time.Duration.ofMillis(5))).build()) {
      dev.herald.core.testkit.TestLoop loop = new dev.herald.core.testkit.TestLoop();
      java.util.List<TestClient> clients = new java.util.ArrayList<>();
      for (int i = 0; i < 20; i++) {
        TestClient c = delayed.open(dev.herald.core.testkit.RecordingTransport.on(loop, "c" + i));
        c.connect("u" + i);
        c.subscribe("nopresence:fan");
        clients.add(c);
      }
      loop.runPending();
      delayed.scheduler().advanceMillis(5);
      loop.runPending();
      for (TestClient c : clients) {
        c.transport().awaitCount(ServerMessage.Reply.class, 2);
      }
      int timersBefore = delayed.scheduler().pendingTasks();

      for (int i = 1; i <= 3; i++) {
        delayed.publish("nopresence:fan", Integer.toString(i));
      }
      loop.runPending();
      assertThat(clients.get(0).transport().messages(Pub.class)).isEmpty(); // waiting for the flush
      assertThat(delayed.scheduler().pendingTasks()).isEqualTo(timersBefore + 1); // one per loop
      int sends = clients.get(0).transport().batchSizes().size();

      delayed.scheduler().advanceMillis(5);
      loop.runPending();
      for (TestClient c : clients) {
        assertThat(c.transport().messages(Pub.class))
            .extracting(Pub::offset)
            .containsExactly(1L, 2L, 3L);
        c.transport().assertNoViolations();
      }
      assertThat(clients.get(0).transport().batchSizes()).hasSize(sends + 1).last().isEqualTo(3);
    }
  }

  /** The hub keeps no state for a loop whose connections are all gone. */
  @Test
  void aLoopIsForgottenWithItsLastConnection() {
    dev.herald.core.testkit.TestLoop loop = new dev.herald.core.testkit.TestLoop();
    int before = th.hub().loopCount();
    java.util.List<TestClient> clients = onOneLoop(th, loop, 5, "nopresence:fan");
    assertThat(th.hub().loopCount()).isEqualTo(before + 1);
    clients.forEach(TestClient::closeFromPeer);
    loop.runPending();
    assertThat(th.hub().loopCount()).isEqualTo(before);
  }

  @Test
  void presenceEventsAreEncodedOnceToo() {
    TestClient a = th.connect("alice");
    TestClient b = th.connect("bob");
    a.subscribeOk("test:fan");
    b.subscribeOk("test:fan"); // bob's join goes to both
    assertThat(rawOf(a, Join.class, 1)).isSameAs(rawOf(b, Join.class, 0));
  }
}
