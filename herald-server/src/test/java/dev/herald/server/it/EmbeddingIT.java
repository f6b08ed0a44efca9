package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.ChannelAction;
import dev.herald.core.auth.Principal;
import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.hub.HubConfig;
import dev.herald.server.Herald;
import dev.herald.server.config.HeraldConfig;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** An application embeds Herald with its own cookie authentication and channel rules. */
class EmbeddingIT {

  @Test
  void applicationPlugsInAuthenticationAuthorizationAndRoutes() {
    Map<String, String> sessions = Map.of("s-alice", "alice", "s-bob", "bob");
    HeraldConfig config =
        HeraldConfig.defaults().withPort(0).withHub(HubConfig.defaults().withNode("embedded-1"));
    config =
        new HeraldConfig(
            config.host(),
            0,
            config.allowedOrigins(),
            true,
            config.websocketPath(),
            false,
            List.of(),
            "",
            List.of(),
            false,
            config.hub(),
            List.of(NamespaceSettings.builder("doc").build()),
            config.http());
    Herald herald =
        Herald.builder(config)
            .authenticator(
                req -> {
                  String cookie = req.cookie("SESSION");
                  String user = cookie == null ? null : sessions.get(cookie);
                  return user == null
                      ? CompletableFuture.failedFuture(
                          new AuthenticationException("no session", false))
                      : CompletableFuture.completedFuture(Principal.of(user));
                })
            .authorizer(
                (p, action, channel) ->
                    CompletableFuture.completedFuture(
                        action != ChannelAction.SUBSCRIBE
                            || !channel.value().equals("doc:secret")
                            || p.userId().equals("alice")))
            .routes(
                router ->
                    router
                        .get("/app/hello")
                        .handler(ctx -> ctx.response().end("hello from the app")))
            .build();
    herald.start().join();
    try {
      URI ws = URI.create("ws://127.0.0.1:" + herald.port() + "/connection/websocket");
      try (RawClient alice =
              RawClient.open(ws, Map.of("Cookie", "SESSION=s-alice"), "herald.v1.json");
          RawClient bob =
              RawClient.open(ws, Map.of("Cookie", "theme=dark; SESSION=s-bob"), "herald.v1.json");
          RawClient nobody = RawClient.open(ws, Map.of(), "herald.v1.json")) {
        JsonNode connected = alice.request("{\"type\":\"connect\"}").get("result");
        assertThat(connected.get("user").asText()).isEqualTo("alice");
        assertThat(connected.get("node").asText()).isEqualTo("embedded-1");
        bob.request("{\"type\":\"connect\"}");
        assertThat(nobody.request("{\"type\":\"connect\"}").get("error").get("code").asInt())
            .isEqualTo(101);
        assertThat(nobody.awaitClose()).isEqualTo(4500);

        assertThat(
                alice.request("{\"type\":\"subscribe\",\"channel\":\"doc:secret\"}").has("result"))
            .isTrue();
        assertThat(
                bob.request("{\"type\":\"subscribe\",\"channel\":\"doc:secret\"}")
                    .get("error")
                    .get("code")
                    .asInt())
            .isEqualTo(103);

        herald.publish("doc:secret", "{\"v\":1}").join();
        assertThat(alice.pubs("doc:secret", 1).get(0).get("data").get("v").asInt()).isEqualTo(1);
      }
      var hello =
          java.net.http.HttpClient.newHttpClient()
              .sendAsync(
                  java.net.http.HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + herald.port() + "/app/hello"))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .join();
      assertThat(hello.body()).isEqualTo("hello from the app");
    } finally {
      herald.close();
    }
  }
}
