package dev.herald.core.broker;

import dev.herald.core.time.Scheduler;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * A single-node broker: streams live in this process. The embedded default.
 *
 * <p>Each channel's stream has its own lock, which serialises offset assignment and history append.
 * Delivery to the handler happens outside the lock, through the channel's own queue of events
 * (publications and presence events alike): whichever thread finds no delivery in progress delivers
 * until the queue is empty, so one channel's events reach the handler one at a time, in the order
 * they were queued (for publications, offset order), and no lock is held while the hub writes to
 * sockets. Streams untouched for their stream TTL are dropped by a periodic sweep unless this node
 * still has subscribers in the channel; a later publication starts a new epoch.
 */
public final class MemoryBroker implements Broker {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MemoryBroker.class);
  private static final long SWEEP_INTERVAL_MILLIS = 60_000;

  private final Scheduler scheduler;
  private final Map<String, Stream> streams = new ConcurrentHashMap<>();
  // Channels with at least one local subscriber (the hub subscribes the first and unsubscribes the
  // last), so that the sweep keeps their streams even before anything is published.
  private final java.util.Set<String> subscribed = ConcurrentHashMap.newKeySet();
  private volatile @Nullable BrokerEventHandler handler;
  private volatile Scheduler.Cancellable sweep = Scheduler.Cancellable.NONE;
  // Idempotency keys ("<channel>\n<key>") of recent publications; written under the channel's
  // stream lock, dropped by the sweep once past their window.
  private final ConcurrentHashMap<String, Seen> seen = new ConcurrentHashMap<>();

  /** The position a key's publication got, remembered until {@code until}. */
  private record Seen(StreamPosition position, long until) {}

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
      String channel,
      RawJson data,
      @Nullable String user,
      HistoryPolicy policy,
      @Nullable IdempotencyKey once) {
    while (true) {
      Stream s = stream(channel);
      StreamPosition pos;
      boolean deliver;
      synchronized (s) {
        if (s.dropped) {
          continue; // swept between lookup and lock: use the stream that replaces it
        }
        long now = scheduler.nowMillis();
        String seenKey = once == null ? null : channel + '\n' + once.value();
        if (seenKey != null) {
          Seen prior = seen.get(seenKey);
          if (prior != null && prior.until > now) {
            return CompletableFuture.completedFuture(prior.position);
          }
        }
        s.trim(now, policy);
        Pub pub = new Pub(channel, s.epoch, s.top + 1, now, data, user);
        s.top = pub.offset();
        s.lastActivity = now;
        if (policy.size() > 0) {
          s.items().addLast(pub);
          s.trim(now, policy);
        }
        pos = new StreamPosition(s.epoch, s.top);
        if (seenKey != null && once != null) {
          seen.put(seenKey, new Seen(pos, now + once.windowMillis()));
        }
        deliver = s.queue(pub);
      }
      if (deliver) {
        deliver(s);
      }
      return CompletableFuture.completedFuture(pos);
    }
  }

  @Override
  public CompletableFuture<Void> publishPresence(PresenceEvent event) {
    while (true) {
      Stream s = stream(event.channel());
      boolean deliver;
      synchronized (s) {
        if (s.dropped) {
          continue;
        }
        deliver = s.queue(event);
      }
      if (deliver) {
        deliver(s);
      }
      return CompletableFuture.completedFuture(null);
    }
  }

  /**
   * Hands the stream's queued events to the handler, outside the lock, until none is left. Only the
   * thread that found no delivery in progress calls this, so a channel's events never reach the
   * handler concurrently.
   */
  private void deliver(Stream s) {
    while (true) {
      Object event;
      synchronized (s) {
        ArrayDeque<Object> out = s.outgoing;
        event = out == null ? null : out.poll();
        if (event == null) {
          s.delivering = false;
          s.outgoing = null;
          return;
        }
      }
      try {
        BrokerEventHandler h = Objects.requireNonNull(handler, "the broker was not started");
        if (event instanceof Pub p) {
          h.onPublication(p);
        } else {
          h.onPresence((PresenceEvent) event);
        }
      } catch (RuntimeException e) {
        log.error("delivery of an event in {} failed", event, e);
      }
    }
  }

  @Override
  public CompletableFuture<Void> subscribe(String channel, HistoryPolicy history) {
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
      for (Pub p : s.items == null ? List.<Pub>of() : s.items) {
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

  /** Whether the channel's stream (epoch, offset) is held, without touching it; for tests. */
  public boolean hasStream(String channel) {
    return streams.containsKey(channel);
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
    seen.values().removeIf(s -> s.until <= now);
    streams
        .entrySet()
        .removeIf(
            e -> {
              Stream s = e.getValue();
              synchronized (s) {
                // A stream this node's clients subscribe to is kept however quiet it is: dropping
                // it would move every open page of a quiet channel to a new epoch.
                if (subscribed.contains(e.getKey()) || s.delivering) {
                  return false;
                }
                boolean expired = s.streamTtlMillis > 0 && now - s.lastActivity > s.streamTtlMillis;
                boolean unusedEmpty = s.top == 0;
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
    // History, created with the first publication kept (a stream only subscribed to has none).
    @Nullable ArrayDeque<Pub> items;
    long top;
    long lastActivity;
    long streamTtlMillis;
    boolean dropped;
    // Events waiting for delivery (Pub or PresenceEvent), and whether a thread is delivering them.
    @Nullable ArrayDeque<Object> outgoing;
    boolean delivering;

    ArrayDeque<Pub> items() {
      ArrayDeque<Pub> i = items;
      if (i == null) {
        i = items = new ArrayDeque<>(4);
      }
      return i;
    }

    /** Queues an event; true if the caller must deliver (no delivery was in progress). */
    boolean queue(Object event) {
      ArrayDeque<Object> out = outgoing;
      if (out == null) {
        out = outgoing = new ArrayDeque<>(4);
      }
      out.add(event);
      if (delivering) {
        return false;
      }
      delivering = true;
      return true;
    }

    Stream(String epoch, long now) {
      this.epoch = epoch;
      this.lastActivity = now;
    }

    void trim(long now, HistoryPolicy policy) {
      streamTtlMillis = policy.streamTtlMillis();
      ArrayDeque<Pub> items = this.items;
      if (items == null) {
        return;
      }
      while (items.size() > policy.size()) {
        items.removeFirst();
      }
      while (!items.isEmpty() && now - items.peekFirst().ts() > policy.ttlMillis()) {
        items.removeFirst();
      }
    }
  }
}
