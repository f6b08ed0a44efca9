package dev.herald.redis;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How a node uses Redis.
 *
 * @param url connection string, e.g. {@code redis://127.0.0.1:6379} or {@code
 *     redis://:password@host:6379/0}; not used in Sentinel and Redis Cluster modes
 * @param prefix prefix of every key and pub/sub channel, so several clusters can share one Redis
 * @param node this node's name, unique in the cluster (presence entries and routed HTTP sessions
 *     are keyed by it)
 * @param presenceTtl how long a node's presence entries outlive its last heartbeat; a node that
 *     dies without cleaning up loses its entries within this time
 * @param reconnectMin first delay before reconnecting after the connection to Redis is lost
 * @param reconnectMax cap of the exponential reconnect delay (each delay is jittered)
 * @param sentinels Sentinel mode: the URLs of the sentinels to ask for the current master (e.g.
 *     {@code redis://10.0.0.7:26379}); empty for a single Redis at {@code url}
 * @param masterName Sentinel mode: the name the sentinels monitor the master under
 * @param clusterNodes Redis Cluster mode: URLs of some or all of the cluster's nodes (e.g. {@code
 *     redis://10.0.0.7:7000}), asked for the cluster's masters; empty when not a cluster
 */
public record RedisSettings(
    String url,
    String prefix,
    String node,
    Duration presenceTtl,
    Duration reconnectMin,
    Duration reconnectMax,
    List<String> sentinels,
    String masterName,
    List<String> clusterNodes) {

  public static final String DEFAULT_URL = "redis://127.0.0.1:6379";
  public static final String DEFAULT_PREFIX = "herald";

  public RedisSettings {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(prefix, "prefix");
    Objects.requireNonNull(node, "node");
    sentinels = List.copyOf(sentinels);
    Objects.requireNonNull(masterName, "masterName");
    if (!sentinels.isEmpty() && masterName.isEmpty()) {
      throw new IllegalArgumentException("Sentinel mode needs the master's name");
    }
    clusterNodes = List.copyOf(clusterNodes);
    if (!sentinels.isEmpty() && !clusterNodes.isEmpty()) {
      throw new IllegalArgumentException("Sentinel mode and Redis Cluster mode exclude each other");
    }
    if (prefix.contains("{") || prefix.contains("}")) {
      // A hash tag in the prefix would put every key in one slot of a Redis Cluster.
      throw new IllegalArgumentException("the prefix must not contain { or }");
    }
    if (presenceTtl.toMillis() < 1000) {
      throw new IllegalArgumentException("presence TTL must be at least 1s");
    }
    if (reconnectMin.toMillis() < 1 || reconnectMax.compareTo(reconnectMin) < 0) {
      throw new IllegalArgumentException("reconnect delays must be positive and min <= max");
    }
  }

  /** A single Redis at {@code url} (no Sentinel). */
  public RedisSettings(
      String url,
      String prefix,
      String node,
      Duration presenceTtl,
      Duration reconnectMin,
      Duration reconnectMax) {
    this(url, prefix, node, presenceTtl, reconnectMin, reconnectMax, List.of(), "", List.of());
  }

  /** A single Redis at {@code url}, or the master found through {@code sentinels}. */
  public RedisSettings(
      String url,
      String prefix,
      String node,
      Duration presenceTtl,
      Duration reconnectMin,
      Duration reconnectMax,
      List<String> sentinels,
      String masterName) {
    this(
        url,
        prefix,
        node,
        presenceTtl,
        reconnectMin,
        reconnectMax,
        sentinels,
        masterName,
        List.of());
  }

  /** Defaults for a node: local Redis, prefix "herald", 30 s presence TTL, 100 ms..5 s backoff. */
  public static RedisSettings of(String url, String node) {
    return new RedisSettings(
        url,
        DEFAULT_PREFIX,
        node,
        Duration.ofSeconds(30),
        Duration.ofMillis(100),
        Duration.ofSeconds(5));
  }

  public RedisSettings withPrefix(String p) {
    return new RedisSettings(
        url, p, node, presenceTtl, reconnectMin, reconnectMax, sentinels, masterName, clusterNodes);
  }

  public RedisSettings withPresenceTtl(Duration ttl) {
    return new RedisSettings(
        url, prefix, node, ttl, reconnectMin, reconnectMax, sentinels, masterName, clusterNodes);
  }

  /**
   * Sentinel mode: the master is the one these sentinels name {@code masterName}, asked again on
   * every (re)connect, so a node follows a failover.
   */
  public RedisSettings withSentinels(List<String> urls, String master) {
    return new RedisSettings(
        url, prefix, node, presenceTtl, reconnectMin, reconnectMax, urls, master);
  }

  /**
   * Redis Cluster mode: channels are spread over the cluster's masters by hash slot; {@code nodes}
   * are some or all of its nodes, asked for the masters on start and whenever they may have
   * changed.
   */
  public RedisSettings withClusterNodes(List<String> nodes) {
    return new RedisSettings(
        url, prefix, node, presenceTtl, reconnectMin, reconnectMax, List.of(), "", nodes);
  }

  /** Whether Redis is a Redis Cluster. */
  public boolean cluster() {
    return !clusterNodes.isEmpty();
  }

  /** The same settings for one server of a cluster, at {@code serverUrl}. */
  RedisSettings forServer(String serverUrl) {
    return new RedisSettings(serverUrl, prefix, node, presenceTtl, reconnectMin, reconnectMax);
  }

  /** Whether the master is found through Sentinel. */
  public boolean sentinel() {
    return !sentinels.isEmpty();
  }

  /** Key of one channel's item; the channel is a hash tag so a channel's keys share a slot. */
  String key(String channel, String suffix) {
    return prefix + ":{" + channel + "}:" + suffix;
  }

  /** The pub/sub channel carrying a channel's publications and presence events. */
  String topic(String channel) {
    return prefix + ":ch:" + channel;
  }
}
