package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.auth.ConnectRequest;
import dev.herald.core.auth.Principal;
import dev.herald.core.testkit.RecordingTransport;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.CloseCode;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.Disconnect;
import dev.herald.protocol.ServerMessage.Reply;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SessionConnectTest {
  private TestHub th = TestHub.create();

  @AfterEach
  void close() {
    th.close();
  }

  @Test
  void connectReplyCarriesSessionAndHeartbeatSettings() {
    TestClient c = th.open();
    long id = c.connect("alice");
    Reply r = c.transport().next(Reply.class);
    assertThat(r.id()).isEqualTo(id);
    assertThat(r.isError()).isFalse();
    ConnectResult res = TestClient.result(r, ConnectResult.class);
    assertThat(res.client()).isEqualTo(c.clientId()).startsWith("c-").hasSize(14);
    assertThat(res.user()).isEqualTo("alice");
    assertThat(res.node()).isEqualTo("test-node");
    assertThat(res.protocol()).isEqualTo(1);
    assertThat(res.pingMs()).isEqualTo(25_000);
    assertThat(res.pongMs()).isEqualTo(10_000);
    assertThat(res.maxMessageBytes()).isEqualTo(65_536);
    c.transport().assertNoMoreMessages();
    assertThat(c.transport().isClosed()).isFalse();
    assertThat(c.session().userId()).isEqualTo("alice");
    assertThat(c.session().transportName()).isEqualTo("test");
    assertThat(th.hub().stats().connected()).isEqualTo(1);
  }

  @Test
  void clientIdsAreUnique() {
    assertThat(th.open().clientId()).isNotEqualTo(th.open().clientId());
  }

  @Test
  void authenticatorSeesTokenHeadersAddressAndTransport() {
    AtomicReference<ConnectRequest> seen = new AtomicReference<>();
    th.close();
    th =
        TestHub.builder()
            .authenticator(
                req -> {
                  seen.set(req);
                  return CompletableFuture.completedFuture(Principal.of("zed"));
                })
            .build();
    TestClient c = th.open();
    c.connectOk("tok-1");
    assertThat(seen.get().token()).isEqualTo("tok-1");
    assertThat(seen.get().headers()).containsEntry("user-agent", "testkit");
    assertThat(seen.get().remoteAddress()).isEqualTo("127.0.0.1");
    assertThat(seen.get().transport()).isEqualTo("test");
  }

  @Test
  void badTokenGets101AndClose4500() {
    TestClient c = th.open();
    long id = c.connect("bad");
    Reply r = c.transport().nextReply(id);
    assertThat(r.error().code()).isEqualTo(101);
    Disconnect d = c.transport().next(Disconnect.class);
    assertThat(d.code()).isEqualTo(4500);
    assertThat(d.reconnect()).isFalse();
    c.transport().assertNoMoreMessages();
    assertThat(c.transport().lastClose().code()).isEqualTo(4500);
    assertThat(c.session().isClosed()).isTrue();
    assertThat(th.hub().stats().sessions()).isZero();
    c.transport().assertNoViolations();
  }

  @Test
  void missingTokenGets101() {
    TestClient c = th.open();
    long id = c.connect(null);
    assertThat(c.transport().nextReply(id).error().code()).isEqualTo(101);
    assertThat(c.transport().awaitClose().code()).isEqualTo(4500);
  }

  @Test
  void expiredTokenGets109AndClose4005() {
    TestClient c = th.open();
    long id = c.connect("expired");
    assertThat(c.transport().nextReply(id).error().code()).isEqualTo(109);
    Disconnect d = c.transport().next(Disconnect.class);
    assertThat(d.code()).isEqualTo(4005);
    assertThat(d.reconnect()).isTrue();
    assertThat(c.transport().lastClose().code()).isEqualTo(4005);
  }

  @Test
  void principalAlreadyExpiredAtConnectGets109() {
    th.close();
    th = TestHub.builder().principal("old", new Principal("old", null, 1)).build();
    TestClient c = th.open();
    long id = c.connect("old");
    assertThat(c.transport().nextReply(id).error().code()).isEqualTo(109);
    assertThat(c.transport().lastClose().code()).isEqualTo(4005);
  }

  @Test
  void failingAuthenticatorGets100AndClose1011() {
    TestClient c = th.open();
    long id = c.connect("error");
    assertThat(c.transport().nextReply(id).error().code()).isEqualTo(100);
    assertThat(c.transport().lastClose().code()).isEqualTo(1011);
  }

  @Test
  void authenticatorThrowingSynchronouslyIsAnInternalErrorThatCloses() {
    th.close();
    th =
        TestHub.builder()
            .authenticator(
                req -> {
                  throw new IllegalStateException("boom");
                })
            .build();
    TestClient c = th.open();
    long id = c.connect("alice");
    assertThat(c.transport().nextReply(id).error().code()).isEqualTo(100);
    assertThat(c.transport().awaitClose().code()).isEqualTo(1011);
  }

  @Test
  void requestBeforeConnectGets112AndConnectStillWorks() {
    TestClient c = th.open();
    long id = c.subscribe("test:a");
    assertThat(c.transport().nextReply(id).error().code()).isEqualTo(112);
    assertThat(c.transport().isClosed()).isFalse();
    assertThat(c.connectOk("alice").user()).isEqualTo("alice");
  }

  @Test
  void connectTwiceGets113AndStaysConnected() {
    TestClient c = th.connect("alice");
    long id = c.connect("bob");
    Reply r = c.transport().nextReply(id);
    assertThat(r.error().code()).isEqualTo(ErrorCode.ALREADY_CONNECTED.code());
    assertThat(c.session().userId()).isEqualTo("alice");
    assertThat(c.subscribeOk("test:a")).isNotNull();
  }

  @Test
  void unsupportedProtocolClosesWith4502() {
    TestClient c = th.open();
    long id = c.connect("alice", 2);
    Reply r = c.transport().nextReply(id);
    assertThat(r.isError()).isTrue();
    Disconnect d = c.transport().next(Disconnect.class);
    assertThat(d.code()).isEqualTo(4502);
    assertThat(d.reconnect()).isFalse();
    assertThat(c.transport().lastClose().code()).isEqualTo(4502);
    assertThat(c.session().userId()).isNull();
  }

  @Test
  void noConnectWithinTimeoutClosesWith4004() {
    TestClient c = th.open();
    th.scheduler().advance(Duration.ofMillis(9_999));
    assertThat(c.transport().isClosed()).isFalse();
    c.transport().assertNoMoreMessages();
    th.scheduler().advance(Duration.ofMillis(1));
    assertThat(c.transport().next(Disconnect.class).code()).isEqualTo(4004);
    assertThat(c.transport().lastClose().code()).isEqualTo(4004);
    assertThat(th.hub().stats().sessions()).isZero();
  }

  @Test
  void connectTimeoutAlsoCoversSlowAuthenticationAndLateResultIsIgnored() {
    CompletableFuture<Principal> pending = new CompletableFuture<>();
    th.close();
    th = TestHub.builder().authenticator(req -> pending).build();
    TestClient c = th.open();
    long id = c.connect("alice");
    th.scheduler().advance(Duration.ofSeconds(10));
    assertThat(c.transport().next(Disconnect.class).code()).isEqualTo(4004);
    pending.complete(Principal.of("alice"));
    c.transport().assertNoMoreMessages();
    assertThat(c.session().userId()).isNull();
    assertThat(id).isPositive();
    c.transport().assertNoViolations();
  }

  @Test
  void aCredentialRevokedWhileItsConnectionIsStillAuthenticatingIsRefusedWhenConnectCompletes() {
    CompletableFuture<Principal> pending = new CompletableFuture<>();
    th.close();
    th = TestHub.builder().authenticator(req -> pending).build();
    TestClient c = th.open();
    long id = c.connect("session-cookie");
    // Logout happens while the authenticator is still looking the session up.
    assertThat(
            th.hub()
                .revoke(p -> "cred-1".equals(p.credential()), CloseCode.FORBIDDEN, "logged out"))
        .isZero();
    pending.complete(new Principal("alice", null, 0, "cred-1"));
    assertThat(c.transport().messages(Reply.class))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.id()).isEqualTo(id);
              assertThat(r.error().code()).isEqualTo(101);
            });
    assertThat(c.transport().awaitClose().code()).isEqualTo(4501);
    assertThat(th.hub().stats().sessions()).isZero();
  }

  @Test
  void aRevocationIsForgottenAfterTheConnectTimeoutAndOnlyMatchesItsCredential() {
    CompletableFuture<Principal> other = new CompletableFuture<>();
    CompletableFuture<Principal> later = new CompletableFuture<>();
    th.close();
    th =
        TestHub.builder().authenticator(req -> req.token().equals("other") ? other : later).build();
    th.hub().revoke(p -> "cred-1".equals(p.credential()), CloseCode.FORBIDDEN, "logged out");
    TestClient b = th.open();
    b.connect("other");
    other.complete(new Principal("alice", null, 0, "cred-2"));
    assertThat(b.transport().messages(Reply.class))
        .singleElement()
        .satisfies(r -> assertThat(r.error()).isNull());
    th.scheduler().advance(Duration.ofSeconds(12));
    TestClient c = th.open();
    c.connect("later");
    later.complete(new Principal("alice", null, 0, "cred-1"));
    assertThat(c.transport().messages(Reply.class))
        .singleElement()
        .satisfies(r -> assertThat(r.error()).isNull());
  }

  @Test
  void connectedSessionIsNotClosedByTheConnectTimer() {
    TestClient c = th.connect("alice");
    th.scheduler().advance(Duration.ofSeconds(11));
    assertThat(c.transport().isClosed()).isFalse();
  }

  @Test
  void principalExpiryClosesWith4005OnFakeTime() {
    long expires = th.scheduler().nowMillis() + 60_000;
    th.close();
    th = TestHub.builder().principal("carol-token", new Principal("carol", null, expires)).build();
    TestClient c = th.connect("carol-token");
    th.scheduler().advance(Duration.ofSeconds(25)); // ping
    c.pong();
    th.scheduler().advance(Duration.ofSeconds(25)); // ping
    c.pong();
    th.scheduler().advance(Duration.ofMillis(9_999));
    assertThat(c.transport().isClosed()).isFalse();
    th.scheduler().advance(Duration.ofMillis(1));
    assertThat(c.transport().awaitMessage(Disconnect.class).code()).isEqualTo(4005);
    assertThat(c.transport().lastClose().code()).isEqualTo(4005);
  }

  @Test
  void connectIsAsyncFriendly() {
    // an authenticator completing on another thread: the reply still comes, on the executor
    th.close();
    th =
        TestHub.builder()
            .authenticator(req -> CompletableFuture.supplyAsync(() -> Principal.of("async")))
            .build();
    RecordingTransport t = RecordingTransport.threaded("async");
    TestClient c = th.open(t);
    assertThat(c.connectOk("x").user()).isEqualTo("async");
    t.assertNoViolations();
  }
}
