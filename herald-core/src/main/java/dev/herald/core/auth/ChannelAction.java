package dev.herald.core.auth;

/** What a connection wants to do on a channel. */
public enum ChannelAction {
  SUBSCRIBE,
  PUBLISH,
  PRESENCE
}
