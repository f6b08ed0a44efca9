package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ClientMessage.Connect;
import dev.herald.protocol.Ping;
import dev.herald.protocol.Pong;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.Disconnect;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HeartbeatTest {
  private final TestHub th =
      TestHub.builder()
          .config(c -> c.withHeartbeat(Duration.ofSeconds(25), Duration.ofSeconds(10)))
          .build();

  @AfterEach
  void close() {
    th.close();
  }

  @Test
  void serverPingsAfterTheIntervalAndClosesWith4002WithoutPong() {
    TestClient c = th.connect("alice");
    th.scheduler().advance(Duration.ofMillis(24_999));
    c.transport().assertNoMoreMessages();
    th.scheduler().advance(Duration.ofMillis(1));
    c.transport().next(Ping.class);
    c.transport().assertNoMoreMessages();

    th.scheduler().advance(Duration.ofMillis(9_999));
    assertThat(c.transport().isClosed()).isFalse();
    th.scheduler().advance(Duration.ofMillis(1));
    Disconnect d = c.transport().next(Disconnect.class);
    assertThat(d.code()).isEqualTo(4002);
    assertThat(d.reconnect()).isTrue();
    assertThat(c.transport().lastClose().code()).isEqualTo(4002);
    assertThat(c.session().isClosed()).isTrue();
    c.transport().assertNoViolations();
  }

  @Test
  void timeoutLongerThanTheIntervalStillClosesADeadPeerAndKeepsOneCheckPending() {
    TestHub fast =
        TestHub.builder()
            .config(c -> c.withHeartbeat(Duration.ofMillis(200), Duration.ofMillis(300)))
            .build();
    try {
      TestClient c = fast.connect("alice");
      fast.scheduler().advance(Duration.ofMillis(200)); // first ping; its check is due at 500
      fast.scheduler()
          .advance(Duration.ofMillis(200)); // second ping at 400 must not push the check back
      assertThat(c.transport().isClosed()).isFalse();
      fast.scheduler().advance(Duration.ofMillis(100)); // 500: no answer to the ping of 200
      assertThat(c.transport().lastClose().code()).isEqualTo(4002);
    } finally {
      fast.close();
    }
  }

  @Test
  void clientMayAskForAShorterPingIntervalBoundedByTheServersAndOneSecond() {
    record Case(long asked, long granted) {}
    for (Case k :
        List.of(
            new Case(0, 25_000),
            new Case(4_000, 4_000),
            new Case(200, 1_000),
            new Case(60_000, 25_000))) {
      TestClient c = th.open();
      long id = c.nextId();
      c.send(new Connect(id, "alice", "testkit/1", 1, k.asked()));
      ConnectResult r = c.ok(id, ConnectResult.class);
      assertThat(r.pingMs()).as("asked %d", k.asked()).isEqualTo(k.granted());
      th.scheduler().advance(Duration.ofMillis(k.granted() - 1));
      c.transport().assertNoMoreMessages();
      th.scheduler().advance(Duration.ofMillis(1));
      c.transport().next(Ping.class);
      c.pong();
      th.scheduler().advance(Duration.ofMillis(k.granted()));
      c.transport().next(Ping.class);
      c.transport().close();
      c.closeFromPeer();
    }
  }

  @Test
  void pongKeepsTheConnectionAlive() {
    TestClient c = th.connect("alice");
    th.scheduler().advance(Duration.ofSeconds(25));
    for (int i = 0; i < 10; i++) {
      c.transport().next(Ping.class);
      th.scheduler().advance(Duration.ofSeconds(3));
      c.pong();
      th.scheduler().advance(Duration.ofSeconds(7)); // the pong deadline of this ping passes
      assertThat(c.transport().isClosed()).as("round %d", i).isFalse();
      c.transport().assertNoMoreMessages();
      th.scheduler().advance(Duration.ofSeconds(15)); // next ping, 25 s after the previous one
    }
    assertThat(c.transport().messages(Ping.class)).hasSize(11);
  }

  @Test
  void anyMessageCountsAsSignOfLife() {
    TestClient c = th.connect("alice");
    th.scheduler().advance(Duration.ofSeconds(25));
    c.transport().next(Ping.class);
    th.scheduler().advance(Duration.ofSeconds(5));
    assertThat(c.subscribeOk("nopresence:x")).isInstanceOf(SubscribeResult.class);
    th.scheduler().advance(Duration.ofSeconds(5));
    assertThat(c.transport().isClosed()).isFalse();
  }

  @Test
  void pongAnsweringAnEarlierPingDoesNotCoverALaterOne() {
    TestClient c = th.connect("alice");
    th.scheduler().advance(Duration.ofSeconds(25));
    c.pong();
    th.scheduler().advance(Duration.ofSeconds(25)); // second ping at 50 s
    th.scheduler().advance(Duration.ofSeconds(10));
    assertThat(c.transport().awaitClose().code()).isEqualTo(4002);
  }

  @Test
  void clientPingIsAnsweredWithPong() {
    TestClient c = th.connect("alice");
    c.ping();
    c.transport().next(Pong.class);
    c.transport().assertNoMoreMessages();
  }

  @Test
  void sessionsThatAreNotConnectedAreNotPinged() {
    TestClient c = th.open();
    th.scheduler().advance(Duration.ofSeconds(9));
    c.transport().assertNoMoreMessages();
  }

  @Test
  void closedSessionLeavesNoTimersBehind() {
    int before = th.scheduler().pendingTasks(); // the broker's sweep
    TestClient c = th.connect("alice");
    assertThat(th.scheduler().pendingTasks()).isGreaterThan(before);
    c.closeFromPeer();
    assertThat(th.scheduler().pendingTasks()).isEqualTo(before);
  }
}
