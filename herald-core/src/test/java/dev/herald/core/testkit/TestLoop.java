package dev.herald.core.testkit;

import dev.herald.core.transport.EventLoop;
import java.util.ArrayDeque;

/**
 * A manual event loop that several {@link RecordingTransport}s can share, as the connections of one
 * server thread do: tasks wait until {@link #runPending()}, which runs them on the calling thread
 * (the loop's thread meanwhile, so {@link #inLoop()} is true there). {@link #run(Runnable)} runs
 * one task as the loop, e.g. a publication made "on" the loop.
 */
public final class TestLoop implements EventLoop {
  private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
  private volatile Thread running;
  private int executed;

  @Override
  public boolean inLoop() {
    return running == Thread.currentThread();
  }

  @Override
  public void execute(Runnable task) {
    synchronized (pending) {
      pending.add(task);
    }
  }

  /** Runs queued tasks, and those they queue, until none is left; returns how many ran. */
  public int runPending() {
    int ran = 0;
    Thread before = running;
    running = Thread.currentThread();
    try {
      while (true) {
        Runnable r;
        synchronized (pending) {
          r = pending.poll();
        }
        if (r == null) {
          return ran;
        }
        r.run();
        ran++;
        executed++;
      }
    } finally {
      running = before;
    }
  }

  /** Runs {@code task} now, as the loop's thread (then nothing queued meanwhile runs). */
  public void run(Runnable task) {
    Thread before = running;
    running = Thread.currentThread();
    try {
      task.run();
    } finally {
      running = before;
    }
  }

  public int pendingTasks() {
    synchronized (pending) {
      return pending.size();
    }
  }

  /** Tasks run so far by {@link #runPending()}. */
  public int executed() {
    return executed;
  }
}
