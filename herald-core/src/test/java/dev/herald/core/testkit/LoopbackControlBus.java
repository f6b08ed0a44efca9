package dev.herald.core.testkit;

import dev.herald.core.broker.ControlBus;
import dev.herald.core.broker.ControlMessage;
import dev.herald.core.broker.ControlQuery;
import dev.herald.core.broker.ControlResponder;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * In-process {@link ControlBus}es of several hubs: a message sent on one reaches every other one of
 * the same {@link Cluster} at once, on the sender's thread, as Redis pub/sub would; a question is
 * answered by every other node's responder, and a node declared {@link Cluster#absent} is known to
 * the cluster but never answers (a node that is down or cut off).
 */
public final class LoopbackControlBus implements ControlBus {
  /** The buses that hear each other. */
  public static final class Cluster {
    private final List<LoopbackControlBus> buses = new CopyOnWriteArrayList<>();
    private final Set<String> absent = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A new node's bus (for account actions only: questions need a node name). */
    public LoopbackControlBus join() {
      return join("node-" + buses.size());
    }

    /** A new node's bus; {@code node} must be its hub's {@code node} name. */
    public LoopbackControlBus join(String node) {
      LoopbackControlBus b = new LoopbackControlBus(this, node);
      buses.add(b);
      return b;
    }

    /** A node the cluster lists (as if registered in Redis) but that never answers. */
    public void absent(String node) {
      absent.add(node);
    }
  }

  private final Cluster cluster;
  private final String node;
  private volatile Consumer<ControlMessage> handler = m -> {};
  private volatile ControlResponder responder =
      q -> CompletableFuture.failedFuture(new IllegalStateException("not started"));

  private LoopbackControlBus(Cluster cluster, String node) {
    this.cluster = cluster;
    this.node = node;
  }

  @Override
  public void start(Consumer<ControlMessage> handler) {
    this.handler = handler;
  }

  @Override
  public void start(Consumer<ControlMessage> handler, ControlResponder responder) {
    this.handler = handler;
    this.responder = responder;
  }

  @Override
  public CompletableFuture<Void> send(ControlMessage message) {
    for (LoopbackControlBus b : cluster.buses) {
      if (b != this) {
        b.handler.accept(message);
      }
    }
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<Set<String>> ask(
      ControlQuery query, BiConsumer<String, String> onAnswer) {
    Set<String> others = new HashSet<>(cluster.absent);
    for (LoopbackControlBus b : cluster.buses) {
      if (b != this) {
        others.add(b.node);
        // An answer that fails is no answer, as on Redis.
        var unused = b.responder.answer(query).thenAccept(a -> onAnswer.accept(b.node, a));
      }
    }
    return CompletableFuture.completedFuture(others);
  }
}
