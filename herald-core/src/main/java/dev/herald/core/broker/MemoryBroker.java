package dev.herald.core.broker;

import dev.herald.core.time.Scheduler;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A single-node broker: streams live in this process. The embedded default.
 *
 * <p>Each channel's stream has its own lock, which serialises offset assignment, history append and
 * delivery to the handler, so delivery order equals offset order. The handler only enqueues (no
 * I/O), so holding the lock during delivery is cheap. Streams untouched for their stream TTL are
 * dropped by a periodic sweep; a later publication starts a new epoch.
 */
public final class MemoryBroker implements Broker {
  private static final long SWEEP_INTERVAL_MILLIS = 60_000;

  private final Scheduler scheduler;
  private final Map<String, Stream> streams = new ConcurrentHashMap<>();
  // Channels with at least one local subscriber (the hub subscribes the first and unsubscribes the
  // last), so that the sweep keeps their streams even before anything is published.
  private final java.util.Set<String> subscribed = ConcurrentHashMap.newKeySet();
  private volatile BrokerEventHandler handler;
  private volatile Scheduler.Cancellable sweep = Scheduler.Cancellable.NONE;
  private volatile boolean closed;

  public MemoryBroker(Scheduler scheduler) {
    this.scheduler = scheduler;
  }

  @Override
  public void start(BrokerEventHandler handler) {
    this.handler = handler;
    scheduleSweep();
  }

  @Override
  public CompletableFuture<StreamPosition> publish(
      String channel, RawJson data, String user, HistoryPolicy policy) {
    while (true) {
      Stream s = stream(channel);
      synchronized (s) {
        if (s.dropped) {
          continue; // swept between lookup and lock: use the stream that replaces it
        }
        return CompletableFuture.completedFuture(append(s, channel, data, user, policy));
      }
    }
  }

  /** Appends under the stream's lock and delivers; returns the new position. */
  private StreamPosition append(
      Stream s, String channel, RawJson data, String user, HistoryPolicy policy) {
    StreamPosition pos;
    {
      long now = scheduler.nowMillis();
      s.trim(now, policy);
      Pub pub = new Pub(channel, s.epoch, s.top + 1, now, data, user);
      s.top = pub.offset();
      s.lastActivity = now;
      if (policy.size() > 0) {
        s.items.addLast(pub);
        s.trim(now, policy);
      }
      pos = new StreamPosition(s.epoch, s.top);
      handler.onPublication(pub);
    }
    return pos;
  }

  @Override
  public CompletableFuture<Void> publishPresence(PresenceEvent event) {
    handler.onPresence(event);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<Void> subscribe(String channel) {
    subscribed.add(channel);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<Void> unsubscribe(String channel) {
    subscribed.remove(channel);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<HistoryResult> history(
      String channel, long afterOffset, HistoryPolicy policy) {
    Stream s = stream(channel);
    synchronized (s) {
      if (s.dropped) {
        return history(channel, afterOffset, policy);
      }
      long now = scheduler.nowMillis();
      s.trim(now, policy);
      s.lastActivity = Math.max(s.lastActivity, now);
      List<Pub> out = new ArrayList<>();
      for (Pub p : s.items) {
        if (p.offset() > afterOffset) {
          out.add(p);
        }
      }
      return CompletableFuture.completedFuture(
          new HistoryResult(new StreamPosition(s.epoch, s.top), out));
    }
  }

  /** Number of streams held, for stats and tests. */
  public int streamCount() {
    return streams.size();
  }

  private Stream stream(String channel) {
    return streams.computeIfAbsent(channel, c -> new Stream(Epochs.next(), scheduler.nowMillis()));
  }

  private void scheduleSweep() {
    if (!closed) {
      sweep =
          scheduler.schedule(
              SWEEP_INTERVAL_MILLIS,
              () -> {
                sweep(scheduler.nowMillis());
                scheduleSweep();
              });
    }
  }

  /**
   * Drops streams whose stream TTL has passed, and streams nothing was ever published to once no
   * local subscriber holds them: a subscribe creates a stream (to answer with its epoch), so
   * without this a client could fill memory by subscribing to many channel names it may use.
   * Visible for tests.
   */
  void sweep(long now) {
    streams
        .entrySet()
        .removeIf(
            e -> {
              Stream s = e.getValue();
              synchronized (s) {
                boolean expired = s.streamTtlMillis > 0 && now - s.lastActivity > s.streamTtlMillis;
                boolean unusedEmpty = s.top == 0 && !subscribed.contains(e.getKey());
                if (expired || unusedEmpty) {
                  s.dropped = true;
                  return true;
                }
                return false;
              }
            });
  }

  @Override
  public void close() {
    closed = true;
    sweep.cancel();
  }

  /** One channel's stream. Guarded by its own monitor. */
  private static final class Stream {
    final String epoch;
    final ArrayDeque<Pub> items = new ArrayDeque<>();
    long top;
    long lastActivity;
    long streamTtlMillis;
    boolean dropped;

    Stream(String epoch, long now) {
      this.epoch = epoch;
      this.lastActivity = now;
    }

    void trim(long now, HistoryPolicy policy) {
      streamTtlMillis = policy.streamTtlMillis();
      while (items.size() > policy.size()) {
        items.removeFirst();
      }
      while (!items.isEmpty() && now - items.peekFirst().ts() > policy.ttlMillis()) {
        items.removeFirst();
      }
    }
  }
}
