package dev.herald.server.it.attack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.core.auth.ChannelAction;
import dev.herald.server.Herald;
import dev.herald.server.config.ConfigLoader;
import dev.herald.server.it.HttpTransportClient;
import dev.herald.server.it.HttpTransportClient.Kind;
import dev.herald.server.it.HttpTransportClient.OpenRefused;
import dev.herald.server.it.RawClient;
import dev.herald.server.it.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Getting in where one does not belong: cross-site handshakes on every transport, subscribing
 * without or with bad credentials, another user's personal channel, publishing where clients may
 * not, and oversize HTTP bodies on every endpoint. Each is refused with its documented code while a
 * bystander keeps receiving.
 */
class AccessAttackIT {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  private static final Map<String, String> EVIL = Map.of("Origin", "https://evil.example");

  @Test
  void crossSiteHandshakeIsRefusedOnEveryTransport() {
    try (Bystander bystander = Bystander.start(server)) {
      Throwable t =
          catchHandshake(
              HttpClient.newHttpClient()
                  .newWebSocketBuilder()
                  .header("Origin", "https://evil.example")
                  .subprotocols("herald.v1.json"));
      assertThat(t).isInstanceOf(WebSocketHandshakeException.class);
      HttpResponse<?> res = ((WebSocketHandshakeException) t).getResponse();
      assertThat(res.statusCode()).isEqualTo(403);
      assertThat(res.headers().firstValue("X-Herald-Error")).contains("origin-not-allowed");
      for (Kind kind : Kind.values()) {
        assertThatThrownBy(() -> HttpTransportClient.open(server.baseUrl(), kind, EVIL).close())
            .isInstanceOfSatisfying(
                OpenRefused.class,
                e -> {
                  assertThat(e.status).isEqualTo(403);
                  assertThat(e.error).isEqualTo("origin-not-allowed");
                });
      }
      // "null" origins (sandboxed iframes, file://) are cross-site too.
      assertThatThrownBy(
              () ->
                  HttpTransportClient.open(
                          server.baseUrl(), Kind.LONG_POLLING, Map.of("Origin", "null"))
                      .close())
          .isInstanceOf(OpenRefused.class);
      bystander.assertEverythingArrived();
    }
  }

  private static Throwable catchHandshake(WebSocket.Builder b) {
    try {
      b.buildAsync(server.wsUri(), new WebSocket.Listener() {})
          .orTimeout(15, TimeUnit.SECONDS)
          .join()
          .abort();
      throw new AssertionError("handshake succeeded");
    } catch (CompletionException e) {
      return e.getCause();
    }
  }

