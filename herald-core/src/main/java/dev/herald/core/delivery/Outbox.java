package dev.herald.core.delivery;

import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One connection's outbound queue: messages waiting for the transport to take them. Confined to the
 * connection's event loop (no locks, no atomics); the session decides what to do when it is over
 * its limit (close the slow consumer) and when to write ({@link #write}).
 *
 * <p>Most messages never wait here: when nothing is queued and the transport is writable, {@link
 * #writeNow} hands a message straight to the transport. The queue itself is created on first use (a
 * connection that was never behind, or coalesced, carries none) and then kept, so that a busy
 * connection does not allocate one per write.
 */
public final class Outbox {
  private final TransportConnection transport;
  private final int maxBatchBytes;
  private final LoopDispatcher dispatcher;
  private @Nullable ArrayDeque<OutboundMessage> queue;
  private long bytes;
  // What stats readers on other threads see; written only by the loop, after each change.
  private volatile long published;

  /**
   * @param dispatcher the connection's loop: lends the batch lists, receives latencies
   */
  public Outbox(TransportConnection transport, int maxBatchBytes, LoopDispatcher dispatcher) {
    this.transport = transport;
    this.maxBatchBytes = maxBatchBytes;
    this.dispatcher = dispatcher;
  }

  /** Queues a message (written by the next {@link #write}). */
  public void add(OutboundMessage m) {
    if (queue == null) {
      queue = new ArrayDeque<>(4);
    }
    queue.add(m);
    bytes += m.size();
    published = bytes;
  }

  /** Whether nothing is queued. */
  public boolean isEmpty() {
    return bytes == 0 && (queue == null || queue.isEmpty());
  }

  /**
   * Writes one message at once, bypassing the queue; only when {@link #isEmpty()} and the transport
   * is writable (else order or the transport's buffer would suffer).
   */
  public void writeNow(OutboundMessage m) {
    List<OutboundMessage> batch = dispatcher.borrowBatch();
    batch.add(m);
    try {
      transport.send(batch);
    } finally {
      dispatcher.returnBatch(batch);
    }
    if (m.publishedAtMillis() > 0) {
      dispatcher.written(m.publishedAtMillis());
    }
  }

  /** Hands queued messages to the transport, in batches, for as long as it is writable. */
  public void write() {
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
  }

  /** Sends what is queued regardless of writability; used just before closing. */
  public void writeAllForClose() {
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
  public void clear() {
    queue = null;
    bytes = 0;
    published = 0;
  }

  /** Bytes queued; on the loop. */
  public long bytes() {
    return bytes;
  }

  /** Bytes queued, as last published by the loop; any thread (stats). */
  public long queuedBytes() {
    return published;
  }

  /** Publish-to-write latency of the oldest publication in the batch: one call per batch. */
  private void measure(List<OutboundMessage> batch) {
    for (int i = 0; i < batch.size(); i++) {
      long at = batch.get(i).publishedAtMillis();
      if (at > 0) {
        dispatcher.latency(at);
        return;
      }
    }
  }
}
