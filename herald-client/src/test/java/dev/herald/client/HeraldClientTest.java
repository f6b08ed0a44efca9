package dev.herald.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.client.FakeTransport.FakeConnection;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ClientMessage;
import dev.herald.protocol.ClientMessage.Connect;
import dev.herald.protocol.ClientMessage.PresenceQuery;
import dev.herald.protocol.ClientMessage.PresenceSet;
import dev.herald.protocol.ClientMessage.Publish;
import dev.herald.protocol.ClientMessage.Subscribe;
import dev.herald.protocol.ClientMessage.Unsubscribe;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.Ping;
import dev.herald.protocol.Pong;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.Disconnect;
import dev.herald.protocol.ServerMessage.EmptyResult;
import dev.herald.protocol.ServerMessage.ErrorInfo;
import dev.herald.protocol.ServerMessage.Join;
import dev.herald.protocol.ServerMessage.PresenceResult;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.PublishResult;
import dev.herald.protocol.ServerMessage.Reply;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.StreamPosition;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client's state machine on fake time and a fake transport: everything runs synchronously on
 * the test thread (direct executor), so no test sleeps.
 */
class HeraldClientTest {
  private static final URI URI_ = URI.create("ws://localhost:8080/connection/websocket");

  private final FakeScheduler time = new FakeScheduler();
  private final FakeTransport transport = new FakeTransport();
  private final List<String> events = new ArrayList<>();
  private final List<Throwable> errors = new ArrayList<>();
  private final AtomicInteger tokens = new AtomicInteger();
  private HeraldClient client;

  /** Fixed "random" value for the jitter: delays are exactly half the ceiling. */
  private static RandomGenerator fixed(double v) {
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        return 0;
      }

