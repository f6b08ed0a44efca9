package dev.herald.core.transport;

import java.util.concurrent.Executor;

/**
 * A thread that runs the tasks of many connections one at a time, in submission order: an event
 * loop. Every connection belongs to exactly one loop, which owns all of its mutable state.
 *
 * <p>The hub uses the loop to deliver without a task per connection: a publication for the
 * connections of one loop is handed over as one task (or, when the publisher already runs on that
 * loop and nothing is queued ahead, written in the same pass), and write coalescing flushes all of
 * a loop's connections at once. Transports return the same instance for every connection served by
 * one thread, so that the hub can group them.
 */
public interface EventLoop extends Executor {

  /** Whether the calling thread is this loop's thread (tasks may then run inline). */
  boolean inLoop();

  /** Runs {@code task} on the loop, after the tasks submitted before it. Any thread. */
  @Override
  void execute(Runnable task);
}
