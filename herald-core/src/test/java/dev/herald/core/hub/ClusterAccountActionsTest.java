package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.auth.Principal;
import dev.herald.core.testkit.LoopbackControlBus;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.CloseCode;
import dev.herald.protocol.ServerMessage;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Account actions called on one hub act on the connections of every hub of the cluster. */
class ClusterAccountActionsTest {
  private final LoopbackControlBus.Cluster cluster = new LoopbackControlBus.Cluster();
  private final Set<String> denied = ConcurrentHashMap.newKeySet();
  private final TestHub a = node();
  private final TestHub b = node();

  private TestHub node() {
    return TestHub.builder()
        .controlBus(cluster.join())
        .principal("s1", new Principal("alice", null, 0, "session-1"))
        .principal("s2", new Principal("alice", null, 0, "session-2"))
        .authorizer(
            (p, action, channel) ->
                CompletableFuture.completedFuture(!denied.contains(p.userId() + "@" + channel)))
        .build();
  }

  @AfterEach
  void close() {
    a.close();
    b.close();
  }

  @Test
  void revalidateOnOneNodeEndsDeniedSubscriptionsOnTheOthers() {
    TestClient aliceOnB = b.connect("alice");
    aliceOnB.subscribeOk("test:a");
    aliceOnB.subscribeOk("test:b");
    aliceOnB.transport().skipAll();

    denied.add("alice@test:a");
    a.hub().revalidate("alice").join();

    ServerMessage.Unsubscribed u = aliceOnB.transport().next(ServerMessage.Unsubscribed.class);
    assertThat(u.channel()).isEqualTo("test:a");
    assertThat(u.code()).isEqualTo(103);
    assertThat(aliceOnB.transport().isClosed()).isFalse();
  }

  @Test
  void revokingACredentialOnOneNodeClosesItsConnectionsOnEveryNodeAndNoOthers() {
    TestClient loggedOutOnA = a.connect("s1");
    TestClient loggedOutOnB = b.connect("s1");
    TestClient otherLoginOnB = b.connect("s2");

    int here = a.hub().revokeCredential("session-1", CloseCode.FORBIDDEN, "logged out");

    assertThat(here).isEqualTo(1);
    assertThat(loggedOutOnA.transport().awaitClose().code()).isEqualTo(4501);
    assertThat(loggedOutOnB.transport().awaitClose().code()).isEqualTo(4501);
    assertThat(otherLoginOnB.transport().isClosed()).isFalse();
  }

  @Test
  void revokingAUserOnOneNodeClosesAllItsConnectionsOnEveryNode() {
    TestClient first = b.connect("s1");
    TestClient second = b.connect("s2");
    TestClient bob = b.connect("bob");

    a.hub().revokeUser("alice", CloseCode.FORBIDDEN, "account disabled");

    assertThat(first.transport().awaitClose().code()).isEqualTo(4501);
    assertThat(second.transport().awaitClose().code()).isEqualTo(4501);
    assertThat(bob.transport().isClosed()).isFalse();
  }
}
