package dev.herald.core.api;

import java.util.Objects;

/**
 * A channel with subscribers somewhere in the cluster.
 *
 * @param name the channel name
 * @param subscribers live subscriptions to it, summed over the nodes that answered (several tabs of
 *     one user count several times)
 */
public record ChannelInfo(String name, int subscribers) {
  public ChannelInfo {
    Objects.requireNonNull(name, "name");
  }
}
