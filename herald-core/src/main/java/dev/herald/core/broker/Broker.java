package dev.herald.core.broker;

import dev.herald.protocol.RawJson;
import dev.herald.protocol.StreamPosition;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Moves publications and presence events between the nodes of a cluster and keeps each channel's
 * stream (epoch, offsets, bounded history). One instance per node.
 *
 * <p>Contract every implementation keeps:
 *
 * <ul>
 *   <li><b>Ordering.</b> For one channel, assigning the offset, appending to history and handing
 *       the publication to {@link BrokerEventHandler#onPublication} on every subscribed node happen
 *       in offset order: no node sees offset n+1 before n.
 *   <li><b>No gaps within an epoch.</b> Offsets grow by exactly 1. If a stream loses its history or
 *       its offset counter (expiry, data loss), it starts over with a new epoch.
 *   <li><b>Subscribe before read.</b> Once {@link #subscribe} completes, every later publication in
 *       the channel reaches this node's handler; so a caller that subscribes, then reads {@link
 *       #history}, misses nothing in between (it may see some publications twice, once from each,
 *       and de-duplicates by offset).
 *   <li>Handlers are invoked without the caller's locks held, never concurrently for one channel,
 *       and must not block.
 * </ul>
 */
public interface Broker extends AutoCloseable {

  /** Starts delivering events to {@code handler}. Called once, before anything else. */
  void start(BrokerEventHandler handler);

  /**
   * Publishes to a channel: assigns the next offset, keeps it in history within {@code history}
   * limits and delivers it to every node subscribed to the channel.
   *
   * @param user the publishing client's user id, or null for server-side publishes
   * @return the publication's position
   */
  default CompletableFuture<StreamPosition> publish(
      String channel, RawJson data, String user, HistoryPolicy history) {
    return publish(channel, data, user, history, null);
  }

  /**
   * Publishes as {@link #publish(String, RawJson, String, HistoryPolicy)} does, at most once per
   * key: a publish with a key this channel saw within the key's window answers the first
   * publication's position and publishes nothing. Checking the key, publishing and remembering the
   * key are one atomic step per channel, so two concurrent publishes with one key make one
   * publication.
   *
   * @param once the publication's idempotency key, or null for none
   */
  CompletableFuture<StreamPosition> publish(
      String channel,
      RawJson data,
      @Nullable String user,
      HistoryPolicy history,
      @Nullable IdempotencyKey once);

  /** Delivers a presence event to every node subscribed to the channel (not kept in history). */
  CompletableFuture<Void> publishPresence(PresenceEvent event);

  /**
   * Starts receiving the channel's events on this node. Idempotent per channel. While any node
   * subscribes to a channel, its stream (epoch and offset) is kept however quiet it is: {@code
   * history}'s stream TTL runs only once no node subscribes.
   */
  CompletableFuture<Void> subscribe(String channel, HistoryPolicy history);

  /** Stops receiving the channel's events on this node. */
  CompletableFuture<Void> unsubscribe(String channel);

  /**
   * Reads the channel's current position and the retained publications with offset greater than
   * {@code afterOffset}, oldest first. Creates the stream (with a new epoch) if it does not exist,
   * so the returned position is one later publications will continue.
   */
  CompletableFuture<HistoryResult> history(String channel, long afterOffset, HistoryPolicy history);

  @Override
  void close();

  /**
   * Whether the broker can currently do its job (e.g. its connection to Redis is up). Used for the
   * readiness endpoint and the broker health metric; the in-process broker is always healthy.
   */
  default boolean healthy() {
    return true;
  }
}
