package dev.herald.core.testkit;

import dev.herald.core.broker.Broker;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.HistoryResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Broker} decorator that can hold back one {@code history()} answer, to test what a
 * recovering subscriber sees when live publications arrive while its history is being read.
 *
 * <p>After {@link #arm(Mode)}, the next {@code history()} call signals {@link
 * #awaitHistoryCalled()} and completes only after {@link #release()}, on a separate thread. {@link
 * Mode#SNAPSHOT_EARLY} reads the delegate's history at call time (so everything published meanwhile
 * is strictly newer than the result); {@link Mode#READ_LATE} reads it after release (so
 * publications made meanwhile are both in the result and delivered live). Everything else is passed
 * through.
 */
public final class BlockingHistoryBroker extends ForwardingBroker {
  public enum Mode {
    SNAPSHOT_EARLY,
    READ_LATE
  }

  private volatile Mode armed;
  private volatile CountDownLatch called = new CountDownLatch(1);
  private volatile CountDownLatch released = new CountDownLatch(1);

  public BlockingHistoryBroker(Broker delegate) {
    super(delegate);
  }

  /** Makes the next history call block until {@link #release()}. */
  public synchronized void arm(Mode mode) {
    called = new CountDownLatch(1);
    released = new CountDownLatch(1);
    armed = mode;
  }

  /** Waits until the armed history call has started. */
  public void awaitHistoryCalled() {
    await(called, "history() to be called");
  }

  /** Lets the blocked history call complete. */
  public void release() {
    released.countDown();
  }

  @Override
  public CompletableFuture<HistoryResult> history(
      String channel, long afterOffset, HistoryPolicy history) {
    Mode mode;
    CountDownLatch c;
    CountDownLatch r;
    synchronized (this) {
      mode = armed;
      armed = null;
      c = called;
      r = released;
    }
    if (mode == null) {
      return delegate.history(channel, afterOffset, history);
    }
    CompletableFuture<HistoryResult> early =
        mode == Mode.SNAPSHOT_EARLY ? delegate.history(channel, afterOffset, history) : null;
    CompletableFuture<HistoryResult> out = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                await(r, "release()");
                HistoryResult result =
                    early != null
                        ? early.join()
                        : delegate.history(channel, afterOffset, history).join();
                out.complete(result);
              } catch (Throwable e) {
                out.completeExceptionally(e);
              }
            },
            "blocked-history");
    t.setDaemon(true);
    t.start();
    c.countDown();
    return out;
  }

  @Override
  public void close() {
    release();
    super.close();
  }

  private static void await(CountDownLatch latch, String what) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("timed out waiting for " + what);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for " + what, e);
    }
  }
}
