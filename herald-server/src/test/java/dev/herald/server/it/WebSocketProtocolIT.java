package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpClient;
import java.net.http.WebSocketHandshakeException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Protocol behaviour over real WebSocket connections to a real server. */
class WebSocketProtocolIT {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  @Test
  void connectReplyDescribesTheSession() {
    try (RawClient c = RawClient.open(server.wsUri())) {
      JsonNode r =
          c.request(
                  "{\"type\":\"connect\",\"token\":\""
                      + server.token("alice")
                      + "\",\"client\":\"it/1\"}")
              .get("result");
      assertThat(r.get("user").asText()).isEqualTo("alice");
      assertThat(r.get("client").asText()).startsWith("c-");
      assertThat(r.get("protocol").asInt()).isEqualTo(1);
      assertThat(r.get("ping_ms").asLong()).isEqualTo(25_000);
      assertThat(r.get("max_message_bytes").asInt()).isEqualTo(65_536);
    }
  }

  @Test
  void subscriberReceivesHttpPublicationsInOrder() {
    try (RawClient c = RawClient.connected(server, "alice")) {
      JsonNode sub = c.request("{\"type\":\"subscribe\",\"channel\":\"test:order\"}").get("result");
      long start = sub.get("offset").asLong();
      for (int i = 0; i < 200; i++) {
        assertThat(server.publishHttp("test:order", "{\"n\":" + i + "}").statusCode())
            .isEqualTo(200);
      }
      List<JsonNode> pubs = c.pubs("test:order", 200);
      for (int i = 0; i < 200; i++) {
        assertThat(pubs.get(i).get("offset").asLong()).isEqualTo(start + i + 1);
        assertThat(pubs.get(i).get("data").get("n").asInt()).isEqualTo(i);
        assertThat(pubs.get(i).get("epoch").asText()).isEqualTo(sub.get("epoch").asText());
        assertThat(pubs.get(i).get("ts").asLong()).isPositive();
      }
    }
  }

  @Test
  void malformedJsonGetsAnErrorAndTheConnectionSurvives() {
    try (RawClient c = RawClient.connected(server, "alice")) {
      c.send("{not json");
      JsonNode err = c.awaitType("error");
      assertThat(err.get("error").get("code").asInt()).isEqualTo(107);
      c.send("[1,2,3]");
      assertThat(c.awaitType("error").get("error").get("code").asInt()).isEqualTo(107);
      c.send("{\"type\":\"ping\"}");
      c.awaitType("pong");
      assertThat(
              c.request("{\"type\":\"subscribe\",\"channel\":\"test:after-error\"}").has("result"))
          .isTrue();
    }
  }

  @Test
  void unknownTypeGetsMethodNotFoundAndTheConnectionSurvives() {
    try (RawClient c = RawClient.connected(server, "alice")) {
      JsonNode r = c.request("{\"type\":\"teleport\"}");
      assertThat(r.get("error").get("code").asInt()).isEqualTo(104);
      JsonNode missing = c.request("{\"type\":\"subscribe\"}");
      assertThat(missing.get("error").get("code").asInt()).isEqualTo(107);
      assertThat(c.request("{\"type\":\"subscribe\",\"channel\":\"test:alive\"}").has("result"))
          .isTrue();
    }
  }

  @Test
  void requestBeforeConnectIsRefused() {
    try (RawClient c = RawClient.open(server.wsUri())) {
      assertThat(
              c.request("{\"type\":\"subscribe\",\"channel\":\"test:x\"}")
                  .get("error")
                  .get("code")
                  .asInt())
          .isEqualTo(112);
    }
  }

  @Test
  void badTokenClosesWithUnauthorized() {
    try (RawClient c = RawClient.open(server.wsUri())) {
      JsonNode r = c.request("{\"type\":\"connect\",\"token\":\"not-a-jwt\"}");
      assertThat(r.get("error").get("code").asInt()).isEqualTo(101);
      assertThat(c.awaitClose()).isEqualTo(4500);
    }
  }

  @Test
  void unauthorizedSubscribeIsRefusedWithItsCode() {
    try (RawClient c = RawClient.connected(server, "alice")) {
      assertThat(
              c.request("{\"type\":\"subscribe\",\"channel\":\"user:bob:notifications\"}")
                  .get("error")
                  .get("code")
                  .asInt())
          .isEqualTo(103);
      assertThat(
              c.request("{\"type\":\"subscribe\",\"channel\":\"user:alice:notifications\"}")
                  .has("result"))
          .isTrue();
      assertThat(
              c.request("{\"type\":\"subscribe\",\"channel\":\"nope:1\"}")
                  .get("error")
                  .get("code")
                  .asInt())
          .isEqualTo(102);
      assertThat(
              c.request("{\"type\":\"subscribe\",\"channel\":\"bad channel!\"}")
                  .get("error")
                  .get("code")
                  .asInt())
          .isEqualTo(102);
    }
  }

