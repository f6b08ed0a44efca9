package dev.herald.core.api;

import java.util.Objects;

/**
 * How many are present in a channel, across the cluster.
 *
 * @param channel the channel
 * @param connections presence entries (connections)
 * @param users distinct users among them
 */
public record PresenceStats(String channel, int connections, int users) {
  public PresenceStats {
    Objects.requireNonNull(channel, "channel");
  }
}
