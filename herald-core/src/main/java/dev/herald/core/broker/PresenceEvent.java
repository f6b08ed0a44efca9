package dev.herald.core.broker;

import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ServerMessage;

/** A join, leave or state change of one connection in one channel. */
public record PresenceEvent(Kind kind, String channel, ClientInfo client) {
  public enum Kind {
    JOIN,
    LEAVE,
    UPDATE
  }

  /** The message subscribers receive for this event. */
  public ServerMessage toMessage() {
    return switch (kind) {
      case JOIN -> new ServerMessage.Join(channel, client);
      case LEAVE -> new ServerMessage.Leave(channel, client);
      case UPDATE -> new ServerMessage.PresenceUpdate(channel, client);
    };
  }
}
