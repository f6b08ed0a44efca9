package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.auth.ChannelAuthorizer;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.Pub;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A subscribe whose authorization was decided before {@link Hub#revalidate} ran, but which was not
 * live yet, must not go live on that stale decision. The authorizer's first answer is held back by
 * the test (a "gate"), so the interleaving is exact; sessions run on direct executors.
 */
class RevalidateRaceTest {
  private final Set<String> revoked = ConcurrentHashMap.newKeySet();
  private final AtomicReference<CompletableFuture<Boolean>> gate = new AtomicReference<>();
  private final AtomicInteger calls = new AtomicInteger();
  private TestHub th;

  @BeforeEach
  void start() {
    ChannelAuthorizer authorizer =
        (p, action, channel) -> {
          calls.incrementAndGet();
          CompletableFuture<Boolean> held = gate.getAndSet(null);
          return held != null
              ? held
              : CompletableFuture.completedFuture(!revoked.contains(p.userId() + "@" + channel));
        };
    th = TestHub.builder().authorizer(authorizer).build();
  }

  @AfterEach
  void close() {
    th.close();
  }

  @Test
  void aSubscribeAuthorizedBeforeARevocationDoesNotGoLive() {
    TestClient alice = th.connect("alice");
    TestClient bob = th.connect("bob");
    bob.subscribeOk("test:a");
    CompletableFuture<Boolean> firstAnswer = new CompletableFuture<>();
    gate.set(firstAnswer);
    long id = alice.subscribe("test:a");
    assertThat(alice.transport().messages(ServerMessage.Reply.class))
        .extracting(ServerMessage.Reply::id)
        .doesNotContain(id); // still waiting for the authorizer

    revoked.add("alice@test:a");
    th.hub().revalidate("alice").join();
    int before = calls.get();
    firstAnswer.complete(true); // the answer decided before the revocation arrives late

    assertThat(alice.error(id, 103).error().message()).contains("test:a");
    assertThat(calls.get()).isEqualTo(before + 1); // asked again before going live
    assertThat(alice.transport().messages(ServerMessage.Unsubscribed.class)).isEmpty();
    th.publish("test:a", "{\"n\":1}");
    assertThat(alice.transport().messages(Pub.class)).isEmpty();
    assertThat(bob.transport().messages(Pub.class)).extracting(Pub::channel).contains("test:a");
    // nothing of the refused subscription is left: subscribing again is judged afresh
    alice.error(alice.subscribe("test:a"), 103);
    revoked.clear();
    alice.subscribeOk("test:a");
  }

  @Test
  void aSubscribeStillAllowedAfterTheRevalidationGoesLive() {
    TestClient alice = th.connect("alice");
    CompletableFuture<Boolean> firstAnswer = new CompletableFuture<>();
    gate.set(firstAnswer);
    long id = alice.subscribe("test:a");
    revoked.add("alice@test:b");
    th.hub().revalidate("alice").join();
    firstAnswer.complete(true);

    alice.ok(id, ServerMessage.SubscribeResult.class);
    th.publish("test:a", "{\"n\":1}");
    assertThat(alice.transport().messages(Pub.class)).extracting(Pub::channel).contains("test:a");
  }

  @Test
  void withoutARevalidationTheAuthorizerIsAskedOnce() {
    TestClient alice = th.connect("alice");
    int before = calls.get();
    alice.subscribeOk("test:a");
    assertThat(calls.get()).isEqualTo(before + 1);
  }
}