  @Test
  void oversizeMessageClosesWith1009() {
    try (RawClient c = RawClient.connected(server, "alice")) {
      c.send("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(70_000) + "\"}");
      assertThat(c.awaitClose()).isEqualTo(1009);
    }
  }

  @Test
  void binaryFrameClosesWith1003() {
    try (RawClient c = RawClient.connected(server, "alice")) {
      c.sendBinary(new byte[] {1, 2, 3});
      assertThat(c.awaitClose()).isEqualTo(1003);
    }
  }

  @Test
  void foreignOriginIsRefusedWith403() {
    Throwable t = catchHandshake(Map.of("Origin", "http://evil.example"));
    assertThat(t).isInstanceOf(WebSocketHandshakeException.class);
    assertThat(((WebSocketHandshakeException) t).getResponse().statusCode()).isEqualTo(403);
  }

  @Test
  void sameOriginIsAccepted() {
    try (RawClient c =
        RawClient.open(
            server.wsUri(),
            Map.of("Origin", "http://127.0.0.1:" + server.port()),
            "herald.v1.json")) {
      c.send("{\"type\":\"ping\"}");
      c.awaitType("pong");
    }
  }

  @Test
  void plainGetWithoutUpgradeExplainsTheProblem() {
    var r = server.get("/connection/websocket", Map.of());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("X-Herald-Error")).contains("upgrade-missing");
    assertThat(r.body()).contains("proxy");
  }

  @Test
  void batchedFrameWithTwoRequestsGetsTwoReplies() {
    try (RawClient c = RawClient.connected(server, "alice")) {
      c.send(
          "{\"type\":\"subscribe\",\"id\":7,\"channel\":\"test:b1\"}\n{\"type\":\"subscribe\",\"id\":8,\"channel\":\"test:b2\"}");
      assertThat(c.await(m -> m.path("id").asLong() == 7).has("result")).isTrue();
      assertThat(c.await(m -> m.path("id").asLong() == 8).has("result")).isTrue();
    }
  }

  @Test
  void clientPublishReachesOtherSubscribersWithTheUser() {
    try (RawClient a = RawClient.connected(server, "alice");
        RawClient b = RawClient.connected(server, "bob")) {
      b.request("{\"type\":\"subscribe\",\"channel\":\"test:chat\"}");
      JsonNode r =
          a.request("{\"type\":\"publish\",\"channel\":\"test:chat\",\"data\":{\"text\":\"hi\"}}")
              .get("result");
      JsonNode pub = b.pubs("test:chat", 1).get(0);
      assertThat(pub.get("user").asText()).isEqualTo("alice");
      assertThat(pub.get("offset").asLong()).isEqualTo(r.get("offset").asLong());
      assertThat(pub.get("data").get("text").asText()).isEqualTo("hi");
      assertThat(
              a.request("{\"type\":\"publish\",\"channel\":\"short:x\",\"data\":1}")
                  .get("error")
                  .get("code")
                  .asInt())
          .isEqualTo(108);
    }
  }

  private static Throwable catchHandshake(Map<String, String> headers) {
    var b = HttpClient.newHttpClient().newWebSocketBuilder();
    headers.forEach(b::header);
    try {
      b.buildAsync(server.wsUri(), new java.net.http.WebSocket.Listener() {})
          .orTimeout(15, TimeUnit.SECONDS)
          .join();
    } catch (CompletionException e) {
      return e.getCause();
    }
    throw new AssertionError("handshake succeeded");
  }

  @Test
  void webSocketDisabledRefusesUpgradesCleanly() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("websocket.enabled", "false");
    try (TestServer off = TestServer.start(cfg)) {
      assertThatThrownBy(() -> RawClient.open(off.wsUri()))
          .hasCauseInstanceOf(WebSocketHandshakeException.class)
          .satisfies(
              e ->
                  assertThat(
                          ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode())
                      .isEqualTo(404));
      assertThat(off.publishHttp("test:x", "1").statusCode()).isEqualTo(200);
    }
  }
}
