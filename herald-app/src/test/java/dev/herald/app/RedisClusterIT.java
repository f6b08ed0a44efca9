package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.TestApp;
import dev.herald.redis.RedisServer;
import dev.herald.server.it.RawClient;
import dev.herald.server.it.TestServer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The app on the Redis broker: its outbox relay publishes through the cluster, so a client on
 * another Herald node of the same cluster receives the app's events, the app's readiness reports
 * the broker, and the admin console sees and acts on both nodes.
 */
class RedisClusterIT {
  private static RedisServer redis;
  private static TestApp app;
  private static TestServer otherNode;

  @BeforeAll
  static void start() {
    redis = RedisServer.start();
    String prefix = "app" + System.nanoTime();
    Map<String, String> appConfig = new HashMap<>(TestApp.config(TestApp.Db.H2));
    appConfig.put("node.name", "app-1");
    appConfig.put("broker.type", "redis");
    appConfig.put("redis.url", redis.url());
    appConfig.put("redis.prefix", prefix);
    app =
        TestApp.start(
            TestApp.Db.H2, appConfig, dev.herald.app.projects.ContentPublisher.alwaysSucceeds());
    Map<String, String> node = new HashMap<>(TestServer.baseConfig());
    node.keySet().removeIf(k -> k.startsWith("namespace."));
    node.put("node.name", "plain-2");
    node.put("namespaces", "project,user,admin");
    node.put("broker.type", "redis");
    node.put("redis.url", redis.url());
    node.put("redis.prefix", prefix);
    otherNode = TestServer.start(node);
  }

  @AfterAll
  static void stop() {
    if (otherNode != null) {
      otherNode.close();
    }
    if (app != null) {
      app.close();
    }
    redis.close();
  }

  @Test
  void outboxEventsReachClientsOnOtherNodesThroughRedis() {
    ApiClient alice = app.login("alice");
    long p =
        alice
            .post("/api/projects", "{\"name\":\"Clustered\",\"members\":[]}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    try (RawClient ws = RawClient.open(otherNode.wsUri(), Map.of(), "herald.v1.json")) {
      JsonNode c =
          ws.request("{\"type\":\"connect\",\"token\":\"" + otherNode.token("watcher") + "\"}");
      assertThat(c.path("result").path("node").asText()).isEqualTo("plain-2");
      assertThat(
              ws.request("{\"type\":\"subscribe\",\"channel\":\"project:" + p + "\"}")
                  .has("result"))
          .isTrue();
      alice
          .post("/api/projects/" + p + "/activities", "{\"message\":\"from the other node\"}")
          .expect(201);
      JsonNode pub =
          ws.await(
              m ->
                  m.path("type").asText().equals("pub")
                      && m.path("data").path("type").asText().equals("activity"));
      assertThat(pub.path("data").path("data").path("message").asText())
          .isEqualTo("from the other node");
    }
    assertThat(alice.get("/health/ready").status()).isEqualTo(200);
  }

  /**
   * The admin console, served by the app ({@code app-1}), lists a user's connections on both nodes
   * with the app's channel names, disconnects the one the other node holds, and lists both nodes.
   */
  @Test
  void theConsoleListsAndDisconnectsConnectionsOnEveryNode() {
    ApiClient alice = app.login("alice");
    long p =
        alice
            .post("/api/projects", "{\"name\":\"Clustered campaign\",\"members\":[]}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    try (RawClient here =
            RawClient.open(
                app.wsUri(),
                Map.of("Cookie", "herald_session=" + alice.sessionCookie()),
                "herald.v1.json");
        RawClient there = RawClient.open(otherNode.wsUri(), Map.of(), "herald.v1.json")) {
      String hereId = here.request("{\"type\":\"connect\"}").path("result").path("client").asText();
      JsonNode c =
          there.request("{\"type\":\"connect\",\"token\":\"" + otherNode.token("alice") + "\"}");
      assertThat(c.path("result").path("node").asText()).isEqualTo("plain-2");
      String thereId = c.path("result").path("client").asText();
      assertThat(
              there
                  .request("{\"type\":\"subscribe\",\"channel\":\"project:" + p + "\"}")
                  .has("result"))
          .isTrue();

      ApiClient carol = app.login("carol");
      JsonNode found = carol.get("/api/admin/users/alice/connections").expect(200).json();
      assertThat(found.path("missingNodes")).isEmpty();
      Map<String, JsonNode> byId = new HashMap<>();
      found.path("connections").forEach(x -> byId.put(x.path("id").asText(), x));
      assertThat(byId.keySet()).containsExactlyInAnyOrder(hereId, thereId);
      assertThat(byId.get(hereId).path("node").asText()).isEqualTo("app-1");
      assertThat(byId.get(thereId).path("node").asText()).isEqualTo("plain-2");
      // The other node's channel, named by the app.
      assertThat(byId.get(thereId).path("channels").get(0).path("label").asText())
          .isEqualTo("Clustered campaign");

      JsonNode nodes = carol.get("/api/admin/nodes").expect(200).json();
      List<String> names = new ArrayList<>();
      nodes.path("nodes").forEach(n -> names.add(n.path("name").asText()));
      assertThat(names).containsExactlyInAnyOrder("app-1", "plain-2");
      JsonNode stats = carol.get("/api/admin/stats").expect(200).json();
      List<String> statNodes = new ArrayList<>();
      stats.path("nodes").forEach(n -> statNodes.add(n.path("name").asText()));
      assertThat(statNodes).containsExactlyInAnyOrder("app-1", "plain-2");

      // Disconnecting from the console of app-1 closes the connection plain-2 holds.
      JsonNode r =
          carol.post("/api/admin/connections/" + thereId + "/disconnect", "{}").expect(200).json();
      assertThat(r.path("node").asText()).isEqualTo("plain-2");
      assertThat(there.awaitClose()).isEqualTo(4007);
      assertThat(here.isClosed()).isFalse();
    }
  }
}
