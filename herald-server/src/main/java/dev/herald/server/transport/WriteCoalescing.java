package dev.herald.server.transport;

import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The write delay ({@code transport.write-delay}): instead of writing each connection's new
 * messages at once, the writes of all connections on one event loop run together, at most the delay
 * after the first of them was requested. Messages queued meanwhile leave in one frame and one
 * system call, which under load saves the per-message write that dominates the cost of fan-out. One
 * timer per event loop per delay period, not one per connection; with a zero delay nothing changes
 * (writes run at once on the connection's context).
 */
public final class WriteCoalescing {
  private final long delayMillis;
  private final Map<Context, Batcher> batchers = new ConcurrentHashMap<>();

  public WriteCoalescing(Duration delay) {
    this.delayMillis = delay.toMillis();
  }

  public boolean enabled() {
    return delayMillis > 0;
  }

  /**
   * The write executor of a connection owned by {@code context}; {@code immediate} (the
   * connection's own executor) when there is no delay.
   */
  public Executor executor(Context context, Executor immediate) {
    if (!enabled()) {
      return immediate;
    }
    return batchers.computeIfAbsent(context, Batcher::new);
  }

  /** Write tasks of one event loop, run together once per delay period. */
  private final class Batcher implements Executor {
    private final ContextInternal context;
    private final Queue<Runnable> due = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean armed = new AtomicBoolean();

    Batcher(Context context) {
      this.context = (ContextInternal) context;
    }

    @Override
    public void execute(Runnable task) {
      due.add(task);
      if (armed.compareAndSet(false, true)) {
        context.setTimer(delayMillis, id -> flush()); // the timer fires on the event loop
      }
    }

    private void flush() {
      armed.set(false);
      // Only what was due when the timer fired: tasks added meanwhile re-arm it.
      for (int n = due.size(); n > 0; n--) {
        Runnable task = due.poll();
        if (task == null) {
          return;
        }
        task.run();
      }
    }
  }
}
