package dev.herald.core.api;

import dev.herald.protocol.ClientInfo;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Who is present in a channel, across the cluster: one entry per connection (several tabs of one
 * user are several entries), as subscribers see them in {@code presence} replies.
 *
 * @param channel the channel
 * @param clients the entries, in no particular order
 */
public record PresenceInfo(String channel, List<ClientInfo> clients) {
  public PresenceInfo {
    Objects.requireNonNull(channel, "channel");
    clients = List.copyOf(clients);
  }

  /** The counts of these entries. */
  public PresenceStats stats() {
    Set<String> users = new HashSet<>();
    for (ClientInfo c : clients) {
      users.add(c.user());
    }
    return new PresenceStats(channel, clients.size(), users.size());
  }
}
