package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.TestApp;
import dev.herald.redis.RedisServer;
import dev.herald.server.it.RawClient;
import dev.herald.server.it.TestServer;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The app on the Redis broker: its outbox relay publishes through the cluster, so a client on
 * another Herald node of the same cluster receives the app's events, and the app's readiness
 * reports the broker.
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
}
