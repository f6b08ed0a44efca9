package dev.herald.client;

import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.StreamPosition;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * A subscription to one channel, made by {@link HeraldClient#subscribe}. It survives reconnects:
 * the client re-subscribes with the last position and recovers what was missed. Thread-safe.
 */
public interface Subscription {
  String channel();

  SubscriptionState state();

  /**
   * The position of the last publication delivered (or, before any, the stream position when the
   * subscription went live); null before the first subscribe reply unless a starting position was
   * given. Store it to resume later with {@link HeraldClient#subscribe(String, StreamPosition,
   * SubscriptionHandler)}.
   */
  @Nullable StreamPosition position();

  /**
   * Everyone subscribed to the channel, one entry per connection. Needs presence enabled on the
   * namespace. Fails with {@link HeraldException} when the server refuses or the connection drops.
   */
  CompletableFuture<List<ClientInfo>> presence();

  /**
   * Sets this connection's presence state in the channel ({@code json} must be a JSON object). The
   * client remembers it and sets it again after every resubscribe.
   *
   * @throws IllegalArgumentException if {@code json} is not a valid JSON object
   */
  CompletableFuture<Void> setPresenceState(String json);

  /**
   * Ends the subscription. The handler gets no callback once this returns (one already running on
   * the event thread finishes). The future completes when the server confirmed, or at once when
   * there is nothing to tell the server. Unsubscribing twice is harmless; the channel can be
   * subscribed to again right away.
   */
  CompletableFuture<Void> unsubscribe();
}
