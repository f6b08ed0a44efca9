package dev.herald.core.presence;

import dev.herald.protocol.ClientInfo;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Who is subscribed to which channel, across the cluster. Entries are keyed by connection id, so
 * several tabs of one user are several entries; clients aggregate by user.
 */
public interface PresenceStore {
  /** Adds or replaces a connection's entry. */
  CompletableFuture<Void> put(String channel, ClientInfo client);

  CompletableFuture<Void> remove(String channel, String clientId);

  CompletableFuture<List<ClientInfo>> get(String channel);
}
