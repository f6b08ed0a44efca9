package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.Pong;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.Reply;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MalformedInputTest {
  private TestHub th = TestHub.create();

  @AfterEach
  void close() {
    th.close();
  }

  private static ServerMessage.Error standaloneError(TestClient c, int code) {
    ServerMessage.Error e = c.transport().next(ServerMessage.Error.class);
    assertThat(e.error().code()).isEqualTo(code);
    return e;
  }

  @Test
  void malformedJsonGetsStandaloneError107AndTheSessionKeepsWorking() {
    TestClient c = th.connect("alice");
    c.sendFrame("{not json");
    assertThat(standaloneError(c, 107).error().message()).startsWith("malformed JSON");
    assertThat(c.transport().isClosed()).isFalse();
    c.ping();
    c.transport().next(Pong.class);
    assertThat(c.subscribeOk("nopresence:x")).isNotNull();
  }

  /** Valid JSON with a number no decimal type holds: that request's 107, and the frame goes on. */
  @Test
  void aNumberOutOfRangeIsTheRequestsErrorAndTheNextMessageOfTheFrameIsAnswered() {
    TestClient c = th.connect("alice");
    c.sendFrame(
        "{\"type\":\"publish\",\"id\":7,\"channel\":\"test:x\",\"data\":1e2147483648}\n"
            + "{\"type\":\"ping\"}\n"
            + "{\"type\":\"subscribe\",\"id\":8,\"channel\":\"nopresence:x\"}");
    Reply r = c.transport().awaitReply(7); // a ping is answered at once, before replies
    assertThat(r.error().code()).isEqualTo(107);
    assertThat(r.error().message()).contains("number is out of range");
    assertThat(c.transport().awaitReply(8).isError()).isFalse();
    assertThat(c.transport().messages(Pong.class)).hasSize(1);
    assertThat(c.transport().isClosed()).isFalse();
  }

  @Test
  void malformedJsonBeforeConnectDoesNotPreventConnect() {
    TestClient c = th.open();
    c.sendFrame("}}}");
    standaloneError(c, 107);
    c.connectOk("alice");
  }

  @Test
  void nonObjectsAndMissingTypeGetStandaloneErrors() {
    TestClient c = th.connect("alice");
    c.sendFrame("[1,2]");
    standaloneError(c, 107);
    c.sendFrame("42");
    standaloneError(c, 107);
    c.sendFrame("{\"type\":7}");
    standaloneError(c, 107);
    c.sendFrame("{\"type\":\"subscribe\",\"id\":-1,\"channel\":\"test:x\"}");
    standaloneError(c, 107);
    c.sendFrame("");
    standaloneError(c, 107);
    c.transport().assertNoMoreMessages();
    assertThat(c.transport().isClosed()).isFalse();
  }

  @Test
  void unknownTypeWithIdGetsReply104() {
    TestClient c = th.connect("alice");
    c.sendFrame("{\"type\":\"frobnicate\",\"id\":77}");
    Reply r = c.transport().next(Reply.class);
    assertThat(r.id()).isEqualTo(77);
    assertThat(r.error().code()).isEqualTo(104);
    assertThat(r.error().message()).contains("frobnicate");
  }

  @Test
  void invalidFieldWithIdGetsReply107() {
    TestClient c = th.connect("alice");
    c.sendFrame("{\"type\":\"subscribe\",\"id\":5}");
    Reply r = c.transport().nextReply(5);
    assertThat(r.error().code()).isEqualTo(107);
    assertThat(r.error().message()).contains("channel");
    c.sendFrame(
        "{\"type\":\"subscribe\",\"id\":6,\"channel\":\"test:x\",\"since\":{\"epoch\":\"e\"}}");
    assertThat(c.transport().nextReply(6).error().code()).isEqualTo(107);
  }

  @Test
  void unknownFieldsAreIgnored() {
    TestClient c = th.connect("alice");
    c.sendFrame(
        "{\"type\":\"subscribe\",\"id\":9,\"channel\":\"nopresence:x\",\"future\":{\"x\":1}}");
    assertThat(c.transport().nextReply(9).isError()).isFalse();
  }

  @Test
  void batchedFrameWithTwoRequestsGetsBothRepliesInOrder() {
    TestClient c = th.open();
    c.sendFrame(
        "{\"type\":\"connect\",\"id\":1,\"token\":\"alice\"}\n{\"type\":\"subscribe\",\"id\":2,\"channel\":\"nopresence:x\"}");
    assertThat(c.transport().nextReply(1).isError()).isFalse();
    assertThat(c.transport().nextReply(2).isError()).isFalse();
    c.transport().assertNoMoreMessages();
  }

  @Test
  void batchedFrameIgnoresEmptyLinesAndABadLineDoesNotHideTheGoodOnes() {
    TestClient c = th.connect("alice");
    c.sendFrame(
        "\n{\"type\":\"subscribe\",\"id\":2,\"channel\":\"nopresence:a\"}\n\n{oops\n{\"type\":\"ping\"}\n"
            + "{\"type\":\"subscribe\",\"id\":3,\"channel\":\"nopresence:b\"}\n");
    // replies keep request order; a standalone error and a pong carry no id and are not ordered
    // with them
    List<ServerMessage> got = c.transport().unread();
    assertThat(got).hasSize(4);
    assertThat(got)
        .filteredOn(Reply.class::isInstance)
        .map(Reply.class::cast)
        .allMatch(r -> !r.isError())
        .extracting(Reply::id)
        .containsExactly(2L, 3L);
    assertThat(got)
        .filteredOn(ServerMessage.Error.class::isInstance)
        .map(ServerMessage.Error.class::cast)
        .singleElement()
        .satisfies(e -> assertThat(e.error().code()).isEqualTo(107));
    assertThat(got).filteredOn(Pong.class::isInstance).hasSize(1);
    assertThat(c.session().subscriptionCount()).isEqualTo(2);
  }

  @Test
  void decodeErrorRepliesKeepRequestOrder() {
    // protocol.md section 2.3: replies come in the order of the requests
    CompletableFuture<Boolean> decision = new CompletableFuture<>();
    th.close();
    th = TestHub.builder().authorizer((p, a, ch) -> decision).build();
    TestClient c = th.connect("alice");
    c.sendFrame(
        "{\"type\":\"subscribe\",\"id\":2,\"channel\":\"test:x\"}\n{\"type\":\"nope\",\"id\":3}");
    decision.complete(true);
    assertThat(c.transport().next(Reply.class).id()).isEqualTo(2);
    assertThat(c.transport().awaitReply(3).error().code()).isEqualTo(104);
  }

  @Test
  void tooManyQueuedRequestsGet111() {
    CompletableFuture<Boolean> decision = new CompletableFuture<>();
    HubConfig d = TestHub.defaultConfig();
    th.close();
    th =
        TestHub.builder()
            .config(
                new HubConfig(
                    d.node(),
                    d.pingInterval(),
                    d.pongTimeout(),
                    d.connectTimeout(),
                    d.maxSubscriptionsPerConnection(),
                    d.outboxMaxBytes(),
                    d.maxBatchBytes(),
                    d.maxMessageBytes(),
                    d.maxPublishBytes(),
                    d.maxPresenceStateBytes(),
                    2,
                    d.shutdownRetryMin(),
                    d.shutdownRetryMax()))
            .authorizer((p, a, ch) -> decision)
            .build();
    TestClient c = th.connect("alice");
    long first = c.subscribe("test:a"); // in flight
    long q1 = c.subscribe("test:b");
    long q2 = c.subscribe("test:c");
    long over = c.subscribe("test:d");
    assertThat(c.transport().nextReply(over).error().code()).isEqualTo(111);
    decision.complete(true);
    assertThat(c.transport().awaitReply(first).isError()).isFalse();
    assertThat(c.transport().awaitReply(q1).isError()).isFalse();
    assertThat(c.transport().awaitReply(q2).isError()).isFalse();
    assertThat(c.transport().isClosed()).isFalse();
  }

  @Test
  void inputAfterCloseIsIgnored() {
    TestClient c = th.connect("alice");
    c.session().disconnect(dev.herald.protocol.CloseCode.FORCE_RECONNECT, null, 0);
    c.transport().skipAll();
    c.sendFrame("{\"type\":\"ping\"}");
    c.sendFrame("{oops");
    th.scheduler().advance(Duration.ofMinutes(1));
    c.transport().assertNoMoreMessages();
    c.transport().assertNoViolations();
  }
}
