package dev.herald.core.testkit;

import dev.herald.core.time.Scheduler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A {@link Scheduler} on fake time. The clock starts at {@link #DEFAULT_START} (or a given instant)
 * and only moves when a test calls {@link #advance}; due tasks then run on the calling thread, in
 * time order (ties in scheduling order). A task scheduled while advancing that falls within the
 * window runs in the same call. Thread-safe: any thread may schedule or cancel.
 */
public final class ManualScheduler implements Scheduler {
  /** 2025-01-01T00:00:00Z. */
  public static final long DEFAULT_START = 1_735_689_600_000L;

  private final PriorityQueue<Task> queue =
      new PriorityQueue<>(
          Comparator.comparingLong((Task t) -> t.dueMillis).thenComparingLong(t -> t.seq));
  private long now;
  private long seq;

  public ManualScheduler() {
    this(DEFAULT_START);
  }

  public ManualScheduler(long startMillis) {
    this.now = startMillis;
  }

  public ManualScheduler(Instant start) {
    this(start.toEpochMilli());
  }

  @Override
  public synchronized long nowMillis() {
    return now;
  }

  public Instant now() {
    return Instant.ofEpochMilli(nowMillis());
  }

  @Override
  public Cancellable schedule(long delayMillis, Runnable task) {
    Task t;
    synchronized (this) {
      t = new Task(now + Math.max(0, delayMillis), seq++, task);
      queue.add(t);
    }
    return () -> cancel(t);
  }

  private synchronized void cancel(Task t) {
    queue.remove(t);
  }

  /**
   * Moves the clock forward by {@code d}, running every task that falls due on the way, each with
   * the clock set to its due time. Returns the number of tasks run.
   */
  public int advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("time only moves forward: " + d);
    }
    long target;
    synchronized (this) {
      target = now + d.toMillis();
    }
    int ran = 0;
    while (true) {
      Task next;
      synchronized (this) {
        next = queue.peek();
        if (next == null || next.dueMillis > target) {
          now = Math.max(now, target);
          return ran;
        }
        queue.poll();
        now = Math.max(now, next.dueMillis);
      }
      next.task.run();
      ran++;
    }
  }

  public int advanceMillis(long millis) {
    return advance(Duration.ofMillis(millis));
  }

  /**
   * A {@link Clock} (UTC) that reads this scheduler's time, for code that takes a {@code
   * java.time.Clock}: one fake time for the hub and the application around it.
   */
  public Clock clock() {
    ManualScheduler self = this;
    return new Clock() {
      @Override
      public long millis() {
        return self.nowMillis();
      }

      @Override
      public Instant instant() {
        return Instant.ofEpochMilli(self.nowMillis());
      }

      @Override
      public ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        return this;
      }
    };
  }

  /** Runs tasks that are due now (e.g. scheduled with delay 0) without moving the clock. */
  public int runDue() {
    return advance(Duration.ZERO);
  }

  /** Tasks waiting to run (cancelled ones are not counted). */
  public synchronized int pendingTasks() {
    return queue.size();
  }

  /** Due times of pending tasks, earliest first, for debugging. */
  public synchronized List<Long> pendingDueTimes() {
    List<Task> tasks = new ArrayList<>(queue);
    tasks.sort(queue.comparator());
    List<Long> out = new ArrayList<>(tasks.size());
    for (Task t : tasks) {
      out.add(t.dueMillis);
    }
    return out;
  }

  private static final class Task {
    final long dueMillis;
    final long seq;
    final Runnable task;

    Task(long dueMillis, long seq, Runnable task) {
      this.dueMillis = dueMillis;
      this.seq = seq;
      this.task = task;
    }
  }
}
