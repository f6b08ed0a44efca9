package dev.herald.core.broker;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Carries a node's account actions to the other nodes of its cluster: a logout ({@code revoke}) or
 * a permission change ({@code revalidate}) called on one node must act on the user's connections on
 * every node. Delivery is best-effort and at most once: a message sent while the bus cannot reach
 * the others (Redis down) is lost for them, and {@link #send} says so by failing; the node that
 * sent it has acted on its own connections in any case.
 *
 * <p>It also carries the server API's questions ({@link #ask}): a question reaches every node
 * listening at that moment, each answers the asking node, and the asker, which knows which nodes
 * the cluster holds, waits a bounded time for their answers (the hub does the waiting) and says
 * which did not answer.
 */
public interface ControlBus extends AutoCloseable {

  /** Starts handing messages sent by other nodes to {@code handler} (never this node's own). */
  void start(Consumer<ControlMessage> handler);

  /**
   * Starts handing messages sent by other nodes to {@code handler}, and their questions to {@code
   * responder}, whose answers go back to the asking node. Buses that carry no questions ignore
   * {@code responder}.
   */
  default void start(Consumer<ControlMessage> handler, ControlResponder responder) {
    start(handler);
  }

  /**
   * Sends a question to every other node. Each answer is handed to {@code onAnswer} (the answering
   * node's name, its answer) as it arrives, on any thread, until {@link #forget} is called with the
   * question's id. Completes, once the question is sent, with the names of the other nodes the
   * cluster holds at that moment: the answers to wait for (an answer may arrive before it
   * completes). Fails when the question cannot be sent (Redis unreachable). A node on its own
   * completes at once with no other nodes.
   */
  default CompletableFuture<Set<String>> ask(
      ControlQuery query, BiConsumer<String, String> onAnswer) {
    return CompletableFuture.completedFuture(Set.of());
  }

  /** Drops the answers to the question {@code queryId} that arrive from now on. */
  default void forget(String queryId) {}

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
