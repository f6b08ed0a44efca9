package dev.herald.core.broker;

import dev.herald.core.channel.NamespaceSettings;

/**
 * History limits for one channel, taken from its namespace.
 *
 * @param size publications to keep (0 keeps none)
 * @param ttlMillis age after which a publication leaves history
 * @param streamTtlMillis how long the stream's epoch and offset outlive its last publication
 */
public record HistoryPolicy(int size, long ttlMillis, long streamTtlMillis) {
  public static HistoryPolicy of(NamespaceSettings ns) {
    return new HistoryPolicy(
        ns.historySize(), ns.historyTtl().toMillis(), ns.streamTtl().toMillis());
  }
}
