package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.api.ChannelInfo;
import dev.herald.core.api.ClusterResult;
import dev.herald.core.api.ConnectionInfo;
import dev.herald.core.api.HistoryPage;
import dev.herald.core.api.NodeInfo;
import dev.herald.core.api.PresenceInfo;
import dev.herald.core.api.ServerApi;
import dev.herald.core.presence.MemoryPresenceStore;
import dev.herald.core.testkit.LoopbackControlBus;
import dev.herald.core.testkit.ManualScheduler;
import dev.herald.core.testkit.RecordingTransport;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.core.testkit.TestLoop;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.ServerMessage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The server API on two hubs joined by a control bus: calls on one act on and gather from both. */
class ServerApiTest {
  private final LoopbackControlBus.Cluster cluster = new LoopbackControlBus.Cluster();
  private final MemoryPresenceStore presence = new MemoryPresenceStore();
  private final ManualScheduler clock = new ManualScheduler();
  private final TestHub a = node("a");
  private final TestHub b = node("b");

  private TestHub node(String name) {
    return TestHub.builder()
        .config(c -> c.withNode(name))
        .controlBus(cluster.join(name))
        .presenceStore(presence)
        .scheduler(clock)
        .build();
  }

  @AfterEach
  void close() {
    a.close();
    b.close();
  }

  private ServerApi api() {
    return a.hub().api();
  }

  private static ErrorCode failure(CompletableFuture<?> f) {
    assertThat(f).isCompletedExceptionally();
    try {
      f.join();
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(HubException.class);
      return ((HubException) e.getCause()).code();
    }
    throw new AssertionError("not failed");
  }

  @Test
  void aUsersConnectionsOnEveryNodeWithTransportNodeSinceAndChannels() {
    TestClient onA = a.connect("alice");
    onA.subscribeOk("test:one");
    clock.advance(Duration.ofSeconds(5));
    TestClient onB = b.connect("alice");
    onB.subscribeOk("test:one");
    onB.subscribeOk("test:two");
    b.connect("bob");

    ClusterResult<List<ConnectionInfo>> r = api().connections("alice").join();

    assertThat(r.nodes()).containsExactly("a", "b");
    assertThat(r.missing()).isEmpty();
    assertThat(r.value()).hasSize(2);
    ConnectionInfo first = r.value().get(0);
    assertThat(first.id()).isEqualTo(onA.clientId());
    assertThat(first.node()).isEqualTo("a");
    assertThat(first.channels()).containsExactly("test:one");
    assertThat(first.transport()).isEqualTo(onA.session().transportName());
    ConnectionInfo second = r.value().get(1);
    assertThat(second.id()).isEqualTo(onB.clientId());
    assertThat(second.node()).isEqualTo("b");
    assertThat(second.user()).isEqualTo("alice");
    assertThat(second.channels()).containsExactly("test:one", "test:two");
    assertThat(second.since()).isEqualTo(first.since().plusSeconds(5));

    assertThat(api().connection(onB.clientId()).join().value()).isEqualTo(second);
    assertThat(api().connections("nobody").join().value()).isEmpty();
  }

  @Test
  void disconnectingAConnectionHeldByTheOtherNodeClosesItAndNoOther() {
    TestClient target = b.connect("alice");
    TestClient other = b.connect("alice");

    ClusterResult<Integer> r = api().disconnectConnection(target.clientId(), false, null).join();

    assertThat(r.value()).isEqualTo(1);
    assertThat(target.transport().awaitClose().code()).isEqualTo(4501);
    assertThat(other.transport().isClosed()).isFalse();
  }

  @Test
  void disconnectWithReconnectClosesWith4007AndTheGivenReason() {
    TestClient target = b.connect("alice");
    api().disconnectConnection(target.clientId(), true, "new permissions").join();
    ServerMessage.Disconnect d = target.transport().awaitMessage(ServerMessage.Disconnect.class);
    assertThat(d.code()).isEqualTo(4007);
    assertThat(d.reason()).contains("new permissions");
  }

  @Test
  void anUnknownConnectionIsNotFound() {
    a.connect("alice");
    assertThat(failure(api().disconnectConnection("c-nosuchthing", false, null)))
        .isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(failure(api().connection("c-nosuchthing"))).isEqualTo(ErrorCode.NOT_FOUND);
  }

