package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.core.api.ClusterResult;
import dev.herald.core.api.NodeInfo;
import dev.herald.redis.RedisServer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two nodes on one real Redis: the server API called on one node acts on connections the other
 * holds and gathers channels, presence and node info from both; a node the cluster lists but that
 * does not answer is named instead of waited for.
 */
class ServerApiClusterIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void callsOnOneNodeActOnAndGatherFromTheOther() throws Exception {
    String prefix = "api" + System.nanoTime();
    try (RedisServer redis = RedisServer.start();
        TestServer a = node(redis, prefix, "api-a");
        TestServer b = node(redis, prefix, "api-b")) {
      awaitCluster(redis, prefix, 2);
      try (RawClient aliceOnB = RawClient.open(b.wsUri());
          RawClient bobOnB = RawClient.connected(b, "bob");
          RawClient carolOnA = RawClient.connected(a, "carol")) {
        String aliceId = connect(aliceOnB, b, "alice");
        subscribe(aliceOnB, "test:doc");
        subscribe(aliceOnB, "test:other");
        subscribe(bobOnB, "test:doc");
        subscribe(carolOnA, "test:doc");

        JsonNode conns = get(a, "/api/v1/connections?user=alice");
        assertThat(names(conns.path("answered"))).containsExactly("api-a", "api-b");
        assertThat(conns.path("missing")).isEmpty();
        assertThat(conns.path("connections")).hasSize(1);
        JsonNode c = conns.path("connections").get(0);
        assertThat(c.path("id").asText()).isEqualTo(aliceId);
        assertThat(c.path("node").asText()).isEqualTo("api-b");
        assertThat(c.path("transport").asText()).isEqualTo("websocket");
        assertThat(names(c.path("channels"))).containsExactly("test:doc", "test:other");

        JsonNode channels = get(a, "/api/v1/channels?prefix=test:");
        assertThat(channels.path("channels").toString())
            .isEqualTo(
                "[{\"name\":\"test:doc\",\"subscribers\":3},"
                    + "{\"name\":\"test:other\",\"subscribers\":1}]");

        JsonNode nodes = get(a, "/api/v1/nodes");
        assertThat(nodes.path("nodes").findValuesAsText("name")).containsExactly("api-a", "api-b");
        assertThat(nodes.path("nodes").get(1).path("connections").asInt()).isEqualTo(2);
        assertThat(nodes.path("nodes").get(1).path("transports").path("websocket").asInt())
            .isEqualTo(2);

        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> get(a, "/api/v1/presence-stats?channel=test:doc").path("users").asInt() == 3);

        JsonNode unsub =
            post(a, "/api/v1/unsubscribe", "{\"user\":\"alice\",\"channel\":\"test:doc\"}");
        assertThat(unsub.path("unsubscribed").asInt()).isEqualTo(1);
        JsonNode ended = aliceOnB.awaitType("unsubscribed");
        assertThat(ended.path("channel").asText()).isEqualTo("test:doc");
        assertThat(ended.path("code").asInt()).isEqualTo(103);
        assertThat(aliceOnB.isClosed()).isFalse();
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    get(a, "/api/v1/presence?channel=test:doc")
                        .path("clients")
                        .findValuesAsText("user")
                        .stream()
                        .sorted()
                        .toList()
                        .equals(List.of("bob", "carol")));

        JsonNode gone = post(a, "/api/v1/disconnect", "{\"connection\":\"" + aliceId + "\"}");
        assertThat(gone.path("disconnected").asInt()).isEqualTo(1);
        assertThat(aliceOnB.awaitClose()).isEqualTo(4501);

        JsonNode bobGone =
            post(a, "/api/v1/disconnect", "{\"user\":\"bob\",\"reconnect\":true,\"reason\":\"r\"}");
        assertThat(bobGone.path("disconnected").asInt()).isEqualTo(1);
        assertThat(bobOnB.awaitClose()).isEqualTo(4007);
        assertThat(carolOnA.isClosed()).isFalse();

        HttpResponse<String> unknown =
            send(a, "POST", "/api/v1/disconnect", "{\"connection\":\"" + aliceId + "\"}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).path("error").path("code").asInt()).isEqualTo(118);
      }
    }
  }

  @Test
  void aListedNodeThatDoesNotAnswerIsNamedAsMissing() throws Exception {
    String prefix = "apim" + System.nanoTime();
    try (RedisServer redis = RedisServer.start();
        TestServer a = node(redis, prefix, "api-a");
        TestServer b = node(redis, prefix, "api-b")) {
      awaitCluster(redis, prefix, 2);
      // A node that registered and then vanished (no control subscription): it stays listed
      // until its entry expires, far in the future here.
      redis.cli(
          "ZADD",
          prefix + ":control:nodes",
          Long.toString(System.currentTimeMillis() + 3_600_000),
          "api-ghost");

      ClusterResult<List<NodeInfo>> r = a.herald().api().nodes().join();

      assertThat(r.missing()).containsExactly("api-ghost");
      assertThat(r.nodes()).containsExactly("api-a", "api-b");
      assertThat(r.value()).extracting(NodeInfo::name).containsExactly("api-a", "api-b");
      JsonNode overHttp = get(b, "/api/v1/nodes");
      assertThat(names(overHttp.path("missing"))).containsExactly("api-ghost");
    }
  }

  // ------------------------------------------------------------------ helpers

  private static TestServer node(RedisServer redis, String prefix, String name) {
    return TestServer.startOnRedis(redis.url(), prefix, name);
  }

  /** Both nodes listen for questions and are listed as answering nodes. */
  private static void awaitCluster(RedisServer redis, String prefix, int nodes) {
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () ->
                redis.cli("PUBSUB", "NUMSUB", prefix + ":control").endsWith("" + nodes)
                    && redis.cli("ZCARD", prefix + ":control:nodes").trim().equals("" + nodes));
  }

  /** Connects as {@code user}; returns the connection id. */
  private static String connect(RawClient c, TestServer server, String user) {
    JsonNode reply = c.request("{\"type\":\"connect\",\"token\":\"" + server.token(user) + "\"}");
    assertThat(reply.path("result").path("client").isTextual()).as("connect %s", reply).isTrue();
    return reply.path("result").path("client").asText();
  }

  private static void subscribe(RawClient c, String channel) {
    JsonNode r = c.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
    assertThat(r.has("result")).as("subscribe reply %s", r).isTrue();
  }

  private static List<String> names(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private JsonNode get(TestServer s, String path) throws Exception {
    HttpResponse<String> r = send(s, "GET", path, null);
    assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private JsonNode post(TestServer s, String path, String body) throws Exception {
    HttpResponse<String> r = send(s, "POST", path, body);
    assertThat(r.statusCode()).as("POST %s: %s", path, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private HttpResponse<String> send(TestServer s, String method, String path, String body)
      throws Exception {
    return ApiRequests.send(s.port(), method, path, body, TestServer.API_KEY);
  }
}
