package dev.herald.client;

import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ServerMessage.ErrorInfo;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.SubscribeResult;

/**
 * Receives what happens on one subscribed channel. Only {@link #onPublication} must be implemented.
 * Callbacks run on the client's event thread, in the order the server sent the messages, and must
 * not block.
 */
@FunctionalInterface
public interface SubscriptionHandler {
  /**
   * A publication, in stream order, without gaps or duplicates: recovered ones after a reconnect
   * come first, then live ones. {@code pub.data().json()} is the published JSON text; {@code
   * pub.recovered()} is true for publications replayed by recovery (the {@code missed} ones of the
   * preceding {@link #onSubscribed}) and false for live ones.
   */
  void onPublication(Pub pub);

  /**
   * The subscription is live: initially, and again after every resubscribe (reconnect, gap repair)
   * whose recovery worked or was not needed. When {@code result.recovered()} is true, {@code
   * result.missed()} recovered publications follow.
   */
  default void onSubscribed(SubscribeResult result) {}

  /**
   * The subscription is live again, but publications were missed and cannot be recovered (history
   * trimmed, stream reset): the application must reload its state from the source of truth. Called
   * instead of {@link #onSubscribed}. Publications after {@code result.offset()} follow.
   */
  default void onStateLost(SubscribeResult result) {}

  /** A connection joined the channel (namespaces with join/leave events only). */
  default void onJoin(ClientInfo client) {}

  /** A connection left the channel (namespaces with join/leave events only). */
  default void onLeave(ClientInfo client) {}

  /** A present connection changed its presence state. */
  default void onPresenceUpdate(ClientInfo client) {}

  /**
   * The server refused the subscription. For permanent refusals (unknown channel, permission
   * denied, limits, bad request) the subscription ends in {@link SubscriptionState#FAILED}; for
   * transient ones (internal error or unknown code, too many requests, already subscribed) the
   * client retries after a backoff delay. Also called when the server ends a live subscription on
   * its own (an {@code unsubscribed} message, e.g. {@code 103} when the user lost access): the
   * subscription then ends in {@link SubscriptionState#FAILED} and is not resubscribed.
   */
  default void onError(ErrorInfo error) {}
}