  @Test
  void disconnectingAUserClosesItsConnectionsOnEveryNode() {
    TestClient onA = a.connect("alice");
    TestClient onB = b.connect("alice");
    TestClient bob = b.connect("bob");

    assertThat(api().disconnectUser("alice", false, "account disabled").join().value())
        .isEqualTo(2);

    assertThat(onA.transport().awaitClose().code()).isEqualTo(4501);
    assertThat(onB.transport().awaitClose().code()).isEqualTo(4501);
    assertThat(bob.transport().isClosed()).isFalse();
  }

  @Test
  void aUserDisconnectedWithReconnectMayComeBackAtOnceButNotOneDisconnectedForGood() {
    TestClient first = b.connect("alice");
    api().disconnectUser("alice", true, null).join();
    assertThat(first.transport().awaitClose().code()).isEqualTo(4007);
    TestClient back = b.open();
    back.connectOk("alice");
    assertThat(back.transport().isClosed()).isFalse();

    api().disconnectUser("alice", false, "account disabled").join();
    assertThat(back.transport().awaitClose().code()).isEqualTo(4501);
    TestClient refused = b.open();
    refused.connect("alice");
    assertThat(refused.transport().awaitClose().code()).isEqualTo(4501);
  }

  @Test
  void actionsAreLoggedWithWhatWasActedOnAndWhere() {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ClusterApi.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events =
        new ch.qos.logback.core.read.ListAppender<>();
    events.start();
    logger.addAppender(events);
    try {
      b.connect("alice").subscribeOk("test:doc");
      api().unsubscribe("alice", "test:doc").join();
      api().disconnectUser("alice", false, null).join();

      assertThat(events.list)
          .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
          .containsExactly(
              "server API: unsubscribe user alice from test:doc: 1 acted on, nodes [a, b],"
                  + " missing []",
              "server API: disconnect user alice: 1 acted on, nodes [a, b], missing []");
      assertThat(events.list).allMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.INFO);
    } finally {
      logger.detachAppender(events);
    }
  }

  @Test
  void unsubscribingAUserEndsItsSubscriptionOnEveryNodeAndItsPresenceOnly() {
    TestClient onB = b.connect("alice");
    onB.subscribeOk("test:doc");
    onB.subscribeOk("test:other");
    TestClient bob = b.connect("bob");
    bob.subscribeOk("test:doc");
    onB.transport().skipAll();
    assertThat(api().presence("test:doc").join().clients()).hasSize(2);

    assertThat(api().unsubscribe("alice", "test:doc").join().value()).isEqualTo(1);

    ServerMessage.Unsubscribed u = onB.transport().next(ServerMessage.Unsubscribed.class);
    assertThat(u.channel()).isEqualTo("test:doc");
    assertThat(u.code()).isEqualTo(103);
    assertThat(onB.transport().isClosed()).isFalse();
    PresenceInfo p = api().presence("test:doc").join();
    assertThat(p.clients()).extracting(c -> c.user()).containsExactly("bob");
    assertThat(api().connections("alice").join().value().get(0).channels())
        .containsExactly("test:other");
    assertThat(api().unsubscribe("alice", "test:doc").join().value()).isZero();
  }

  @Test
  void channelsAreSummedOverTheNodesAndFilteredByPrefix() {
    a.connect("alice").subscribeOk("test:doc");
    b.connect("bob").subscribeOk("test:doc");
    b.connect("bob").subscribeOk("test:zeta");
    b.connect("carol").subscribeOk("user:carol");

    assertThat(api().channels("").join().value())
        .containsExactly(
            new ChannelInfo("test:doc", 2),
            new ChannelInfo("test:zeta", 1),
            new ChannelInfo("user:carol", 1));
    assertThat(api().channels("test:d").join().value())
        .containsExactly(new ChannelInfo("test:doc", 2));
  }

  @Test
  void nodesListsEveryNodeWithItsCounts() {
    a.connect("alice").subscribeOk("test:doc");
    b.connect("alice");
    b.connect("bob");

    ClusterResult<List<NodeInfo>> r = api().nodes().join();

    assertThat(r.value()).extracting(NodeInfo::name).containsExactly("a", "b");
    NodeInfo nb = r.value().get(1);
    assertThat(nb.connections()).isEqualTo(2);
    assertThat(nb.users()).isEqualTo(2);
    assertThat(nb.subscriptions()).isZero();
    assertThat(r.value().get(0).subscriptions()).isEqualTo(1);
    assertThat(r.value().get(0).channels()).isEqualTo(1);
    assertThat(nb.accepting()).isTrue();
    assertThat(b.hub().api().node()).isEqualTo(nb);
  }

  @Test
  void aNodeThatDoesNotAnswerIsNamedAfterTheTimeoutAndTheOthersAnswersStillCount() {
    cluster.absent("c");
    b.connect("alice");

    CompletableFuture<ClusterResult<List<ConnectionInfo>>> f = api().connections("alice");
    assertThat(f).isNotDone();
    clock.advance(Hub.DEFAULT_API_TIMEOUT);

    ClusterResult<List<ConnectionInfo>> r = f.join();
    assertThat(r.missing()).containsExactly("c");
    assertThat(r.complete()).isFalse();
    assertThat(r.nodes()).containsExactly("a", "b");
    assertThat(r.value()).hasSize(1);
  }

  @Test
  void aNodeWhoseEventLoopIsStuckIsNamedAfterTheTimeoutInsteadOfHangingTheCall() {
    TestLoop stuck = new TestLoop();
    TestClient onA = a.open(RecordingTransport.on(stuck, "stuck"));
    onA.connect("alice");
    stuck.runPending();
    b.connect("alice");

    CompletableFuture<ClusterResult<List<ConnectionInfo>>> f = api().connections("alice");
    assertThat(f).isNotDone(); // a's loop has not described its connection
    clock.advance(Hub.DEFAULT_API_TIMEOUT);

    ClusterResult<List<ConnectionInfo>> r = f.join();
    assertThat(r.missing()).containsExactly("a");
    assertThat(r.nodes()).containsExactly("b");
    assertThat(r.value()).extracting(ConnectionInfo::node).containsExactly("b");
  }

  @Test
  void historyAnswersTheLastPublicationsOldestFirst() {
    for (int i = 1; i <= 5; i++) {
      a.publish("test:doc", "{\"n\":" + i + "}");
    }
    HistoryPage h = api().history("test:doc", 2).join();
    assertThat(h.top().offset()).isEqualTo(5);
    assertThat(h.publications()).extracting(ServerMessage.Pub::offset).containsExactly(4L, 5L);
    assertThat(h.publications().get(1).data().json()).isEqualTo("{\"n\":5}");
    assertThat(api().history("test:doc", 1000).join().publications()).hasSize(5);
    assertThat(api().history("test:never", 10).join().publications()).isEmpty();
  }

  @Test
  void badInputIsRefusedWithADocumentedCode() {
    assertThat(failure(api().history("test:doc", 0))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(failure(api().history("test:doc", 1001))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(failure(api().history("bad name!", 10))).isEqualTo(ErrorCode.UNKNOWN_CHANNEL);
    assertThat(failure(api().history("nosuchns:x", 10))).isEqualTo(ErrorCode.UNKNOWN_CHANNEL);
    assertThat(failure(api().connections(""))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(failure(api().disconnectUser("", false, null))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(failure(api().disconnectConnection("x".repeat(256), false, null)))
        .isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(failure(api().unsubscribe("alice", "::"))).isEqualTo(ErrorCode.UNKNOWN_CHANNEL);
    assertThat(failure(api().presence(TestHub.NOPRESENCE + ":x")))
        .isEqualTo(ErrorCode.NOT_AVAILABLE);
  }

  @Test
  void presenceCountsConnectionsAndDistinctUsers() {
    a.connect("alice").subscribeOk("test:doc");
    b.connect("alice").subscribeOk("test:doc");
    b.connect("bob").subscribeOk("test:doc");

    var stats = api().presenceStats("test:doc").join();
    assertThat(stats.connections()).isEqualTo(3);
    assertThat(stats.users()).isEqualTo(2);
  }

  @Test
  void aNodeOnItsOwnAnswersAtOnce() {
    try (TestHub alone = TestHub.create()) {
      alone.connect("alice");
      ClusterResult<List<ConnectionInfo>> r = alone.hub().api().connections("alice").join();
      assertThat(r.value()).hasSize(1);
      assertThat(r.missing()).isEmpty();
    }
  }
}
