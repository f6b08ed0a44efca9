package dev.herald.core.hub;

import dev.herald.core.time.Scheduler;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection's bounded outbound queue. Any thread may {@link #offer}; draining runs on the
 * connection's executor and hands batches to the transport while it is writable. When the queued
 * bytes pass the limit, the outbox refuses further messages and reports overflow once: the session
 * then disconnects the slow consumer, which recovers on reconnect. Producers never wait, so one
 * slow reader cannot stall fan-out to others.
 */
final class Outbox {
  /**
   * Queued bytes beyond this multiple of the limit overflow without waiting for the drain check.
   */
  static final int HARD_CAP_FACTOR = 4;

  private final TransportConnection transport;
  private final long maxBytes;
  private final int maxBatchBytes;
  private final Runnable onOverflow;
  private final Scheduler clock;
  private final HubMetrics metrics;
  private final ConcurrentLinkedQueue<OutboundMessage> queue = new ConcurrentLinkedQueue<>();
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final AtomicBoolean checkScheduled = new AtomicBoolean();
  private final AtomicBoolean overflowed = new AtomicBoolean();
  private volatile boolean closed;
  // A task waiting for the queue to drain (paged recovery); only touched on the executor.
  private Runnable whenDrained;
  private long drainedMark;
  private final Runnable drainTask = this::drain;

  /**
   * The batch handed to the transport, reused from one write to the next (transports must not keep
   * the list past {@code send}); only touched on the connection's executor.
   */
  private final ArrayList<OutboundMessage> batch = new ArrayList<>(4);

  private boolean sending;

  Outbox(TransportConnection transport, long maxBytes, int maxBatchBytes, Runnable onOverflow) {
    this(transport, maxBytes, maxBatchBytes, onOverflow, null, HubMetrics.NONE);
  }

  Outbox(
      TransportConnection transport,
      long maxBytes,
      int maxBatchBytes,
      Runnable onOverflow,
      Scheduler clock,
      HubMetrics metrics) {
    this.transport = transport;
    this.maxBytes = maxBytes;
    this.maxBatchBytes = maxBatchBytes;
    this.onOverflow = onOverflow;
    this.clock = clock;
    this.metrics = metrics;
  }

  /**
   * Queues a message; returns false if the outbox is closed or overflowed.
   *
   * <p>Passing the limit is not yet proof of a slow reader: the bytes may only be waiting for the
   * connection's executor to run its next drain (a publish burst outruns one event loop). So the
   * verdict is taken on that executor, after draining: still over the limit there means the
   * transport refuses the bytes. A hard cap at four times the limit overflows at once, so memory
   * stays bounded even if the executor itself is stuck (twice proved too tight: on two busy cores a
   * healthy connection's event loop can lag a publisher by more than that).
   */
  boolean offer(OutboundMessage message) {
    if (closed || overflowed.get()) {
      return false;
    }
    long total = queuedBytes.addAndGet(message.size());
    if (total > HARD_CAP_FACTOR * maxBytes) {
      overflow();
      return false;
    }
    queue.add(message);
    if (total > maxBytes) {
      scheduleCheck();
    } else {
      scheduleDrain();
    }
    return true;
  }

  void scheduleDrain() {
    if (!closed && drainScheduled.compareAndSet(false, true)) {
      transport.writeExecutor().execute(drainTask);
    }
  }

  private void scheduleCheck() {
    if (!closed && checkScheduled.compareAndSet(false, true)) {
      transport
          .executor()
          .execute(
              () -> {
                checkScheduled.set(false);
                drain();
                if (!closed && queuedBytes.get() > maxBytes) {
                  overflow(); // drained as far as the transport allows, and still over the limit
                }
              });
    }
  }

  private void overflow() {
    if (overflowed.compareAndSet(false, true)) {
      onOverflow.run();
    }
  }

  /** Runs on the connection's executor. */
  void drain() {
    drainScheduled.set(false);
    while (!closed && !overflowed.get() && transport.writable()) {
      List<OutboundMessage> next = pollBatch();
      if (next.isEmpty()) {
        break;
      }
      measure(next);
      send(next);
    }
    runWhenDrained();
  }

  private void send(List<OutboundMessage> next) {
    boolean reused = next == batch;
    sending = true;
    try {
      transport.send(next);
    } finally {
      sending = false;
      if (reused) {
        batch.clear();
      }
    }
  }

  /**
   * Runs {@code task} on the executor once the transport is writable and at most {@code mark} bytes
   * are still queued here. One task at a time (a later call replaces an earlier one); never runs
   * after overflow or close. Lets a producer feed a large backlog at the reader's pace.
   */
  void whenDrainedTo(long mark, Runnable task) {
    transport
        .executor()
        .execute(
            () -> {
              whenDrained = task;
              drainedMark = mark;
              drain();
            });
  }

  private void runWhenDrained() {
    Runnable task = whenDrained;
    if (task != null
        && !closed
        && !overflowed.get()
        && transport.writable()
        && queuedBytes.get() <= drainedMark) {
      whenDrained = null;
      task.run();
    }
  }

  /** Publish-to-write latency of the oldest publication in the batch: one call per batch. */
  private void measure(List<OutboundMessage> batch) {
    if (clock == null) {
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      long at = batch.get(i).publishedAtMillis();
      if (at > 0) {
        metrics.deliveryLatency(Math.max(0, clock.nowMillis() - at));
        return;
      }
    }
  }

  /** Sends what is queued regardless of writability; used just before closing. */
  void flushForClose() {
    List<OutboundMessage> next;
    while (!(next = pollBatch()).isEmpty()) {
      send(next);
    }
  }

  /**
   * The next batch: the reused list, or a fresh one if a send is still in progress (a transport
   * that calls back into the hub while writing).
   */
  private List<OutboundMessage> pollBatch() {
    List<OutboundMessage> batch = sending ? new ArrayList<>(4) : this.batch;
    int bytes = 0;
    OutboundMessage m;
    while ((m = queue.peek()) != null) {
      if (!batch.isEmpty() && bytes + m.size() > maxBatchBytes) {
        break;
      }
      queue.poll();
      queuedBytes.addAndGet(-m.size());
      batch.add(m);
      bytes += m.size() + 1;
    }
    return batch;
  }

  /** Drops everything queued (after overflow nothing queued will be sent). */
  void clear() {
    queue.clear();
    queuedBytes.set(0);
  }

  void close() {
    closed = true;
  }

  long queuedBytes() {
    return queuedBytes.get();
  }

  boolean overflowed() {
    return overflowed.get();
  }
}
