package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.auth.ChannelAction;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ServerMessage.EmptyResult;
import dev.herald.protocol.ServerMessage.Join;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.Reply;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.StreamPosition;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SubscribeTest {
  private TestHub th = TestHub.create();

  @AfterEach
  void close() {
    th.close();
  }

  @Test
  void subscribeRepliesWithTheStreamPositionThenLiveMessagesFollow() {
    TestClient c = th.connect("alice");
    long id = c.subscribe("test:room");
    Reply r = c.transport().nextReply(id);
    SubscribeResult res = TestClient.result(r, SubscribeResult.class);
    assertThat(res.epoch()).isNotEmpty();
    assertThat(res.offset()).isZero();
    assertThat(res.recoverable()).isTrue();
    assertThat(res.recovered()).isFalse();
    assertThat(res.missed()).isZero();
    Join own = c.transport().next(Join.class); // join/leave is on in "test", including one's own
    assertThat(own.client().client()).isEqualTo(c.clientId());
    c.transport().assertNoMoreMessages();

    StreamPosition p = th.publish("test:room", "{\"a\":1}");
    Pub pub = c.transport().next(Pub.class);
    assertThat(pub.position()).isEqualTo(p).isEqualTo(new StreamPosition(res.epoch(), 1));
    assertThat(pub.user()).isNull();
    assertThat(pub.data().json()).isEqualTo("{\"a\":1}");
    assertThat(pub.ts()).isEqualTo(th.scheduler().nowMillis());
    assertThat(c.session().subscriptionCount()).isEqualTo(1);
  }

  @Test
  void subscribeToAnActiveChannelStartsAtItsTop() {
    th.publish("nopresence:x", "1");
    StreamPosition top = th.publish("nopresence:x", "2");
    TestClient c = th.connect("alice");
    SubscribeResult res = c.subscribeOk("nopresence:x");
    assertThat(new StreamPosition(res.epoch(), res.offset())).isEqualTo(top);
    c.transport().assertNoMoreMessages(); // nothing from before the subscription
  }

  @Test
  void unsubscribeRepliesEmptyAndStopsDelivery() {
    TestClient c = th.connect("alice");
    c.subscribeOk("nopresence:x");
    long id = c.unsubscribe("nopresence:x");
    Reply r = c.transport().nextReply(id);
    assertThat(r.isError()).isFalse();
    assertThat(TestClient.result(r, EmptyResult.class)).isEqualTo(EmptyResult.INSTANCE);
    th.publish("nopresence:x", "1");
    c.transport().assertNoMoreMessages();
    assertThat(c.session().subscriptionCount()).isZero();
    assertThat(th.hub().stats().channels()).isZero();
    // and one can subscribe again
    assertThat(c.subscribeOk("nopresence:x").offset()).isEqualTo(1);
  }

  @Test
  void unsubscribeWhenNotSubscribedGets110() {
    TestClient c = th.connect("alice");
    c.error(c.unsubscribe("nopresence:x"), 110);
  }

  @Test
  void alreadySubscribedGets105() {
    TestClient c = th.connect("alice");
    c.subscribeOk("nopresence:x");
    c.error(c.subscribe("nopresence:x"), 105);
    assertThat(c.session().subscriptionCount()).isEqualTo(1);
  }

  @Test
  void subscriptionLimitGets106() {
    th.close();
    th = TestHub.builder().config(c -> c.withLimits(2, 1 << 20, 64 * 1024, 32 * 1024)).build();
    TestClient c = th.connect("alice");
    c.subscribeOk("nopresence:a");
    c.subscribeOk("nopresence:b");
    Reply r = c.error(c.subscribe("nopresence:c"), 106);
    assertThat(r.error().message()).contains("2");
    c.unsubscribeOk("nopresence:a");
    c.subscribeOk("nopresence:c");
  }

  @Test
  void unknownNamespaceOrInvalidNameGets102() {
    TestClient c = th.connect("alice");
    c.error(c.subscribe("nosuch:x"), 102);
    c.error(c.subscribe("lobby"), 102); // default namespace not configured
    c.error(c.subscribe("bad name"), 102);
    c.error(c.subscribe(""), 102);
    assertThat(c.session().subscriptionCount()).isZero();
  }

  @Test
  void personalNamespaceAllowsOnlyItsOwner() {
    TestClient alice = th.connect("alice");
    alice.subscribeOk("user:alice:notes");
    alice.subscribeOk("user:alice");
    Reply r = alice.error(alice.subscribe("user:bob:notes"), 103);
    assertThat(r.error().message()).contains("user:bob:notes");
    alice.error(alice.subscribe("user::notes"), 103);
  }

  @Test
  void personalChannelDeliversToItsOwner() {
    TestClient alice = th.connect("alice");
    alice.subscribeOk("user:alice:notes");
    th.publish("user:alice:notes", "{\"n\":1}");
    assertThat(alice.transport().next(Pub.class).data().json()).isEqualTo("{\"n\":1}");
  }

  @Test
  void customAuthorizerDenialGets103() {
    th.close();
    th =
        TestHub.builder()
            .authorizer(
                (p, action, ch) ->
                    CompletableFuture.completedFuture(
                        !(action == ChannelAction.SUBSCRIBE
                            && ch.value().equals("test:secret")
                            && !p.userId().equals("boss"))))
            .build();
    TestClient alice = th.connect("alice");
    alice.error(alice.subscribe("test:secret"), 103);
    alice.subscribeOk("test:public");
    TestClient boss = th.connect("boss");
    boss.subscribeOk("test:secret");
  }

  @Test
  void authorizerRunsAfterNamespaceRules() {
    th.close();
    int[] calls = {0};
    th =
        TestHub.builder()
            .authorizer(
                (p, a, ch) -> {
                  calls[0]++;
                  return CompletableFuture.completedFuture(true);
                })
            .build();
    TestClient alice = th.connect("alice");
    alice.error(alice.subscribe("user:bob"), 103);
    assertThat(calls[0]).isZero();
    alice.subscribeOk("user:alice");
    assertThat(calls[0]).isEqualTo(1);
  }

  @Test
  void asyncAuthorizerKeepsRequestOrder() {
    CompletableFuture<Boolean> decision = new CompletableFuture<>();
    th.close();
    th =
        TestHub.builder()
            .authorizer(
                (p, a, ch) ->
                    ch.value().equals("test:slow")
                        ? decision
                        : CompletableFuture.completedFuture(true))
            .build();
    TestClient c = th.connect("alice");
    long slow = c.subscribe("test:slow");
    long fast = c.subscribe("nopresence:fast");
    c.transport().assertNoMoreMessages(); // the second request waits for the first
    decision.complete(false);
    assertThat(c.transport().nextReply(slow).error().code()).isEqualTo(103);
    assertThat(c.transport().nextReply(fast).isError()).isFalse();
  }

  @Test
  void failingAuthorizerGets100() {
    th.close();
    th =
        TestHub.builder()
            .authorizer(
                (p, a, ch) -> CompletableFuture.failedFuture(new IllegalStateException("down")))
            .build();
    TestClient c = th.connect("alice");
    c.error(c.subscribe("test:x"), 100);
    assertThat(c.session().subscriptionCount()).isZero();
    assertThat(c.transport().isClosed()).isFalse();
  }

  @Test
  void nohistNamespaceIsNotRecoverable() {
    TestClient c = th.connect("alice");
    assertThat(c.subscribeOk("nohist:x").recoverable()).isFalse();
  }

  @Test
  void statsCountSubscriptionsAndChannels() {
    TestClient a = th.connect("alice");
    TestClient b = th.connect("bob");
    a.subscribeOk("nopresence:1");
    a.subscribeOk("nopresence:2");
    b.subscribeOk("nopresence:1");
    HubStats s = th.hub().stats();
    assertThat(s.sessions()).isEqualTo(2);
    assertThat(s.connected()).isEqualTo(2);
    assertThat(s.subscriptions()).isEqualTo(3);
    assertThat(s.channels()).isEqualTo(2);
    a.closeFromPeer();
    s = th.hub().stats();
    assertThat(s.sessions()).isEqualTo(1);
    assertThat(s.subscriptions()).isEqualTo(1);
    assertThat(s.channels()).isEqualTo(1);
  }
}