      @Override
      public double nextDouble() {
        return v;
      }
    };
  }

  @BeforeEach
  void setUp() {
    client = builder().build();
  }

  private HeraldClient.Builder builder() {
    return HeraldClient.builder(URI_)
        .tokenSupplier(() -> "tok-" + tokens.incrementAndGet())
        .header("Origin", "https://app.example.com")
        .header("Cookie", "sid=abc")
        .scheduler(time)
        .executor(Runnable::run)
        .random(fixed(0.5))
        .transport(transport)
        .listener(
            new ConnectionListener() {
              @Override
              public void onConnecting() {
                events.add("connecting");
              }

              @Override
              public void onConnected(ConnectResult result) {
                events.add("connected " + result.client());
              }

              @Override
              public void onReconnecting(CloseInfo cause, long delayMs) {
                events.add("reconnecting " + cause.code() + " " + delayMs);
              }

              @Override
              public void onClosed(CloseInfo reason) {
                events.add("closed " + reason.code());
              }

              @Override
              public void onError(Throwable error) {
                errors.add(error);
              }
            });
  }

  // ------------------------------------------------------------------ helpers playing the server

  private static ConnectResult connectResult(
      String clientId, long pingMs, long pongMs, int maxBytes) {
    return new ConnectResult(clientId, "alice", "herald-1", 1, pingMs, pongMs, maxBytes);
  }

  /** Accepts the handshake and answers connect. */
  private FakeConnection establish(long pingMs, long pongMs) {
    FakeConnection c = transport.last().accept();
    Connect connect = (Connect) c.messages().get(0);
    c.receive(
        Reply.ok(
            connect.id(),
            connectResult("c-" + transport.connections.size(), pingMs, pongMs, 65536)));
    return c;
  }

  private FakeConnection establish() {
    return establish(25_000, 10_000);
  }

  private static Pub pub(String channel, String epoch, long offset) {
    return new Pub(
        channel,
        epoch,
        offset,
        1L,
        FakeTransport.CODEC.raw(FakeTransport.CODEC.mapper().createObjectNode().put("n", offset)),
        null);
  }

  private static SubscribeResult subResult(
      String epoch, long offset, boolean recovered, int missed) {
    return new SubscribeResult(epoch, offset, true, recovered, missed);
  }

  /** Records what a subscription handler sees. */
  private static final class Recorder implements SubscriptionHandler {
    final List<String> seen = new ArrayList<>();

    @Override
    public void onPublication(Pub pub) {
      seen.add("pub " + pub.epoch() + ":" + pub.offset());
    }

    @Override
    public void onSubscribed(SubscribeResult r) {
      seen.add(
          "subscribed "
              + r.epoch()
              + ":"
              + r.offset()
              + (r.recovered() ? " recovered " + r.missed() : ""));
    }

    @Override
    public void onStateLost(SubscribeResult r) {
      seen.add("lost " + r.epoch() + ":" + r.offset());
    }

    @Override
    public void onJoin(ClientInfo c) {
      seen.add("join " + c.client());
    }

    @Override
    public void onError(ErrorInfo e) {
      seen.add("error " + e.code());
    }
  }

  // ------------------------------------------------------------------ connect

  @Test
  void connectSendsTokenInTheConnectMessageNotTheUrl() {
    CompletableFuture<ConnectResult> connected = client.connect();
    assertThat(client.state()).isEqualTo(ConnectionState.CONNECTING);
    FakeConnection c = transport.last();
    assertThat(c.uri).isEqualTo(URI_);
    assertThat(c.headers)
        .containsEntry("Origin", List.of("https://app.example.com"))
        .containsEntry("Cookie", List.of("sid=abc"));
    c.accept();
    Connect connect = (Connect) c.messages().get(0);
    assertThat(connect.token()).isEqualTo("tok-1");
    assertThat(connect.protocol()).isEqualTo(1);
    assertThat(connect.client()).startsWith("herald-java/");
    assertThat(connected).isNotDone();

    c.receive(Reply.ok(connect.id(), connectResult("c-1", 25_000, 10_000, 65536)));
    assertThat(connected).isCompletedWithValueMatching(r -> r.client().equals("c-1"));
    assertThat(client.state()).isEqualTo(ConnectionState.CONNECTED);
    assertThat(client.session()).hasValueSatisfying(r -> assertThat(r.user()).isEqualTo("alice"));
    assertThat(events).containsExactly("connecting", "connected c-1");
  }

  @Test
  void credentialsInTheUrlAreRefused() {
    assertThatThrownBy(
            () ->
                HeraldClient.builder(URI.create("ws://bob:secret@localhost/connection/websocket")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> HeraldClient.builder(URI.create("http://localhost/connection/websocket")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HeraldClient.builder(URI_).header("Sec-WebSocket-Protocol", "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void asyncTokenSupplierIsAwaited() {
    CompletableFuture<String> token = new CompletableFuture<>();
    HeraldClient c2 = builder().asyncTokenSupplier(() -> token).build();
    c2.connect();
    assertThat(transport.connections).isEmpty();
    token.complete("jwt");
    FakeConnection c = transport.last().accept();
    assertThat(((Connect) c.messages().get(0)).token()).isEqualTo("jwt");
  }

  @Test
  void failingTokenSupplierIsRetriedWithBackoff() {
    AtomicInteger calls = new AtomicInteger();
    HeraldClient c2 =
        builder()
            .tokenSupplier(
                () -> {
                  if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException("auth server down");
                  }
                  return "fresh";
                })
            .build();
    c2.connect();
    assertThat(c2.state()).isEqualTo(ConnectionState.RECONNECTING);
    assertThat(errors).anySatisfy(e -> assertThat(e).hasMessage("auth server down"));
    time.advance(250);
    FakeConnection c = transport.last().accept();
    assertThat(((Connect) c.messages().get(0)).token()).isEqualTo("fresh");
  }

  // ------------------------------------------------------------------ reconnect and backoff

  @Test
  void reconnectsAfterFullJitterDelayWithAFreshToken() {
    client.connect();
    FakeConnection first = establish();
    first.serverClose(1001, "going away");

    assertThat(client.state()).isEqualTo(ConnectionState.RECONNECTING);
    assertThat(events).endsWith("reconnecting 1001 250"); // random(0, 500) with random = 0.5
    time.advance(249);
    assertThat(transport.connections).hasSize(1);
    time.advance(1);
    assertThat(transport.connections).hasSize(2);
    assertThat(client.state()).isEqualTo(ConnectionState.CONNECTING);

    FakeConnection second = establish();
    assertThat(((Connect) second.messages().get(0)).token()).isEqualTo("tok-2");
    assertThat(client.state()).isEqualTo(ConnectionState.CONNECTED);
    assertThat(events)
        .containsExactly(
            "connecting", "connected c-1", "reconnecting 1001 250", "connecting", "connected c-2");
  }

  @Test
  void delayGrowsWhileAttemptsFailUpToTheCapAndResetsAfterSuccess() {
    client.connect();
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      transport.last().refuse("connection refused");
      long delay = Long.parseLong(events.get(events.size() - 1).split(" ")[2]);
      delays.add(delay);
      time.advance(delay);
    }
    // half of min(30000, 500 * 2^n)
    assertThat(delays)
        .containsExactly(250L, 500L, 1_000L, 2_000L, 4_000L, 8_000L, 15_000L, 15_000L, 15_000L);
    assertThat(errors).hasSize(9);

    establish().networkError();
    assertThat(events).endsWith("reconnecting 1006 250");
  }

  @Test
  void aHandshakeRefusedWithRetryAfterWaitsThatLongAndTheBackoffGoesOnAfterwards() {
    client.connect();
    transport
        .last()
        .refuse(
            new RefusedHandshake(
                "WebSocket handshake refused: HTTP 503 (shutting-down)", 503, 3_000, null));
    // 3000 + random(0, 300) with random = 0.5
    assertThat(events).endsWith("reconnecting 1006 3150");
    time.advance(3_149);
    assertThat(transport.connections).hasSize(1);
    time.advance(1);
    assertThat(transport.connections).hasSize(2);
    transport.last().refuse("connection refused");
    assertThat(events).as("counted as an attempt").endsWith("reconnecting 1006 500");
  }

  @Test
  void backoffBaseAndCapAreConfigurable() {
    HeraldClient c2 =
        builder()
            .backoff(java.time.Duration.ofMillis(100), java.time.Duration.ofMillis(300))
            .build();
    c2.connect();
    transport.last().refuse("x");
    time.advance(50);
    transport.last().refuse("x");
    time.advance(100);
    transport.last().refuse("x");
    assertThat(events)
        .containsSubsequence(
            "reconnecting 1006 50", "reconnecting 1006 100", "reconnecting 1006 150");
  }

  @Test
  void retryMsOfTheDisconnectMessageIsHonoured() {
    client.connect();
    FakeConnection c = establish();
    c.receive(new Disconnect(4001, "server restart", true, 2_300));
    c.serverClose(4001, "server restart; retry_ms=2300");
    // 2300 + random(0, 230) with random = 0.5
    assertThat(events).endsWith("reconnecting 4001 2415");
    time.advance(2_414);
    assertThat(transport.connections).hasSize(1);
    time.advance(1);
    assertThat(transport.connections).hasSize(2);
  }

  @Test
  void disconnectMessageStillDecidesWhenTheLinkBreaksBeforeTheCloseFrame() {
    client.connect();
    FakeConnection c = establish();
    c.receive(new Disconnect(4001, "server restart", true, 2_300));
    c.networkError();
    assertThat(events).endsWith("reconnecting 4001 2415");
  }

  @Test
  void terminalDisconnectMessageStopsEvenWhenTheLinkBreaksFirst() {
    client.connect();
    FakeConnection c = establish();
    c.receive(new Disconnect(4501, "connection refused for this user", false, 0));
    c.networkError();
    assertThat(client.state()).isEqualTo(ConnectionState.CLOSED);
  }

  @Test
  void retryMsOfTheCloseReasonIsHonouredWithoutDisconnectMessage() {
    client.connect();
    establish().serverClose(4001, "server restart; retry_ms=5000");
    assertThat(events).endsWith("reconnecting 4001 5250");
  }

  @Test
  void disconnectWithoutCloseFrameDropsAfterAGracePeriod() {
    client.connect();
    FakeConnection c = establish();
    c.receive(new Disconnect(4007, "reconnect requested", true, 100));
    time.advance(ClientEngine.DISCONNECT_GRACE_MS);
    assertThat(c.aborted).isTrue();
    assertThat(events).endsWith("reconnecting 4007 105");
  }

  @Test
  void authenticationFailureIsTerminal() {
    CompletableFuture<ConnectResult> connected = client.connect();
    FakeConnection c = transport.last().accept();
    long id = ((Connect) c.messages().get(0)).id();
    c.receive(
        FakeTransport.CODEC.encodeToString(Reply.error(id, ErrorCode.UNAUTHORIZED, "invalid token"))
            + "\n"
            + FakeTransport.CODEC.encodeToString(
                new Disconnect(4500, "authentication failed", false, 0)));
    c.serverClose(4500, "authentication failed");

    assertThat(client.state()).isEqualTo(ConnectionState.CLOSED);
    assertThat(events).containsExactly("connecting", "closed 4500");
    assertThat(time.pendingDelays()).isEmpty(); // no reconnect timer, no leftover timers
    assertThatThrownBy(connected::join)
        .hasCauseInstanceOf(HeraldException.class)
        .cause()
        .satisfies(
            e -> {
              HeraldException he = (HeraldException) e;
              assertThat(he.errorCode()).isEqualTo(ErrorCode.UNAUTHORIZED);
              assertThat(he.close().code()).isEqualTo(4500);
            });
    assertThat(errors)
        .anySatisfy(
            e -> assertThat(((HeraldException) e).errorCode()).isEqualTo(ErrorCode.UNAUTHORIZED));

    time.advance(3_600_000);
    assertThat(transport.connections).hasSize(1);

    // The application fixes the cause and starts over explicitly.
    CompletableFuture<ConnectResult> again = client.connect();
    establish();
    assertThat(again).isCompleted();
    assertThat(client.state()).isEqualTo(ConnectionState.CONNECTED);
  }

  private Reply errorReply(long id, ErrorCode code) {
    return Reply.error(id, code, code.label());
  }

  @Test
  void normalClosureByTheServerIsTerminal() {
    client.connect();
    establish().serverClose(1000, "");
    assertThat(client.state()).isEqualTo(ConnectionState.CLOSED);
    assertThat(events).endsWith("closed 1000");
    assertThat(time.pendingDelays()).isEmpty();
  }

  @Test
  void expiredTokenReconnectsWithANewToken() {
    client.connect();
    FakeConnection c = transport.last().accept();
    c.receive(errorReply(((Connect) c.messages().get(0)).id(), ErrorCode.TOKEN_EXPIRED));
    c.serverClose(4005, "credentials expired");
    assertThat(client.state()).isEqualTo(ConnectionState.RECONNECTING);
    time.advance(250);
    FakeConnection c2 = transport.last().accept();
    assertThat(((Connect) c2.messages().get(0)).token()).isEqualTo("tok-2");
  }

  @Test
  void connectTimeoutAbortsAndRetries() {
    client.connect();
    FakeConnection c = transport.last().accept();
    time.advance(10_000);
    assertThat(c.aborted).isTrue();
    assertThat(client.state()).isEqualTo(ConnectionState.RECONNECTING);
  }

  // ------------------------------------------------------------------ heartbeats

  @Test
  void answersPingsWithPong() {
    client.connect();
    FakeConnection c = establish();
    c.receive(FakeTransport.CODEC.encodeToString((ServerMessage) Ping.INSTANCE));
    assertThat(c.lastMessage()).isEqualTo(Pong.INSTANCE);
  }

  @Test
  void silenceForPingPlusPongMeansTheConnectionIsDead() {
    client.connect();
    FakeConnection c = establish(1_000, 500);
    time.advance(1_000);
    c.receive(FakeTransport.CODEC.encodeToString((ServerMessage) Ping.INSTANCE));
    time.advance(1_499); // 1499 ms since the last message
    assertThat(c.aborted).isFalse();
    assertThat(client.state()).isEqualTo(ConnectionState.CONNECTED);
    time.advance(1);
    assertThat(c.aborted).isTrue();
    assertThat(client.state()).isEqualTo(ConnectionState.RECONNECTING);
    assertThat(events).endsWith("reconnecting 1006 250");
  }

  @Test
  void anyMessageKeepsTheConnectionAlive() {
    client.connect();
    FakeConnection c = establish(1_000, 500);
    for (int i = 0; i < 20; i++) {
      time.advance(1_400);
      c.receive("{\"type\":\"pong\"}");
    }
    assertThat(c.aborted).isFalse();
    assertThat(client.state()).isEqualTo(ConnectionState.CONNECTED);
  }

  // ------------------------------------------------------------------ requests

  @Test
  void publishMatchesTheReplyById() {
    client.connect();
    FakeConnection c = establish();
    CompletableFuture<StreamPosition> a = client.publish("chat:lobby", "{\"text\":\"a\"}");
    CompletableFuture<StreamPosition> b = client.publish("chat:lobby", "[1, 2]");
    List<Publish> sent = c.messages(Publish.class);
    assertThat(sent).hasSize(2);
    assertThat(sent.get(0).id()).isLessThan(sent.get(1).id());
    assertThat(sent.get(0).data().json()).isEqualTo("{\"text\":\"a\"}");
    assertThat(sent.get(1).data().json()).isEqualTo("[1,2]");

    c.receive(Reply.ok(sent.get(1).id(), new PublishResult("e", 8)));
    c.receive(errorReply(sent.get(0).id(), ErrorCode.PERMISSION_DENIED));
    assertThat(b).isCompletedWithValue(new StreamPosition("e", 8));
    assertThatThrownBy(a::join)
        .cause()
        .isInstanceOfSatisfying(
            HeraldException.class,
            e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PERMISSION_DENIED));
  }

  @Test
  void invalidJsonIsRefusedUpFront() {
    assertThatThrownBy(() -> client.publish("chat:lobby", "{nope"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void oversizedMessagesFailWithoutBeingSent() {
    client.connect();
    FakeConnection c = transport.last().accept();
    c.receive(
        Reply.ok(((Connect) c.messages().get(0)).id(), connectResult("c-1", 25_000, 10_000, 100)));
    CompletableFuture<StreamPosition> f =
        client.publish("chat:lobby", "\"" + "x".repeat(200) + "\"");
    assertThat(f).isCompletedExceptionally();
    assertThat(c.messages(Publish.class)).isEmpty();
  }

  @Test
  void pendingRequestsFailWhenTheConnectionDrops() {
    client.connect();
    FakeConnection c = establish();
    CompletableFuture<StreamPosition> f = client.publish("chat:lobby", "1");
    c.networkError();
    assertThat(f).isCompletedExceptionally();
    assertThatThrownBy(f::join)
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOfSatisfying(
            HeraldException.class, e -> assertThat(e.close().code()).isEqualTo(1006));
  }

  @Test
  void requestsWaitForTheConnection() {
    CompletableFuture<StreamPosition> f = client.publish("chat:lobby", "1");
    client.connect();
    FakeConnection c = establish();
    Publish p = c.messages(Publish.class).get(0);
    c.receive(Reply.ok(p.id(), new PublishResult("e", 1)));
    assertThat(f).isCompletedWithValue(new StreamPosition("e", 1));
  }

  @Test
  void requestsTimeOut() {
    client.connect();
    establish();
    CompletableFuture<StreamPosition> f = client.publish("chat:lobby", "1");
    time.advance(9_999);
    assertThat(f).isNotDone();
    time.advance(1);
    assertThat(f).isCompletedExceptionally();
  }

  // ------------------------------------------------------------------ subscriptions and recovery

  @Test
  void subscribeDeliversPublicationsInOrderAndDropsDuplicates() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    Subscription sub = client.subscribe("project:42", h);
    Subscribe s = c.messages(Subscribe.class).get(0);
    assertThat(s.channel()).isEqualTo("project:42");
    assertThat(s.since()).isNull();
    assertThat(sub.state()).isEqualTo(SubscriptionState.PENDING);

    c.receive(
        FakeTransport.CODEC.encodeToString(Reply.ok(s.id(), subResult("e1", 5, false, 0)))
            + "\n"
            + FakeTransport.CODEC.encodeToString(pub("project:42", "e1", 6))
            + "\n\n"
            + FakeTransport.CODEC.encodeToString(pub("project:42", "e1", 7)));
    c.receive(pub("project:42", "e1", 7));
    c.receive(pub("project:42", "e1", 3));
    c.receive(pub("other", "e1", 8));

    assertThat(h.seen).containsExactly("subscribed e1:5", "pub e1:6", "pub e1:7");
    assertThat(sub.state()).isEqualTo(SubscriptionState.SUBSCRIBED);
    assertThat(sub.position()).isEqualTo(new StreamPosition("e1", 7));
  }

  @Test
  void gapIsRepairedByResubscribingWithSinceOnTheSameConnection() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    client.subscribe("project:42", h);
    c.receive(Reply.ok(c.messages(Subscribe.class).get(0).id(), subResult("e1", 5, false, 0)));
    c.receive(pub("project:42", "e1", 6));
    c.receive(pub("project:42", "e1", 8)); // 7 is missing

    List<ClientMessage> tail = c.messages().subList(c.messages().size() - 2, c.messages().size());
    assertThat(tail.get(0))
        .isInstanceOfSatisfying(
            Unsubscribe.class, u -> assertThat(u.channel()).isEqualTo("project:42"));
    assertThat(tail.get(1))
        .isInstanceOfSatisfying(
            Subscribe.class, s -> assertThat(s.since()).isEqualTo(new StreamPosition("e1", 6)));
    Subscribe resub = (Subscribe) tail.get(1);

    c.receive(Reply.ok(((Unsubscribe) tail.get(0)).id(), EmptyResult.INSTANCE));
    c.receive(pub("project:42", "e1", 9)); // in flight before the resubscribe: dropped
    c.receive(Reply.ok(resub.id(), subResult("e1", 9, true, 3)));
    c.receive(pub("project:42", "e1", 7));
    c.receive(pub("project:42", "e1", 8));
    c.receive(pub("project:42", "e1", 9));
    c.receive(pub("project:42", "e1", 10));

    assertThat(h.seen)
        .containsExactly(
            "subscribed e1:5",
            "pub e1:6",
            "subscribed e1:9 recovered 3",
            "pub e1:7",
            "pub e1:8",
            "pub e1:9",
            "pub e1:10");
    assertThat(transport.connections).hasSize(1);
  }

  @Test
  void epochChangeIsAGapToo() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    Subscription sub = client.subscribe("project:42", h);
    c.receive(Reply.ok(c.messages(Subscribe.class).get(0).id(), subResult("e1", 5, false, 0)));
    c.receive(pub("project:42", "e2", 1));
    Subscribe resub = c.messages(Subscribe.class).get(1);
    assertThat(resub.since()).isEqualTo(new StreamPosition("e1", 5));
    c.receive(Reply.ok(resub.id(), subResult("e2", 1, false, 0)));
    c.receive(pub("project:42", "e2", 2));
    assertThat(h.seen).containsExactly("subscribed e1:5", "lost e2:1", "pub e2:2");
    assertThat(sub.position()).isEqualTo(new StreamPosition("e2", 2));
  }

  @Test
  void reconnectResubscribesEveryChannelWithSince() {
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    client.subscribe("project:1", a);
    client.subscribe("project:2", b);
    client.connect();
    FakeConnection c = establish();
    List<Subscribe> subs = c.messages(Subscribe.class);
    assertThat(subs)
        .extracting(Subscribe::channel)
        .containsExactlyInAnyOrder("project:1", "project:2");
    for (Subscribe s : subs) {
      c.receive(Reply.ok(s.id(), subResult("e-" + s.channel(), 10, false, 0)));
    }
    c.receive(pub("project:1", "e-project:1", 11));
    c.networkError();
    assertThat(client.subscription("project:1").orElseThrow().state())
        .isEqualTo(SubscriptionState.PENDING);

    time.advance(250);
    FakeConnection c2 = establish();
    List<Subscribe> resubs = c2.messages(Subscribe.class);
    assertThat(resubs).hasSize(2);
    Subscribe s1 =
        resubs.stream().filter(s -> s.channel().equals("project:1")).findFirst().orElseThrow();
    Subscribe s2 =
        resubs.stream().filter(s -> s.channel().equals("project:2")).findFirst().orElseThrow();
    assertThat(s1.since()).isEqualTo(new StreamPosition("e-project:1", 11));
    assertThat(s2.since()).isEqualTo(new StreamPosition("e-project:2", 10));

    c2.receive(Reply.ok(s1.id(), subResult("e-project:1", 12, true, 1)));
    c2.receive(pub("project:1", "e-project:1", 12));
    c2.receive(Reply.ok(s2.id(), subResult("new-epoch", 0, false, 0)));
    assertThat(a.seen)
        .containsExactly(
            "subscribed e-project:1:10",
            "pub e-project:1:11",
            "subscribed e-project:1:12 recovered 1",
            "pub e-project:1:12");
    assertThat(b.seen).containsExactly("subscribed e-project:2:10", "lost new-epoch:0");
  }

  @Test
  void subscribeRequestInFlightWhenTheConnectionDropsIsResent() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    client.subscribe("project:42", h);
    c.networkError();
    time.advance(250);
    FakeConnection c2 = establish();
    Subscribe s = c2.messages(Subscribe.class).get(0);
    assertThat(s.since()).isNull();
    c2.receive(Reply.ok(s.id(), subResult("e", 3, false, 0)));
    assertThat(h.seen).containsExactly("subscribed e:3");
  }

  @Test
  void resumesFromAGivenPosition() {
    Recorder h = new Recorder();
    client.subscribe("project:42", new StreamPosition("e", 100), h);
    client.connect();
    FakeConnection c = establish();
    Subscribe s = c.messages(Subscribe.class).get(0);
    assertThat(s.since()).isEqualTo(new StreamPosition("e", 100));
    c.receive(Reply.ok(s.id(), subResult("e", 101, true, 1)));
    c.receive(pub("project:42", "e", 101));
    assertThat(h.seen).containsExactly("subscribed e:101 recovered 1", "pub e:101");
  }

  @Test
  void refusedSubscriptionFailsAndFreesTheChannel() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    Subscription sub = client.subscribe("secret:1", h);
    assertThatThrownBy(() -> client.subscribe("secret:1", h))
        .isInstanceOf(IllegalStateException.class);
    c.receive(errorReply(c.messages(Subscribe.class).get(0).id(), ErrorCode.PERMISSION_DENIED));
    assertThat(h.seen).containsExactly("error 103");
    assertThat(sub.state()).isEqualTo(SubscriptionState.FAILED);
    assertThat(client.subscription("secret:1")).isEmpty();
    client.subscribe("secret:1", h); // allowed again
  }

  @Test
  void subscriptionEndedByTheServerFailsAndIsNotResubscribedAfterAReconnect() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    Subscription sub = client.subscribe("project:42", h);
    Subscription other = client.subscribe("project:43", new Recorder());
    c.receive(Reply.ok(c.messages(Subscribe.class).get(0).id(), subResult("e", 1, false, 0)));
    c.receive(Reply.ok(c.messages(Subscribe.class).get(1).id(), subResult("e", 1, false, 0)));
    c.receive(
        new dev.herald.protocol.ServerMessage.Unsubscribed(
            "project:42", 103, "access to 'project:42' was revoked"));
    assertThat(h.seen).containsExactly("subscribed e:1", "error 103");
    assertThat(sub.state()).isEqualTo(SubscriptionState.FAILED);
    assertThat(client.subscription("project:42")).isEmpty();
    c.receive(pub("project:42", "e", 2)); // a late one is ignored
    assertThat(h.seen).hasSize(2);
    assertThat(other.state()).isEqualTo(SubscriptionState.SUBSCRIBED);

    c.networkError();
    time.advance(250);
    FakeConnection again = establish();
    assertThat(again.messages(Subscribe.class))
        .extracting(Subscribe::channel)
        .containsExactly("project:43");
  }

  @Test
  void aStreamResetResubscribesFromTheLastPositionAndReportsOnlyRealLoss() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    Subscription sub = client.subscribe("project:42", h);
    c.receive(Reply.ok(c.messages(Subscribe.class).get(0).id(), subResult("e", 1, false, 0)));
    c.receive(pub("project:42", "e", 2));
    c.receive(
        new dev.herald.protocol.ServerMessage.Unsubscribed(
            "project:42", ErrorCode.STREAM_RESET.code(), "stream reset"));
    Subscribe again = c.messages(Subscribe.class).get(1);
    assertThat(again.channel()).isEqualTo("project:42");
    assertThat(again.since()).isEqualTo(new dev.herald.protocol.StreamPosition("e", 2));
    assertThat(c.messages(Unsubscribe.class)).isEmpty(); // the server ended it already
    assertThat(h.seen).containsExactly("subscribed e:1", "pub e:2"); // no error for the app
    c.receive(Reply.ok(again.id(), subResult("f", 0, false, 0)));
    assertThat(h.seen).containsExactly("subscribed e:1", "pub e:2", "lost f:0");
    assertThat(sub.state()).isEqualTo(SubscriptionState.SUBSCRIBED);
    c.receive(pub("project:42", "f", 1));
    assertThat(h.seen).last().isEqualTo("pub f:1");
  }

  @Test
  void transientRefusalIsRetriedWithBackoff() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    Subscription sub = client.subscribe("project:42", h);
    c.receive(errorReply(c.messages(Subscribe.class).get(0).id(), ErrorCode.INTERNAL));
    assertThat(sub.state()).isEqualTo(SubscriptionState.PENDING);
    assertThat(c.messages(Subscribe.class)).hasSize(1);
    time.advance(250);
    Subscribe retry = c.messages(Subscribe.class).get(1);
    c.receive(Reply.ok(retry.id(), subResult("e", 1, false, 0)));
    assertThat(h.seen).containsExactly("error 100", "subscribed e:1");
  }

  @Test
  void alreadySubscribedIsClearedAndRetried() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    client.subscribe("project:42", h);
    c.receive(errorReply(c.messages(Subscribe.class).get(0).id(), ErrorCode.ALREADY_SUBSCRIBED));
    assertThat(c.lastMessage()).isInstanceOf(Unsubscribe.class);
    time.advance(250);
    c.receive(Reply.ok(c.messages(Subscribe.class).get(1).id(), subResult("e", 1, false, 0)));
    assertThat(h.seen).containsExactly("error 105", "subscribed e:1");
  }

  @Test
  void requestsFailAtOnceAfterATerminalClose() {
    client.connect();
    establish().serverClose(4501, "connection refused for this user");
    assertThat(client.publish("chat:lobby", "1")).isCompletedExceptionally();
  }

  @Test
  void unsubscribeStopsDeliveryAndTellsTheServer() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    Subscription sub = client.subscribe("project:42", h);
    c.receive(Reply.ok(c.messages(Subscribe.class).get(0).id(), subResult("e", 1, false, 0)));
    CompletableFuture<Void> done = sub.unsubscribe();
    Unsubscribe u = (Unsubscribe) c.lastMessage();
    assertThat(u.channel()).isEqualTo("project:42");
    c.receive(pub("project:42", "e", 2));
    c.receive(Reply.ok(u.id(), EmptyResult.INSTANCE));
    assertThat(done).isCompleted();
    assertThat(h.seen).containsExactly("subscribed e:1");
    assertThat(sub.state()).isEqualTo(SubscriptionState.UNSUBSCRIBED);
    assertThat(sub.unsubscribe()).isCompleted();
  }

  @Test
  void presenceQueryAndEvents() {
    client.connect();
    FakeConnection c = establish();
    Recorder h = new Recorder();
    Subscription sub = client.subscribe("project:42", h);
    c.receive(Reply.ok(c.messages(Subscribe.class).get(0).id(), subResult("e", 1, false, 0)));
    ClientInfo me = new ClientInfo("c-1", "alice", null, null);
    c.receive(new Join("project:42", me));

    CompletableFuture<List<ClientInfo>> who = sub.presence();
    PresenceQuery q = (PresenceQuery) c.lastMessage();
    c.receive(Reply.ok(q.id(), new PresenceResult(List.of(me))));
    assertThat(who).isCompletedWithValue(List.of(me));
    assertThat(h.seen).containsExactly("subscribed e:1", "join c-1");
  }

  @Test
  void presenceStateIsRestoredAfterReconnect() {
    client.connect();
    FakeConnection c = establish();
    Subscription sub = client.subscribe("project:42", new Recorder());
    c.receive(Reply.ok(c.messages(Subscribe.class).get(0).id(), subResult("e", 1, false, 0)));
    CompletableFuture<Void> set = sub.setPresenceState("{\"editing\": \"item:7\"}");
    PresenceSet ps = (PresenceSet) c.lastMessage();
    assertThat(ps.state().json()).isEqualTo("{\"editing\":\"item:7\"}");
    c.receive(Reply.ok(ps.id(), EmptyResult.INSTANCE));
    assertThat(set).isCompleted();
    assertThatThrownBy(() -> sub.setPresenceState("[1]"))
        .isInstanceOf(IllegalArgumentException.class);

    c.serverClose(4001, "server restart");
    time.advance(250);
    FakeConnection c2 = establish();
    c2.receive(Reply.ok(c2.messages(Subscribe.class).get(0).id(), subResult("e", 1, true, 0)));
    assertThat(c2.lastMessage())
        .isInstanceOfSatisfying(
            PresenceSet.class,
            p -> assertThat(p.state().json()).isEqualTo("{\"editing\":\"item:7\"}"));
  }

  // ------------------------------------------------------------------ close

  @Test
  void closeIsFinal() {
    client.connect();
    FakeConnection c = establish();
    Subscription sub = client.subscribe("project:42", new Recorder());
    CompletableFuture<StreamPosition> f = client.publish("chat:lobby", "1");
    client.close();
    assertThat(c.closedWith).isEqualTo(1000);
    assertThat(client.state()).isEqualTo(ConnectionState.CLOSED);
    assertThat(f).isCompletedExceptionally();
    assertThat(sub.state()).isEqualTo(SubscriptionState.UNSUBSCRIBED);
    assertThat(events).endsWith("closed 1000");
    c.serverClose(1000, "");
    time.advance(3_600_000);
    assertThat(transport.connections).hasSize(1);
    assertThat(client.connect()).isCompletedExceptionally();
    assertThat(client.publish("chat:lobby", "1")).isCompletedExceptionally();
    assertThatThrownBy(() -> client.subscribe("x", new Recorder()))
        .isInstanceOf(IllegalStateException.class);
    client.close();
    assertThat(events).filteredOn(e -> e.startsWith("closed")).hasSize(1);
  }

  @Test
  void closeWhileReconnectingCancelsTheTimer() {
    client.connect();
    establish().networkError();
    client.close();
    time.advance(60_000);
    assertThat(transport.connections).hasSize(1);
    assertThat(time.pendingDelays()).isEmpty();
  }

  @Test
  void callbacksMayCallTheClient() {
    List<String> seen = new ArrayList<>();
    client.connect();
    FakeConnection c = establish();
    client.subscribe(
        "project:42",
        pub -> {
          seen.add("pub " + pub.offset());
          client.publish("project:42", "{\"echo\":" + pub.offset() + "}");
        });
    c.receive(Reply.ok(c.messages(Subscribe.class).get(0).id(), subResult("e", 0, false, 0)));
    c.receive(pub("project:42", "e", 1));
    assertThat(seen).containsExactly("pub 1");
    assertThat(c.lastMessage())
        .isInstanceOfSatisfying(
            Publish.class, p -> assertThat(p.data().json()).isEqualTo("{\"echo\":1}"));
  }

  @Test
  void undecodableAndUnknownMessagesDoNotBreakTheConnection() {
    client.connect();
    FakeConnection c = establish();
    CompletableFuture<StreamPosition> f = client.publish("chat:lobby", "1");
    long id = c.messages(Publish.class).get(0).id();
    c.receive(
        "{\"type\":\"future_thing\",\"x\":1}\nnot json\n"
            + FakeTransport.CODEC.encodeToString(Reply.ok(id, new PublishResult("e", 1))));
    assertThat(f).isCompletedWithValue(new StreamPosition("e", 1));
    assertThat(errors).hasSize(1);
    assertThat(client.state()).isEqualTo(ConnectionState.CONNECTED);
  }

  // ------------------------------------------------------------------ idle cuts (ping_ms)

  private static long pingAskedFor(FakeConnection c) {
    return ((Connect) c.messages().get(0)).pingMs();
  }

  @Test
  void twoIdleCutsAtAboutTheSameSilenceAskForHeartbeatsAtHalfOfItForTheClientsLifetime() {
    client.connect();
    FakeConnection c1 = establish();
    assertThat(pingAskedFor(c1)).as("the server's interval by default").isZero();
    time.advance(5_000); // quiet, no heartbeat due yet (25 s): a proxy's idle timeout cuts it
    c1.networkError();
    time.advance(1_000);
    FakeConnection c2 = establish();
    assertThat(pingAskedFor(c2)).as("one cut alone teaches nothing").isZero();
    time.advance(5_300);
    c2.networkError();
    time.advance(1_000);
    FakeConnection c3 = establish(2_500, 10_000);
    assertThat(pingAskedFor(c3)).isEqualTo(2_500);

    // Remembered: later drops that are no idle cut (too soon, or a heartbeat was due) keep it.
    time.advance(500);
    c3.networkError();
    time.advance(1_000);
    FakeConnection c4 = establish(2_500, 10_000);
    assertThat(pingAskedFor(c4)).isEqualTo(2_500);
    time.advance(2_000);
    c4.receive(Ping.INSTANCE);
    time.advance(2_000);
    c4.networkError();
    time.advance(1_000);
    assertThat(pingAskedFor(establish())).isEqualTo(2_500);
    assertThat(events).doesNotContain("closed 1006");
  }

  @Test
  void cutsAfterDifferentSilencesOrAfterAMissedHeartbeatTeachNothing() {
    client.connect();
    FakeConnection c = establish();
    time.advance(5_000);
    c.networkError();
    time.advance(1_000);
    c = establish();
    time.advance(12_000); // not about the same silence as the first cut
    c.networkError();
    time.advance(1_000);
    c = establish(3_000, 10_000);
    assertThat(pingAskedFor(c)).isZero();
    time.advance(4_500); // past the granted heartbeat and its slack: not a proxy's idle cut
    c.networkError();
    time.advance(1_000);
    c = establish(3_000, 10_000);
    time.advance(4_500);
    c.networkError();
    time.advance(1_000);
    assertThat(pingAskedFor(establish())).isZero();
  }

  @Test
  void aConfiguredPingIntervalIsAskedForAndALearnedShorterOneWins() {
    HeraldClient c2 = builder().pingInterval(java.time.Duration.ofSeconds(8)).build();
    c2.connect();
    FakeConnection c = establish(8_000, 10_000);
    assertThat(pingAskedFor(c)).isEqualTo(8_000);
    for (int i = 0; i < 2; i++) {
      time.advance(6_000);
      c.networkError();
      time.advance(1_000);
      c = establish(8_000, 10_000);
    }
    assertThat(pingAskedFor(c)).isEqualTo(3_000);
    assertThatThrownBy(() -> builder().pingInterval(java.time.Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
