package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.auth.ChannelAuthorizer;
import dev.herald.core.auth.Principal;
import dev.herald.core.broker.MemoryBroker;
import dev.herald.core.hub.HubConfig.AbuseLimits;
import dev.herald.core.limits.UserConnections;
import dev.herald.core.testkit.RecordingTransport;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.CloseCode;
import dev.herald.protocol.Pong;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.Pub;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AbuseLimitsTest {
  private TestHub th;

  @AfterEach
  void close() {
    if (th != null) {
      th.close();
    }
  }

  private TestHub hub(AbuseLimits limits) {
    th = TestHub.builder().config(c -> c.withAbuse(limits)).build();
    return th;
  }

  @Test
  void aFloodPastTheBurstClosesWith4006WhileABystanderKeepsReceiving() {
    hub(new AbuseLimits(10, 20, 0, 0));
    TestClient bystander = th.connect("bob");
    bystander.subscribeOk("test:room");
    TestClient flooder = th.connect("mallory"); // connect used one token
    for (int i = 0; i < 19; i++) {
      flooder.ping();
    }
    assertThat(flooder.transport().isClosed()).isFalse();
    assertThat(flooder.transport().messages(Pong.class)).hasSize(19);
    flooder.ping(); // the 21st message within the same instant
    assertThat(flooder.transport().awaitClose().code()).isEqualTo(CloseCode.RATE_LIMITED.code());
    ServerMessage.Disconnect d =
        flooder.transport().messages(ServerMessage.Disconnect.class).get(0);
    assertThat(d.reconnect()).isTrue();
    assertThat(d.reason()).contains("10 messages per second");

    bystander.transport().skipAll();
    th.publish("test:room", "{\"n\":1}");
    assertThat(bystander.transport().next(Pub.class).data().json()).isEqualTo("{\"n\":1}");
  }

  @Test
  void theRateRefillsOverTime() {
    hub(new AbuseLimits(10, 2, 0, 0));
    TestClient c = th.connect("alice"); // 1 token left
    c.ping();
    for (int i = 0; i < 30; i++) {
      th.scheduler().advance(Duration.ofMillis(100)); // one token per 100 ms
      c.ping();
    }
    assertThat(c.transport().isClosed()).isFalse();
    assertThat(c.transport().messages(Pong.class)).hasSize(31);
  }

  @Test
  void connectionsPerAddressAreCappedAndFreedAtClose() {
    hub(new AbuseLimits(0, 0, 0, 2));
    ConnectionContext from = new ConnectionContext(Map.of(), "203.0.113.9");
    TestClient a = th.open(RecordingTransport.direct(), from);
    TestClient b = th.open(RecordingTransport.direct(), from);
    assertThat(th.hub().admitsAddress("203.0.113.9")).isFalse();
    TestClient c = th.open(RecordingTransport.direct(), from);
    assertThat(c.transport().awaitClose().code()).isEqualTo(CloseCode.CONNECTION_LIMIT.code());
    assertThat(a.transport().isClosed()).isFalse();
    // another address is not affected
    TestClient other =
        th.open(RecordingTransport.direct(), new ConnectionContext(Map.of(), "198.51.100.1"));
    other.connectOk("carol");

    b.closeFromPeer();
    assertThat(th.hub().admitsAddress("203.0.113.9")).isTrue();
    TestClient d = th.open(RecordingTransport.direct(), from);
    d.connectOk("dave");
  }

  @Test
  void connectionsPerUserAreCappedWith4008AndFreedAtClose() {
    hub(new AbuseLimits(0, 0, 2, 0));
    TestClient a = th.connect("alice");
    th.connect("alice");
    TestClient third = th.open();
    long id = third.connect("alice");
    assertThat(third.error(id, 106).error().message()).contains("2 connections");
    assertThat(third.transport().awaitClose().code()).isEqualTo(CloseCode.CONNECTION_LIMIT.code());
    th.connect("bob"); // other users unaffected

    a.closeFromPeer();
    th.connect("alice");
  }

  /** A shared counter (a cluster's) that answers when the test says so. */
  private static final class HeldCounter implements UserConnections {
    final Map<String, CompletableFuture<Boolean>> pending = new ConcurrentHashMap<>();
    final Set<String> released = ConcurrentHashMap.newKeySet();

    @Override
    public CompletableFuture<Boolean> acquire(String userId, String connectionId, int limit) {
      assertThat(limit).isEqualTo(2);
      return pending.computeIfAbsent(connectionId, id -> new CompletableFuture<>());
    }

    @Override
    public void release(String userId, String connectionId) {
      released.add(connectionId);
    }
  }

  /** A hub allowing 2 connections per user, counted by a {@link HeldCounter}. */
  private HeldCounter sharedCounterHub() {
    HeldCounter counter = new HeldCounter();
    th =
        TestHub.builder()
            .config(c -> c.withAbuse(new AbuseLimits(0, 0, 2, 0)))
            .userConnections(counter)
            .build();
    return counter;
  }

  @Test
  void aSharedCounterDecidesAndEachCountedConnectionIsReleasedOnceEvenIfItClosedMeanwhile() {
    HeldCounter counter = sharedCounterHub();
    TestClient over = th.open();
    long id = over.connect("alice");
    assertThat(over.transport().messages(ServerMessage.Reply.class)).isEmpty();
    counter.pending.get(over.clientId()).complete(false);
    assertThat(over.error(id, 106).error().message()).contains("2 connections");
    assertThat(over.transport().awaitClose().code()).isEqualTo(CloseCode.CONNECTION_LIMIT.code());

    TestClient admitted = th.open();
    long ok = admitted.connect("alice");
    counter.pending.get(admitted.clientId()).complete(true);
    assertThat(admitted.reply(ok).result()).isNotNull();

    TestClient gone = th.open();
    gone.connect("alice");
    gone.closeFromPeer(); // before the counter answers
    counter.pending.get(gone.clientId()).complete(true);

    assertThat(counter.released).containsExactly(gone.clientId());
    admitted.closeFromPeer();
    assertThat(counter.released).containsExactlyInAnyOrder(gone.clientId(), admitted.clientId());
    assertThat(counter.released).doesNotContain(over.clientId());
  }

  @Test
  void aSharedCounterThatFailsAdmitsWithoutCounting() {
    HeldCounter counter = sharedCounterHub();
    TestClient c = th.open();
    long ok = c.connect("alice");
    counter.pending.get(c.clientId()).completeExceptionally(new IllegalStateException("down"));
    assertThat(c.reply(ok).result()).isNotNull();
    c.closeFromPeer();
    assertThat(counter.released).isEmpty();
  }

  @Test
  void disconnectByCredentialClosesOnlyThoseConnectionsWith4501() {
    th =
        TestHub.builder()
            .principal("s1", new Principal("alice", null, 0, "session-1"))
            .principal("s2", new Principal("alice", null, 0, "session-2"))
            .build();
    TestClient first = th.connect("s1");
    TestClient second = th.connect("s1");
    TestClient otherLogin = th.connect("s2");
    int n =
        th.hub().disconnect(p -> "session-1".equals(p.credential()), CloseCode.FORBIDDEN, "logout");
    assertThat(n).isEqualTo(2);
    assertThat(first.transport().awaitClose().code()).isEqualTo(4501);
    assertThat(second.transport().awaitClose().code()).isEqualTo(4501);
    assertThat(otherLogin.transport().isClosed()).isFalse();
    assertThat(first.transport().messages(ServerMessage.Disconnect.class).get(0).reconnect())
        .isFalse();
  }

  @Test
  void revalidateEndsSubscriptionsTheAuthorizerNowDenies() {
    Set<String> revoked = ConcurrentHashMap.newKeySet();
    ChannelAuthorizer authorizer =
        (p, action, channel) ->
            CompletableFuture.completedFuture(!revoked.contains(p.userId() + "@" + channel));
    th = TestHub.builder().authorizer(authorizer).build();
    TestClient alice = th.connect("alice");
    alice.subscribeOk("test:a");
    alice.subscribeOk("test:b");
    TestClient bob = th.connect("bob");
    bob.subscribeOk("test:a");
    alice.transport().skipAll();
    bob.transport().skipAll();

    revoked.add("alice@test:a");
    th.hub().revalidate("alice").join();

    ServerMessage.Unsubscribed u = alice.transport().next(ServerMessage.Unsubscribed.class);
    assertThat(u.channel()).isEqualTo("test:a");
    assertThat(u.code()).isEqualTo(103);
    th.publish("test:a", "{\"n\":1}");
    th.publish("test:b", "{\"n\":2}");
    assertThat(alice.transport().messages(Pub.class))
        .extracting(Pub::channel)
        .containsExactly("test:b");
    assertThat(bob.transport().messages(Pub.class)).extracting(Pub::channel).contains("test:a");
    assertThat(bob.transport().messages(ServerMessage.Leave.class))
        .extracting(l -> l.client().user())
        .containsExactly("alice");
    // the connection stays usable, and presence/unsubscribe treat the channel as not subscribed
    assertThat(alice.transport().isClosed()).isFalse();
    alice.error(alice.unsubscribe("test:a"), 110);
  }

  @Test
  void emptyStreamsCreatedBySubscribingAreDroppedOnceNobodyHoldsThem() {
    hub(AbuseLimits.none());
    MemoryBroker broker = (MemoryBroker) th.broker();
    TestClient c = th.connect("alice");
    for (int i = 0; i < 50; i++) {
      c.subscribeOk("test:junk-" + i);
      c.unsubscribeOk("test:junk-" + i);
    }
    c.subscribeOk("test:kept");
    th.publish("test:published", "{}");
    assertThat(broker.streamCount()).isEqualTo(52);
    for (int i = 0; i < 6; i++) { // one sweep, a minute later; answering heartbeats meanwhile
      th.scheduler().advance(Duration.ofSeconds(10));
      c.pong();
    }
    assertThat(broker.streamCount()).isEqualTo(2); // the subscribed one and the published one
    th.publish("test:kept", "{\"n\":1}");
    assertThat(c.transport().messages(Pub.class)).extracting(Pub::offset).containsExactly(1L);
  }
}
