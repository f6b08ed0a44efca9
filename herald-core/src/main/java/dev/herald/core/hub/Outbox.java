package dev.herald.core.hub;

import dev.herald.core.time.Scheduler;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One connection's outbound queue: messages waiting for the transport to take them. Confined to the
 * connection's event loop (no locks, no atomics); the session decides what to do when it is over
 * its limit (close the slow consumer) and when to write ({@link #write}).
 *
 * <p>Most messages never wait here: when nothing is queued and the transport is writable, {@link
 * #write} hands a message straight to the transport. The queue itself is created on first use, so
 * an idle connection carries none.
 */
final class Outbox {
  private final TransportConnection transport;
  private final int maxBatchBytes;
  private final Scheduler clock;
  private final HubMetrics metrics;
  private final LoopDispatcher dispatcher;
  private ArrayDeque<OutboundMessage> queue;
  private long bytes;
  // What stats readers on other threads see; written only by the loop, after each change.
  private volatile long published;

  Outbox(
      TransportConnection transport,
      int maxBatchBytes,
      Scheduler clock,
      HubMetrics metrics,
      LoopDispatcher dispatcher) {
    this.transport = transport;
    this.maxBatchBytes = maxBatchBytes;
    this.clock = clock;
    this.metrics = metrics;
    this.dispatcher = dispatcher;
  }

  /** Queues a message (written by the next {@link #write}). */
  void add(OutboundMessage m) {
    if (queue == null) {
      queue = new ArrayDeque<>(4);
    }
    queue.add(m);
    bytes += m.size();
    published = bytes;
  }

  /** Whether nothing is queued. */
  boolean isEmpty() {
    return bytes == 0 && (queue == null || queue.isEmpty());
  }

  /**
   * Writes one message at once, bypassing the queue; only when {@link #isEmpty()} and the transport
   * is writable (else order or the transport's buffer would suffer).
   */
  void writeNow(OutboundMessage m) {
    List<OutboundMessage> batch = dispatcher.borrowBatch();
    batch.add(m);
    measure(batch);
    try {
      transport.send(batch);
    } finally {
      dispatcher.returnBatch(batch);
    }
  }

  /** Hands queued messages to the transport, in batches, for as long as it is writable. */
  void write() {
    while (queue != null && !queue.isEmpty() && transport.writable()) {
      List<OutboundMessage> batch = dispatcher.borrowBatch();
      try {
        int size = 0;
        OutboundMessage m;
        while ((m = queue.peek()) != null) {
          if (!batch.isEmpty() && size + m.size() > maxBatchBytes) {
            break;
          }
          queue.poll();
          bytes -= m.size();
          batch.add(m);
          size += m.size() + 1;
        }
        published = bytes;
        measure(batch);
        transport.send(batch);
      } finally {
        dispatcher.returnBatch(batch);
      }
    }
    if (queue != null && queue.isEmpty()) {
      queue = null; // an idle connection holds no queue
    }
  }

  /** Sends what is queued regardless of writability; used just before closing. */
  void writeAllForClose() {
    while (queue != null && !queue.isEmpty()) {
      List<OutboundMessage> batch = new ArrayList<>();
      int size = 0;
      OutboundMessage m;
      while ((m = queue.peek()) != null && (batch.isEmpty() || size + m.size() <= maxBatchBytes)) {
        queue.poll();
        batch.add(m);
        size += m.size() + 1;
      }
      transport.send(batch);
    }
    clear();
  }

  /** Drops everything queued (after overflow nothing queued will be sent). */
  void clear() {
    queue = null;
    bytes = 0;
    published = 0;
  }

  /** Bytes queued; on the loop. */
  long bytes() {
    return bytes;
  }

  /** Bytes queued, as last published by the loop; any thread (stats). */
  long queuedBytes() {
    return published;
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
}
