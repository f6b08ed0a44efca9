package dev.herald.core.testkit;

import dev.herald.core.broker.ControlBus;
import dev.herald.core.broker.ControlMessage;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * In-process {@link ControlBus}es of several hubs: a message sent on one reaches every other one of
 * the same {@link Cluster} at once, on the sender's thread, as Redis pub/sub would.
 */
public final class LoopbackControlBus implements ControlBus {
  /** The buses that hear each other. */
  public static final class Cluster {
    private final List<LoopbackControlBus> buses = new CopyOnWriteArrayList<>();

    /** A new node's bus. */
    public LoopbackControlBus join() {
      LoopbackControlBus b = new LoopbackControlBus(this);
      buses.add(b);
      return b;
    }
  }

  private final Cluster cluster;
  private volatile Consumer<ControlMessage> handler = m -> {};

  private LoopbackControlBus(Cluster cluster) {
    this.cluster = cluster;
  }

  @Override
  public void start(Consumer<ControlMessage> handler) {
    this.handler = handler;
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
}
