package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.core.auth.ChannelAction;
import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ServerMessage.Join;
import dev.herald.protocol.ServerMessage.Leave;
import dev.herald.protocol.ServerMessage.PresenceResult;
import dev.herald.protocol.ServerMessage.PresenceUpdate;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PresenceTest {
  private static final String CH = "test:doc";
  private TestHub th = TestHub.create();

  @AfterEach
  void close() {
    th.close();
  }

  @Test
  void joinIsSentToEverySubscriberIncludingTheJoiner() {
    TestClient alice = th.connect("alice");
    alice.subscribeOk(CH);
    Join aliceJoin = alice.transport().next(Join.class);
    assertThat(aliceJoin.channel()).isEqualTo(CH);
    assertThat(aliceJoin.client())
        .isEqualTo(
            new ClientInfo(alice.clientId(), "alice", TestHub.json("{\"name\":\"alice\"}"), null));

    TestClient bob = th.connect("bob");
    long id = bob.subscribe(CH);
    bob.transport().nextReply(id); // the reply comes before the own join
    Join bobJoin = bob.transport().next(Join.class);
    assertThat(bobJoin.client().client()).isEqualTo(bob.clientId());
    assertThat(bobJoin.client().user()).isEqualTo("bob");
    assertThat(bobJoin.client().state().json()).isEqualTo("{}");
    assertThat(alice.transport().next(Join.class)).isEqualTo(bobJoin);
    alice.transport().assertNoMoreMessages();
    bob.transport().assertNoMoreMessages();
  }

  @Test
  void presenceQueryListsEveryConnection() {
    TestClient alice = th.connect("alice");
    TestClient alice2 = th.connect("alice");
    TestClient bob = th.connect("bob");
    alice.subscribeOk(CH);
    alice2.subscribeOk(CH);
    bob.subscribeOk(CH);
    PresenceResult res = alice.presenceOk(CH);
    assertThat(res.clients())
        .extracting(ClientInfo::client)
        .containsExactlyInAnyOrder(alice.clientId(), alice2.clientId(), bob.clientId());
    assertThat(res.clients())
        .extracting(ClientInfo::user)
        .containsExactlyInAnyOrder("alice", "alice", "bob");
    assertThat(res.clients()).allSatisfy(ci -> assertThat(ci.state().json()).isEqualTo("{}"));
    assertThat(res.clients())
        .filteredOn(ci -> ci.user().equals("bob"))
        .singleElement()
        .satisfies(ci -> assertThat(ci.info().json()).isEqualTo("{\"name\":\"bob\"}"));
    assertThat(th.hub().presence(CH).join()).hasSize(3);
  }

  @Test
  void presenceSetUpdatesStateAndNotifiesSubscribers() {
    TestClient alice = th.connect("alice");
    TestClient bob = th.connect("bob");
    alice.subscribeOk(CH);
    bob.subscribeOk(CH);
    alice.transport().skipAll();
    bob.transport().skipAll();

    bob.presenceSetOk(CH, "{\"editing\":\"item:7\",\"idle\":false}");
    PresenceUpdate u = alice.transport().next(PresenceUpdate.class);
    assertThat(u.channel()).isEqualTo(CH);
    assertThat(u.client().client()).isEqualTo(bob.clientId());
    assertThat(u.client().state().json()).isEqualTo("{\"editing\":\"item:7\",\"idle\":false}");
    assertThat(u.client().info().json()).isEqualTo("{\"name\":\"bob\"}");
    assertThat(bob.transport().messages(PresenceUpdate.class)).containsExactly(u);

    List<ClientInfo> clients = alice.presenceOk(CH).clients();
    assertThat(clients)
        .filteredOn(ci -> ci.client().equals(bob.clientId()))
        .singleElement()
        .satisfies(ci -> assertThat(ci.state()).isEqualTo(u.client().state()));
  }

  @Test
  void authorizerCanDenySettingPresenceState() {
    th.close();
    th =
        TestHub.builder()
            .authorizer(
                (p, a, ch) ->
                    CompletableFuture.completedFuture(
                        !(a == ChannelAction.PRESENCE && p.userId().equals("mallory"))))
            .build();
    TestClient alice = th.connect("alice");
    TestClient mallory = th.connect("mallory");
    alice.subscribeOk(CH);
    mallory.subscribeOk(CH);
    alice.transport().skipAll();

    mallory.error(mallory.presenceSet(CH, "{\"name\":\"Alice (admin)\"}"), 103);
    alice.transport().assertNoMoreMessages();
    assertThat(th.hub().presence(CH).join())
        .filteredOn(ci -> ci.user().equals("mallory"))
        .singleElement()
        .satisfies(ci -> assertThat(String.valueOf(ci.state())).doesNotContain("admin"));
    // Allowed users still can.
    alice.presenceSetOk(CH, "{\"s\":1}");
  }

  @Test
  void unsubscribeSendsLeaveWithTheLastState() {
    TestClient alice = th.connect("alice");
    TestClient bob = th.connect("bob");
    alice.subscribeOk(CH);
    bob.subscribeOk(CH);
    bob.presenceSetOk(CH, "{\"s\":1}");
    alice.transport().skipAll();

    bob.unsubscribeOk(CH);
    Leave leave = alice.transport().next(Leave.class);
    assertThat(leave.client().client()).isEqualTo(bob.clientId());
    assertThat(leave.client().state().json()).isEqualTo("{\"s\":1}");
    assertThat(alice.presenceOk(CH).clients())
        .extracting(ClientInfo::client)
        .containsExactly(alice.clientId());
    assertThat(bob.transport().messages(Leave.class)).isEmpty(); // no longer subscribed
  }

  @Test
  void transportCloseSendsLeave() {
    TestClient alice = th.connect("alice");
    TestClient bob = th.connect("bob");
    alice.subscribeOk(CH);
    bob.subscribeOk(CH);
    alice.transport().skipAll();

    bob.closeFromPeer();
    Leave leave = alice.transport().next(Leave.class);
    assertThat(leave.client().client()).isEqualTo(bob.clientId());
    assertThat(leave.client().user()).isEqualTo("bob");
    assertThat(th.hub().presence(CH).join())
        .extracting(ClientInfo::client)
        .containsExactly(alice.clientId());
    bob.transport().assertNoViolations();
  }

  @Test
  void serverCloseAlsoSendsLeave() {
    TestClient alice = th.connect("alice");
    TestClient bob = th.connect("bob");
    alice.subscribeOk(CH);
    bob.subscribeOk(CH);
    alice.transport().skipAll();
    bob.session().disconnect(dev.herald.protocol.CloseCode.FORCE_RECONNECT, "bye", 0);
    assertThat(bob.transport().lastClose().code()).isEqualTo(4007);
    assertThat(alice.transport().next(Leave.class).client().client()).isEqualTo(bob.clientId());
  }

  @Test
  void presenceWithoutJoinLeaveKeepsEntriesButSendsNoEvents() {
    th.close();
    th =
        TestHub.builder()
            .namespace(NamespaceSettings.builder("quiet").presence(true).joinLeave(false).build())
            .build();
    TestClient alice = th.connect("alice");
    TestClient bob = th.connect("bob");
    alice.subscribeOk("quiet:x");
    bob.subscribeOk("quiet:x");
    bob.presenceSetOk("quiet:x", "{\"a\":1}");
    bob.unsubscribeOk("quiet:x");
    bob.subscribeOk("quiet:x");
    alice.transport().assertNoMoreMessages();
    assertThat(alice.presenceOk("quiet:x").clients()).hasSize(2);
  }

  @Test
  void presenceInNamespaceWithoutPresenceGets108() {
    TestClient alice = th.connect("alice");
    alice.subscribeOk("nopresence:x");
    alice.transport().assertNoMoreMessages(); // no join either
    alice.error(alice.presence("nopresence:x"), 108);
    alice.error(alice.presenceSet("nopresence:x", "{}"), 108);
    assertThatThrownBy(() -> th.hub().presence("nopresence:x").join())
        .cause()
        .isInstanceOf(HubException.class);
  }

  @Test
  void presenceRequiresASubscription() {
    TestClient alice = th.connect("alice");
    alice.error(alice.presence(CH), 110);
    alice.error(alice.presenceSet(CH, "{}"), 110);
  }

  @Test
  void presenceStateMustBeASmallObject() {
    TestClient alice = th.connect("alice");
    alice.subscribeOk(CH);
    alice.error(alice.presenceSet(CH, "{\"big\":\"" + "x".repeat(1100) + "\"}"), 114);
    alice.error(alice.presenceSet(CH, "[1]"), 107);
    alice.error(alice.presenceSet(CH, "\"text\""), 107);
  }

  @Test
  void subscribeReplyComesBeforeEventsOfOthers() {
    TestClient alice = th.connect("alice");
    alice.subscribeOk(CH);
    TestClient bob = th.connect("bob");
    SubscribeResult r = bob.subscribeOk(CH);
    assertThat(r).isNotNull();
    // bob saw: reply, then its own join; never alice's earlier join
    assertThat(bob.transport().messages(Join.class))
        .extracting(j -> j.client().client())
        .containsExactly(bob.clientId());
  }
}
