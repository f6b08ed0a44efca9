package dev.herald.core.broker;

import dev.herald.protocol.ServerMessage.Pub;

/** Receives what the broker delivers to this node. Must not block. */
public interface BrokerEventHandler {
  void onPublication(Pub publication);

  void onPresence(PresenceEvent event);

  /**
   * The channel's stream can no longer be continued for this node's subscribers: its epoch changed
   * (history lost, e.g. the broker's store restarted empty) or publications this node missed while
   * cut off from the broker are no longer in history. Subscribers must start again from their last
   * position, which tells each of them whether it recovered or must refetch. Publications that
   * continue the stream are delivered with {@link #onPublication} instead, never dropped.
   */
  default void onStreamReset(String channel) {}
}
