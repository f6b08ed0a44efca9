package dev.herald.client;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/** Fake time: tasks run only when the test advances the clock, on the test's thread. */
final class FakeScheduler implements ClientScheduler {
  private static final class Task {
    final long due;
    final long seq;
    final Runnable run;
    boolean cancelled;

    Task(long due, long seq, Runnable run) {
      this.due = due;
      this.seq = seq;
      this.run = run;
    }
  }

  private final PriorityQueue<Task> tasks =
      new PriorityQueue<>(Comparator.<Task>comparingLong(t -> t.due).thenComparingLong(t -> t.seq));
  private long now = 1_000_000;
  private long seq;

  @Override
  public long nowMillis() {
    return now;
  }

  @Override
  public Cancellable schedule(long delayMs, Runnable task) {
    Task t = new Task(now + Math.max(0, delayMs), seq++, task);
    tasks.add(t);
    return () -> t.cancelled = true;
  }

  /** Moves the clock forward, running every task that falls due, in order. */
  void advance(long ms) {
    long target = now + ms;
    while (true) {
      Task t = tasks.peek();
      if (t == null || t.due > target) {
        break;
      }
      tasks.poll();
      if (t.cancelled) {
        continue;
      }
      now = t.due;
      t.run.run();
    }
    now = target;
  }

  /** Delays (from now) of the tasks still waiting, soonest first. */
  List<Long> pendingDelays() {
    List<Task> live = new ArrayList<>();
    for (Task t : tasks) {
      if (!t.cancelled) {
        live.add(t);
      }
    }
    live.sort(Comparator.<Task>comparingLong(t -> t.due).thenComparingLong(t -> t.seq));
    List<Long> out = new ArrayList<>();
    for (Task t : live) {
      out.add(t.due - now);
    }
    return out;
  }
}
