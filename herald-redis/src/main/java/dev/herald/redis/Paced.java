package dev.herald.redis;

import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Sends one command per item with at most {@code window} of them awaiting Redis's reply, the next
 * sent as one is answered. A heartbeat of a node holding tens of thousands of users is then a
 * stream of small steps on the connector's context, interleaved with the node's other work, instead
 * of one burst that fills the connection's queue of pending replies and holds the event loop while
 * it is written and while its replies are read.
 *
 * <p>Each command is built on the context when it is sent (not when the heartbeat started), so it
 * carries the state of that moment: a change made meanwhile, and the command that carried it to
 * Redis, cannot be undone by a command built from an older state.
 */
final class Paced<T> {
  /** Commands one heartbeat keeps in flight at most. */
  static final int WINDOW = 1_024;

  private final Executor context;
  private final Iterator<T> items;
  private final int window;
  private final Function<T, CompletableFuture<?>> send;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private int inFlight;

  private Paced(
      Executor context, Iterator<T> items, int window, Function<T, CompletableFuture<?>> send) {
    this.context = context;
    this.items = items;
    this.window = window;
    this.send = send;
  }

  /**
   * Starts sending (call on the context); completes when every command was answered. {@code send}
   * runs on the context and must not throw; its future's failure is its own to log.
   */
  static <T> CompletableFuture<Void> send(
      Executor context, Iterable<T> items, int window, Function<T, CompletableFuture<?>> send) {
    Paced<T> p = new Paced<>(context, items.iterator(), window, send);
    p.pump();
    return p.done;
  }

  private void pump() {
    while (inFlight < window && items.hasNext()) {
      inFlight++;
      CompletableFuture<?> reply;
      try {
        reply = send.apply(items.next());
      } catch (RuntimeException e) {
        // Counted as answered (a failure): the rest are still sent and the whole completes.
        reply = CompletableFuture.failedFuture(e);
      }
      var unused =
          reply.whenComplete(
              (r, err) ->
                  context.execute(
                      () -> {
                        inFlight--;
                        pump();
                      }));
    }
    if (inFlight == 0 && !items.hasNext()) {
      done.complete(null);
    }
  }
}
