package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.core.auth.ChannelAction;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.PublishResult;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PublishTest {
  private TestHub th = TestHub.create();

  @AfterEach
  void close() {
    th.close();
  }

  @Test
  void clientPublicationReachesOtherSubscribersWithUserSet() {
    TestClient alice = th.connect("alice");
    TestClient bob = th.connect("bob");
    SubscribeResult sub = bob.subscribeOk("nohist:chat");

    PublishResult res = alice.publishOk("nohist:chat", "{\"text\":\"hello\",\"n\":[1,2]}");
    assertThat(res.epoch()).isEqualTo(sub.epoch());
    assertThat(res.offset()).isEqualTo(1);

    Pub pub = bob.transport().next(Pub.class);
    assertThat(pub.channel()).isEqualTo("nohist:chat");
    assertThat(pub.user()).isEqualTo("alice");
    assertThat(pub.data().json()).isEqualTo("{\"text\":\"hello\",\"n\":[1,2]}");
    assertThat(pub.position()).isEqualTo(new dev.herald.protocol.StreamPosition(res.epoch(), 1));
    bob.transport().assertNoMoreMessages();
    alice.transport().assertNoMoreMessages(); // not subscribed itself
  }

  @Test
  void subscribedPublisherAlsoReceivesItsOwnPublication() {
    TestClient alice = th.connect("alice");
    alice.subscribeOk("nohist:chat");
    PublishResult res = alice.publishOk("nohist:chat", "\"me\"");
    Pub own = alice.transport().messages(Pub.class).get(0);
    assertThat(own.user()).isEqualTo("alice");
    assertThat(own.offset()).isEqualTo(res.offset());
    assertThat(alice.transport().messages(Pub.class)).hasSize(1);
  }

  @Test
  void anyJsonValueIsAllowedAsData() {
    TestClient bob = th.connect("bob");
    bob.subscribeOk("nohist:chat");
    TestClient alice = th.connect("alice");
    for (String v :
        new String[] {"1", "\"s\"", "null", "true", "[]", "{}", "{\"x\":\"line\\nbreak\"}"}) {
      alice.publishOk("nohist:chat", v);
      assertThat(bob.transport().next(Pub.class).data().json()).isEqualTo(v);
    }
  }

  @Test
  void serverPublicationHasNoUser() {
    TestClient bob = th.connect("bob");
    bob.subscribeOk("nopresence:feed");
    th.publish("nopresence:feed", "{}");
    assertThat(bob.transport().next(Pub.class).user()).isNull();
  }

  @Test
  void publishWithoutClientPublishGets108() {
    TestClient alice = th.connect("alice");
    alice.error(alice.publish("nopresence:feed", "{}"), 108);
    alice.error(alice.publish("user:alice", "{}"), 108);
  }

  @Test
  void publishToUnknownNamespaceGets102() {
    TestClient alice = th.connect("alice");
    alice.error(alice.publish("nosuch:x", "{}"), 102);
    alice.error(alice.publish("no spaces", "{}"), 102);
  }

  @Test
  void payloadTooLargeGets114() {
    th.close();
    th = TestHub.builder().config(c -> c.withLimits(128, 1 << 20, 64 * 1024, 100)).build();
    TestClient alice = th.connect("alice");
    String ok = "\"" + "x".repeat(98) + "\""; // exactly 100 characters
    alice.publishOk("test:c", ok);
    alice.error(alice.publish("test:c", "\"" + "x".repeat(99) + "\""), 114);

    assertThatThrownBy(
            () -> th.hub().publish("test:c", TestHub.json("\"" + "y".repeat(200) + "\"")).join())
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOf(HubException.class)
        .satisfies(e -> assertThat(((HubException) e).code().code()).isEqualTo(114));
  }

  @Test
  void authorizerCanDenyPublishing() {
    th.close();
    th =
        TestHub.builder()
            .authorizer((p, a, ch) -> CompletableFuture.completedFuture(a != ChannelAction.PUBLISH))
            .build();
    TestClient alice = th.connect("alice");
    alice.subscribeOk("test:c");
    alice.error(alice.publish("test:c", "{}"), 103);
  }

  @Test
  void serverPublishToUnknownChannelFailsWith102() {
    assertThatThrownBy(() -> th.hub().publish("nosuch:x", TestHub.json("{}")).join())
        .cause()
        .isInstanceOf(HubException.class)
        .satisfies(e -> assertThat(((HubException) e).code().code()).isEqualTo(102));
  }

  @Test
  void statsCountPublicationsAndDeliveries() {
    TestClient a = th.connect("a");
    TestClient b = th.connect("b");
    a.subscribeOk("nopresence:x");
    b.subscribeOk("nopresence:x");
    th.publish("nopresence:x", "1");
    th.publish("nopresence:y", "2"); // nobody listening
    HubStats s = th.hub().stats();
    assertThat(s.publications()).isEqualTo(2);
    assertThat(s.deliveries()).isEqualTo(2);
  }
}
