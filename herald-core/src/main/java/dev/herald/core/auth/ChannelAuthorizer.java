package dev.herald.core.auth;

import dev.herald.core.channel.ChannelName;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Decides whether a user may act on a channel. Runs after the namespace's own rules (personal
 * namespaces, client publishing), so it only adds restrictions an application knows about, such as
 * project membership. May be asynchronous.
 */
@FunctionalInterface
public interface ChannelAuthorizer {
  CompletionStage<Boolean> authorize(
      Principal principal, ChannelAction action, ChannelName channel);

  /** Allows everything the namespace rules allow. */
  static ChannelAuthorizer namespaceRulesOnly() {
    return (p, a, c) -> CompletableFuture.completedFuture(true);
  }
}