  @Test
  void unauthenticatedClientsCannotSubscribe() {
    try (Bystander bystander = Bystander.start(server);
        RawClient anonymous = RawClient.open(server.wsUri());
        RawClient forged = RawClient.open(server.wsUri())) {
      JsonNode early =
          anonymous.request("{\"type\":\"subscribe\",\"channel\":\"" + "test:secret" + "\"}");
      assertThat(early.path("error").path("code").asInt()).isEqualTo(112);

      String token = server.token("alice");
      String tampered = token.substring(0, token.length() - 4) + "AAAA";
      JsonNode reply = forged.request("{\"type\":\"connect\",\"token\":\"" + tampered + "\"}");
      assertThat(reply.path("error").path("code").asInt()).isEqualTo(101);
      assertThat(forged.awaitClose()).isEqualTo(4500);
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void aUserCannotSubscribeToAnotherUsersChannelOrPublishWhereClientsMayNot() {
    try (Bystander bystander = Bystander.start(server);
        RawClient mallory = RawClient.connected(server, "mallory")) {
      JsonNode other =
          mallory.request("{\"type\":\"subscribe\",\"channel\":\"user:alice:notifications\"}");
      assertThat(other.path("error").path("code").asInt()).isEqualTo(103);
      JsonNode publish =
          mallory.request(
              "{\"type\":\"publish\",\"channel\":\"user:alice:notifications\",\"data\":{}}");
      assertThat(publish.path("error").path("code").asInt()).isEqualTo(108);
      JsonNode unknown = mallory.request("{\"type\":\"subscribe\",\"channel\":\"admin:all\"}");
      assertThat(unknown.path("error").path("code").asInt()).isEqualTo(102);
      JsonNode own =
          mallory.request("{\"type\":\"subscribe\",\"channel\":\"user:mallory:notifications\"}");
      assertThat(own.has("result")).isTrue();
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void presenceIsAuthorizedForSettingStateAsForReadingIt() {
    Herald h =
        Herald.builder(ConfigLoader.fromMap(TestServer.baseConfig(), Map.of()))
            .authorizer(
                (p, action, channel) ->
                    CompletableFuture.completedFuture(
                        !(action == ChannelAction.PRESENCE && p.userId().equals("mallory"))))
            .build();
    h.start().join();
    try (TestServer s = TestServer.of(h);
        Bystander bystander = Bystander.start(s);
        RawClient alice = RawClient.connected(s, "alice");
        RawClient mallory = RawClient.connected(s, "mallory")) {
      for (RawClient c : new RawClient[] {alice, mallory}) {
        assertThat(c.request("{\"type\":\"subscribe\",\"channel\":\"test:room\"}").has("result"))
            .isTrue();
      }
      JsonNode set =
          mallory.request(
              "{\"type\":\"presence_set\",\"channel\":\"test:room\",\"state\":{\"role\":\"admin\"}}");
      assertThat(set.path("error").path("code").asInt()).isEqualTo(103);
      JsonNode read = mallory.request("{\"type\":\"presence\",\"channel\":\"test:room\"}");
      assertThat(read.path("error").path("code").asInt()).isEqualTo(103);
      // Nobody was told of a state change, and the list shows none.
      JsonNode list = alice.request("{\"type\":\"presence\",\"channel\":\"test:room\"}");
      assertThat(list.toString()).doesNotContain("admin");
      assertThat(alice.takeReceived(m -> m.path("type").asText().equals("presence_update")))
          .isEmpty();
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void subscribingToManyChannelsOnOneConnectionIsRefusedWith106() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("limits.subscriptions-per-connection", "10");
    try (TestServer srv = TestServer.start(cfg);
        Bystander bystander = Bystander.start(srv);
        RawClient attacker = RawClient.connected(srv, "mallory")) {
      List<Integer> refused = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        JsonNode r =
            attacker.request("{\"type\":\"subscribe\",\"channel\":\"test:flood-" + i + "\"}");
        if (!r.has("result")) {
          refused.add(r.path("error").path("code").asInt());
        }
      }
      assertThat(refused).hasSize(30).containsOnly(106);
      // Refused subscribes do not end the connection.
      attacker.send("{\"type\":\"ping\"}");
      assertThat(attacker.awaitType("pong")).isNotNull();
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void oversizeHttpBodiesAreRefusedWith413OnEveryEndpoint() {
    try (Bystander bystander = Bystander.start(server)) {
      String big = "{\"channel\":\"test:x\",\"data\":\"" + "x".repeat(300_000) + "\"}";
      HttpResponse<String> publish =
          server.post("/api/v1/publish", big, "Bearer " + TestServer.API_KEY, "application/json");
      assertThat(publish.statusCode()).isEqualTo(413);
      assertThat(publish.body()).contains("114");
      for (String path : new String[] {"/connection/report", "/connection/lag"}) {
        HttpResponse<String> r = server.post(path, big, null, "application/json");
        assertThat(r.statusCode()).as(path).isEqualTo(413);
        assertThat(r.body()).as(path).isNotBlank();
      }
      try (HttpTransportClient poll = HttpTransportClient.open(server, Kind.LONG_POLLING)) {
        HttpResponse<String> send =
            server.post("/connection/send/" + poll.session(), big, null, "text/plain");
        assertThat(send.statusCode()).isEqualTo(413);
        assertThat(send.headers().firstValue("X-Herald-Error")).contains("message-too-big");
      }
      bystander.assertEverythingArrived();
    }
  }
}
