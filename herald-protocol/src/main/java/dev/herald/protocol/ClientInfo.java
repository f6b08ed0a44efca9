package dev.herald.protocol;

import java.util.Objects;

/**
 * One connection's entry in a channel's presence: the connection id, the user behind it, the info
 * the server attached at connect (for example a display name) and the state the client set for this
 * channel (for example {@code {"editing":"item:7"}}).
 */
public record ClientInfo(String client, String user, RawJson info, RawJson state) {
  public ClientInfo {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(user, "user");
    info = info == null ? RawJson.EMPTY_OBJECT : info;
    state = state == null ? RawJson.EMPTY_OBJECT : state;
  }

  public ClientInfo withState(RawJson newState) {
    return new ClientInfo(client, user, info, newState);
  }
}
