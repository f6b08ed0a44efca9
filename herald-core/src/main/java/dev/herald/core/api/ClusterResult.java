package dev.herald.core.api;

import java.util.List;
import java.util.Objects;

/**
 * What a cluster-wide call gathered, and from whom. A call made on one node asks every node of the
 * cluster (over the control bus) and waits a bounded time for the answers; a node that does not
 * answer in time is named in {@link #missing} rather than waited for, and {@link #value} then holds
 * what the others answered.
 *
 * @param value the gathered result (e.g. connections, channels, or a count of what was acted on)
 * @param nodes the nodes that answered, this one first
 * @param missing the nodes known to the cluster that did not answer in time (empty when every node
 *     answered)
 * @param <T> the result's type
 */
public record ClusterResult<T>(T value, List<String> nodes, List<String> missing) {
  public ClusterResult {
    Objects.requireNonNull(value, "value");
    nodes = List.copyOf(nodes);
    missing = List.copyOf(missing);
  }

  /** Whether every known node answered. */
  public boolean complete() {
    return missing.isEmpty();
  }
}
