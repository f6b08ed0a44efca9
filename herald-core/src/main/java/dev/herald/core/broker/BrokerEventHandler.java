package dev.herald.core.broker;

import dev.herald.protocol.ServerMessage.Pub;

/** Receives what the broker delivers to this node. Must not block. */
public interface BrokerEventHandler {
  void onPublication(Pub publication);

  void onPresence(PresenceEvent event);
}
