package dev.herald.core.presence;

import dev.herald.protocol.ClientInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/** Presence for a single node. */
public final class MemoryPresenceStore implements PresenceStore {
  private final Map<String, Map<String, ClientInfo>> channels = new ConcurrentHashMap<>();

  @Override
  public CompletableFuture<Void> put(String channel, ClientInfo client) {
    channels.compute(
        channel,
        (c, m) -> {
          Map<String, ClientInfo> entries = m == null ? new ConcurrentHashMap<>() : m;
          entries.put(client.client(), client);
          return entries;
        });
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<Void> remove(String channel, String clientId) {
    channels.computeIfPresent(
        channel,
        (c, m) -> {
          m.remove(clientId);
          return m.isEmpty() ? null : m;
        });
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<List<ClientInfo>> get(String channel) {
    Map<String, ClientInfo> m = channels.get(channel);
    return CompletableFuture.completedFuture(m == null ? List.of() : new ArrayList<>(m.values()));
  }
}
