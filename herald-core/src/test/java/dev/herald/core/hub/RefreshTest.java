package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.auth.Principal;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ClientMessage.Refresh;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.Disconnect;
import dev.herald.protocol.ServerMessage.RefreshResult;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** refresh: a new credential for the same user moves the expiry; anything else changes nothing. */
class RefreshTest {
  private TestHub th;
  private long start;

  @BeforeEach
  void hub() {
    start = new dev.herald.core.testkit.ManualScheduler().nowMillis();
    th =
        TestHub.builder()
            .principal("alice-1", new Principal("alice", null, start + 60_000))
            .principal("alice-2", new Principal("alice", null, start + 600_000))
            .principal("alice-past", new Principal("alice", null, start - 1))
            .principal("bob-1", new Principal("bob", null, start + 600_000))
            .build();
  }

  @AfterEach
  void close() {
    th.close();
  }

  private long refresh(TestClient c, String token) {
    long id = c.nextId();
    c.send(new Refresh(id, token));
    return id;
  }

  private void keepAlive(TestClient c, int pings) {
    for (int i = 0; i < pings; i++) {
      th.scheduler().advance(Duration.ofSeconds(25));
      c.pong();
    }
  }

  @Test
  void theConnectResultSaysWhenTheCredentialExpires() {
    TestClient c = th.open();
    ConnectResult r = c.connectOk("alice-1");
    assertThat(r.expiresMs()).isEqualTo(start + 60_000);
    assertThat(th.open().connectOk("carol").expiresMs()).isZero();
  }

  @Test
  void aRefreshedConnectionOutlivesItsFirstCredentialAndClosesAtTheNewExpiry() {
    TestClient c = th.connect("alice-1");
    c.subscribeOk("test:doc");
    th.scheduler().advance(Duration.ofSeconds(25));
    c.pong();
    RefreshResult r = c.ok(refresh(c, "alice-2"), RefreshResult.class);
    assertThat(r.expiresMs()).isEqualTo(start + 600_000);
    keepAlive(c, 4); // to start + 125 s, well past the first credential's expiry
    assertThat(c.transport().isClosed()).isFalse();
    // Still subscribed: a publication arrives.
    th.hub().publish("test:doc", TestHub.json("{\"n\":1}")).join();
    assertThat(c.transport().awaitMessage(dev.herald.protocol.ServerMessage.Pub.class).channel())
        .isEqualTo("test:doc");
    // ...and the new expiry holds.
    keepAlive(c, 18); // start + 575 s
    assertThat(c.transport().isClosed()).isFalse();
    th.scheduler().advance(Duration.ofSeconds(25));
    assertThat(c.transport().awaitMessage(Disconnect.class).code()).isEqualTo(4005);
  }

  @Test
  void aTokenForAnotherUserIsRefusedWith117AndChangesNothing() {
    TestClient c = th.connect("alice-1");
    c.error(refresh(c, "bob-1"), 117);
    assertThat(c.session().userId()).isEqualTo("alice");
    assertThat(c.transport().isClosed()).isFalse();
    keepAlive(c, 2); // start + 50 s
    th.scheduler().advance(Duration.ofSeconds(10));
    assertThat(c.transport().awaitMessage(Disconnect.class).code()).isEqualTo(4005);
  }

  @Test
  void invalidAndExpiredTokensAreRefusedAndTheConnectionStays() {
    TestClient c = th.connect("alice-1");
    c.error(refresh(c, "bad"), 101);
    c.error(refresh(c, "expired"), 109);
    c.error(refresh(c, "alice-past"), 109);
    assertThat(c.transport().isClosed()).isFalse();
    // A later good one still works.
    assertThat(c.ok(refresh(c, "alice-2"), RefreshResult.class).expiresMs())
        .isEqualTo(start + 600_000);
  }

  @Test
  void refreshBeforeConnectIsRefusedWith112() {
    TestClient c = th.open();
    c.error(refresh(c, "alice-2"), 112);
  }

  @Test
  void aRefreshWithoutATokenIsABadRequest() {
    TestClient c = th.connect("alice-1");
    long id = c.nextId();
    c.sendFrame("{\"type\":\"refresh\",\"id\":" + id + "}");
    c.error(id, 107);
    assertThat(c.transport().isClosed()).isFalse();
  }
}
