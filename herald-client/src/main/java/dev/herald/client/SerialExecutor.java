package dev.herald.client;

import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on top of any executor (even a multi-threaded one,
 * or a direct {@code Runnable::run}). A task submitted while another runs is queued and run after
 * it, never nested: this is what makes the client's event thread reentrancy-safe.
 */
final class SerialExecutor implements Executor {
  private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);

  private final Executor delegate;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicInteger pending = new AtomicInteger();

  SerialExecutor(Executor delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public void execute(Runnable task) {
    tasks.add(Objects.requireNonNull(task, "task"));
    if (pending.getAndIncrement() == 0) {
      try {
        delegate.execute(this::drain);
      } catch (RejectedExecutionException e) {
        // The executor was shut down (the client is closed): nothing will run any more.
        log.debug("event executor rejected a task; the client is closed");
        tasks.clear();
        pending.set(0);
      }
    }
  }

  private void drain() {
    do {
      Runnable task = tasks.poll();
      if (task == null) {
        // Only possible after a rejection reset the counters.
        return;
      }
      try {
        task.run();
      } catch (RuntimeException e) {
        log.error("unexpected exception on the Herald client event thread", e);
      }
    } while (pending.decrementAndGet() != 0);
  }
}
