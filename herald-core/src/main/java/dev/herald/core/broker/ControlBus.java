package dev.herald.core.broker;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Carries a node's account actions to the other nodes of its cluster: a logout ({@code revoke}) or
 * a permission change ({@code revalidate}) called on one node must act on the user's connections on
 * every node. Delivery is best-effort and at most once: a message sent while the bus cannot reach
 * the others (Redis down) is lost for them, and {@link #send} says so by failing; the node that
 * sent it has acted on its own connections in any case.
 */
public interface ControlBus extends AutoCloseable {

  /** Starts handing messages sent by other nodes to {@code handler} (never this node's own). */
  void start(Consumer<ControlMessage> handler);

  /** Sends to every other node; fails when the message cannot be handed to the cluster. */
  CompletableFuture<Void> send(ControlMessage message);

  @Override
  default void close() {}

  /** A node on its own: there is nobody to tell. */
  static ControlBus local() {
    return new ControlBus() {
      @Override
      public void start(Consumer<ControlMessage> handler) {}

      @Override
      public CompletableFuture<Void> send(ControlMessage message) {
        return CompletableFuture.completedFuture(null);
      }
    };
  }
}
