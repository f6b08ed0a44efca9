package dev.herald.core.api;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One node of the cluster as it sees itself.
 *
 * @param name the node's name ({@code hub.node})
 * @param started when its hub was built
 * @param connections connected (authenticated) connections
 * @param users distinct users among them
 * @param subscriptions live subscriptions over all its connections
 * @param channels channels with at least one subscriber on this node
 * @param transports open connections by transport name ({@code websocket}, {@code sse}, {@code
 *     long-polling})
 * @param publications publications the node received from the broker since it started
 * @param accepting false once the node has begun shutting down (draining)
 * @param brokerHealthy whether its broker reports itself healthy (connected to Redis)
 */
public record NodeInfo(
    String name,
    Instant started,
    int connections,
    int users,
    int subscriptions,
    int channels,
    Map<String, Integer> transports,
    long publications,
    boolean accepting,
    boolean brokerHealthy) {
  public NodeInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(started, "started");
    transports = Map.copyOf(transports);
  }
}
