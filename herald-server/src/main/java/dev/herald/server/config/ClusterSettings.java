package dev.herald.server.config;

import java.time.Duration;
import java.util.List;

/**
 * How this node shares channels with other nodes.
 *
 * @param brokerType {@code memory} (one node, the default) or {@code redis} (a cluster of nodes
 *     sharing one Redis)
 * @param redisUrl Redis connection string, e.g. {@code redis://127.0.0.1:6379}
 * @param redisPrefix prefix of every Redis key and pub/sub channel
 * @param presenceTtl how long presence entries of a node outlive its last heartbeat
 * @param reconnectMin first delay before reconnecting to Redis
 * @param reconnectMax cap of the (jittered, exponential) reconnect delay
 * @param routeTimeout how long a node waits for the owner of an HTTP session to answer a request
 *     routed to it
 * @param advertiseUrl where the other nodes reach this node's HTTP port (empty: {@code
 *     http://<server.host>:<port>})
 * @param redisMode "standalone" (one Redis at {@code redisUrl}), "sentinel" (the master named
 *     {@code masterName} by {@code sentinels}, followed through failovers) or "cluster" (a Redis
 *     Cluster reached through {@code clusterNodes})
 * @param sentinels Sentinel mode: URLs of the sentinels
 * @param masterName Sentinel mode: the name the sentinels monitor the master under
 * @param clusterNodes Redis Cluster mode: URLs of some or all of the cluster's nodes
 */
public record ClusterSettings(
    String brokerType,
    String redisUrl,
    String redisPrefix,
    Duration presenceTtl,
    Duration reconnectMin,
    Duration reconnectMax,
    Duration routeTimeout,
    String advertiseUrl,
    String redisMode,
    List<String> sentinels,
    String masterName,
    List<String> clusterNodes) {

  public ClusterSettings {
    sentinels = List.copyOf(sentinels);
    clusterNodes = List.copyOf(clusterNodes);
  }

  public static ClusterSettings defaults() {
    return new ClusterSettings(
        "memory",
        "redis://127.0.0.1:6379",
        "herald",
        Duration.ofSeconds(30),
        Duration.ofMillis(100),
        Duration.ofSeconds(5),
        Duration.ofSeconds(5),
        "",
        "standalone",
        List.of(),
        "",
        List.of());
  }

  /** Whether nodes share channels through Redis. */
  public boolean redis() {
    return "redis".equals(brokerType);
  }

  public ClusterSettings withRedis(String url, String prefix) {
    return new ClusterSettings(
        "redis",
        url,
        prefix,
        presenceTtl,
        reconnectMin,
        reconnectMax,
        routeTimeout,
        advertiseUrl,
        redisMode,
        sentinels,
        masterName,
        clusterNodes);
  }

  /** Whether Redis is a Redis Cluster. */
  public boolean redisCluster() {
    return "cluster".equals(redisMode);
  }

  /** Whether the Redis master is found through Sentinel. */
  public boolean sentinel() {
    return "sentinel".equals(redisMode);
  }
}
