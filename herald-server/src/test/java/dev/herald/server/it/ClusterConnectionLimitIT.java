package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.protocol.CloseCode;
import dev.herald.redis.RedisServer;
import dev.herald.server.it.HeraldCluster.Node;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code limits.connections-per-user} across two nodes (separate JVMs) on one Redis: the limit is
 * the user's in the whole cluster, and the connections of a node killed with {@code kill -9} stop
 * counting once its entries expire ({@code redis.presence-ttl}). A live node keeps its entries by
 * refreshing them every third of that TTL, so the TTL is long enough here for a stalled test JVM on
 * a busy machine not to lose them: 30 s where nothing has to expire, 5 s where a node is killed.
 */
class ClusterConnectionLimitIT {
  private static final Duration LONG = Duration.ofSeconds(120);
  private final List<RawClient> clients = new ArrayList<>();
  private RedisServer redis;
  private HeraldCluster cluster;

  @AfterEach
  void stop() {
    clients.forEach(RawClient::abort);
    if (cluster != null) {
      cluster.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  private HeraldCluster start(String presenceTtl) throws Exception {
    redis = RedisServer.start();
    cluster =
        new HeraldCluster(
                redis.url(),
                2,
                Map.of("limits.connections-per-user", "2", "redis.presence-ttl", presenceTtl))
            .start();
    return cluster;
  }

  @Test
  void theLimitReachedOnOneNodeRefusesTheUserOnTheOtherWith106And4008() throws Exception {
    start("30s");
    Node a = cluster.node(0);
    Node b = cluster.node(1);
    RawClient first = connected(a, "alice");
    connected(a, "alice");

    RawClient refused = open(b);
    JsonNode reply = refused.request(connect("alice"));
    assertThat(reply.path("error").path("code").asInt()).as("reply %s", reply).isEqualTo(106);
    assertThat(reply.path("error").path("message").asText()).contains("2 connections");
    assertThat(refused.awaitClose()).isEqualTo(CloseCode.CONNECTION_LIMIT.code());
    connected(b, "bob"); // other users are not affected

    first.close();
    await().atMost(LONG).ignoreExceptions().until(() -> tryConnect(b, "alice"));
    RawClient again = open(a);
    assertThat(again.request(connect("alice")).path("error").path("code").asInt()).isEqualTo(106);
  }

  @Test
  void aKilledNodesConnectionsStopCountingAfterItsTtl() throws Exception {
    start("5s");
    Node a = cluster.node(0);
    Node b = cluster.node(1);
    connected(a, "alice");
    connected(a, "alice");
    RawClient refused = open(b);
    assertThat(refused.request(connect("alice")).path("error").path("code").asInt()).isEqualTo(106);

    cluster.kill(a);

    await()
        .atMost(LONG)
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .until(() -> tryConnect(b, "alice"));
    connected(b, "alice");
    RawClient third = open(b);
    assertThat(third.request(connect("alice")).path("error").path("code").asInt())
        .as("the limit still holds on the surviving node")
        .isEqualTo(106);
  }

  private RawClient open(Node n) {
    RawClient c = RawClient.open(n.wsUri());
    clients.add(c);
    return c;
  }

  private String connect(String user) {
    return "{\"type\":\"connect\",\"token\":\"" + cluster.token(user) + "\"}";
  }

  private RawClient connected(Node n, String user) {
    RawClient c = open(n);
    JsonNode reply = c.request(connect(user));
    assertThat(reply.has("result")).as("connect reply %s", reply).isTrue();
    return c;
  }

  /** One connect attempt; true when admitted (the connection then stays open). */
  private boolean tryConnect(Node n, String user) {
    return open(n).request(connect(user)).has("result");
  }
}
