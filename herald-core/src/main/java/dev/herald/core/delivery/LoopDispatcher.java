package dev.herald.core.delivery;

import dev.herald.core.time.Scheduler;
import dev.herald.core.transport.EventLoop;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.protocol.ServerMessage.Pub;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub's side of one event loop: fan-out to the loop's connections and their coalesced writes.
 *
 * <p><b>Fan-out.</b> A channel event for the subscribers on this loop is one task for the whole
 * loop, not one per connection: the task walks the subscribers and each connection writes at once.
 * When the event comes from the loop's own thread and nothing is queued ahead of it, it runs in the
 * same pass, so the last of 5,000 subscribers does not wait for a second pass. Events queued from
 * other threads keep their order: an event runs inline only when no earlier one is waiting, and a
 * channel's events reach the hub one at a time, in order (the broker's contract).
 *
 * <p><b>Bounded.</b> At most {@link #MAX_QUEUED_EVENTS} events wait for a loop that does not keep
 * up (a loop blocked by mistake); past that, the subscribers of each further event are closed as
 * slow consumers (4003, they recover on reconnect) instead of the queue growing without bound.
 *
 * <p><b>Write coalescing.</b> With a write delay, connections that have something to write register
 * here; one timer per loop flushes all of them together, at most the delay after the first.
 */
public final class LoopDispatcher {
  private static final Logger log = LoggerFactory.getLogger(LoopDispatcher.class);

  /** Fan-out events that may wait for one loop. */
  static final int MAX_QUEUED_EVENTS = 1 << 16;

  private enum Kind {
    PUBLICATION,
    PRESENCE,
    RESET
  }

  // Never compared or hashed: the array is the fan-out's member snapshot, shared without a copy.
  @SuppressWarnings("ArrayRecordComponent")
  private record Event(
      Kind kind, Subscription[] members, @Nullable Pub pub, @Nullable OutboundMessage message) {}

  private final EventLoop loop;
  private final Scheduler scheduler;
  private final LongConsumer latency;
  private final long writeDelayMillis;
  private final ConcurrentLinkedQueue<Event> inbox = new ConcurrentLinkedQueue<>();
  // Events handed over and not yet run (also while one runs), so that nothing overtakes them.
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final Runnable drainTask = this::drain;
  private final Runnable flushTask = this::flushDirty;
  private final Executor onLoop;

  // Confined to the loop.
  private ArrayList<Connection> dirty = new ArrayList<>();
  private ArrayList<Connection> flushing = new ArrayList<>();
  private boolean flushArmed;
  private final ArrayList<OutboundMessage> batch = new ArrayList<>(8);
  private boolean batchLent;
  // Delivery latency: inside a fan-out pass, the publication time of what was written at once
  // (0: nothing yet); recorded once when the pass ends, not once per connection.
  private boolean inPass;
  private long writtenAt;

  // Open connections on this loop; guarded by the hub's map of dispatchers.
  private int connections;

  /** One more connection on this loop; under the hub's map of dispatchers. */
  public void retain() {
    connections++;
  }

  /** One connection fewer; true when none is left. Under the hub's map of dispatchers. */
  public boolean release() {
    return --connections == 0;
  }

  /**
   * @param latency receives the delivery latency of each fan-out pass (publication to the last
   *     write of the pass on this loop)
   * @param writeDelayMillis the write delay ({@code transport.write-delay}); 0 writes at once
   */
  public LoopDispatcher(
      EventLoop loop, Scheduler scheduler, LongConsumer latency, long writeDelayMillis) {
    this.loop = loop;
    this.scheduler = scheduler;
    this.latency = latency;
    this.writeDelayMillis = writeDelayMillis;
    this.onLoop =
        task -> {
          if (loop.inLoop()) {
            task.run();
          } else {
            loop.execute(task);
          }
        };
  }

  /** Runs a task inline when called on the loop, else hands it to the loop. */
  public Executor onLoop() {
    return onLoop;
  }

  public EventLoop loop() {
    return loop;
  }

  public boolean coalescing() {
    return writeDelayMillis > 0;
  }

  // ------------------------------------------------------------------ fan-out (any thread)

  public void publication(Subscription[] members, Pub pub, OutboundMessage message) {
    if (queued.get() == 0 && loop.inLoop()) {
      publish(members, pub, message);
    } else {
      offer(new Event(Kind.PUBLICATION, members, pub, message));
    }
  }

  public void presence(Subscription[] members, OutboundMessage message) {
    if (queued.get() == 0 && loop.inLoop()) {
      presence0(members, message);
    } else {
      offer(new Event(Kind.PRESENCE, members, null, message));
    }
  }

  public void reset(Subscription[] members) {
    if (queued.get() == 0 && loop.inLoop()) {
      reset0(members);
    } else {
      offer(new Event(Kind.RESET, members, null, null));
    }
  }

  private void offer(Event e) {
    if (queued.incrementAndGet() > MAX_QUEUED_EVENTS) {
      queued.decrementAndGet();
      overrun(e.members());
      return;
    }
    inbox.add(e);
    if (scheduled.compareAndSet(false, true)) {
      loop.execute(drainTask);
    }
  }

  private void drain() {
    scheduled.set(false);
    Event e;
    while ((e = inbox.poll()) != null) {
      try {
        switch (e.kind()) {
          case PUBLICATION ->
              publish(
                  e.members(),
                  Objects.requireNonNull(e.pub()),
                  Objects.requireNonNull(e.message()));
          case PRESENCE -> presence0(e.members(), Objects.requireNonNull(e.message()));
          case RESET -> reset0(e.members());
        }
      } finally {
        queued.decrementAndGet();
      }
    }
  }

  private void publish(Subscription[] members, Pub pub, OutboundMessage message) {
    inPass = true;
    try {
      for (Subscription s : members) {
        try {
          s.onPublication(pub, message);
        } catch (RuntimeException ex) {
          failed(s, ex);
        }
      }
    } finally {
      inPass = false;
      if (writtenAt != 0) {
        latency.accept(Math.max(0, scheduler.nowMillis() - writtenAt));
        writtenAt = 0;
      }
    }
  }

  /** Records the latency of a publication written now (from a connection's queue). */
  void latency(long publishedAt) {
    latency.accept(Math.max(0, scheduler.nowMillis() - publishedAt));
  }

  /**
   * A connection wrote a publication at once ({@code publishedAt} is its publication time): inside
   * a fan-out pass the latency is recorded once, when the pass ends (the time the last connection
   * of the loop got it); outside one, now. On the loop.
   */
  public void written(long publishedAt) {
    if (!inPass) {
      latency.accept(Math.max(0, scheduler.nowMillis() - publishedAt));
    } else if (writtenAt == 0 || publishedAt < writtenAt) {
      writtenAt = publishedAt;
    }
  }

  private static void presence0(Subscription[] members, OutboundMessage message) {
    for (Subscription s : members) {
      try {
        s.onPresence(message);
      } catch (RuntimeException ex) {
        failed(s, ex);
      }
    }
  }

  private static void reset0(Subscription[] members) {
    for (Subscription s : members) {
      try {
        s.onReset();
      } catch (RuntimeException ex) {
        failed(s, ex);
      }
    }
  }

  /** One receiver's failure must not stop the others: it is closed, they go on. */
  private static void failed(Subscription s, RuntimeException ex) {
    log.error("delivery to {} in {} failed", s.connection().clientId(), s.channel(), ex);
    s.connection().internalError();
  }

  /** The loop is far behind: its receivers of this event cannot get it, so they must recover. */
  private static void overrun(Subscription[] members) {
    for (Subscription s : members) {
      s.connection().overflowFromAnyThread();
    }
  }

  // ------------------------------------------------------------------ on the loop

  /** A session has something to write; it is flushed with the others after the write delay. */
  public void markDirty(Connection s) {
    dirty.add(s);
    if (!flushArmed) {
      flushArmed = true;
      scheduler.schedule(writeDelayMillis, () -> loop.execute(flushTask));
    }
  }

  private void flushDirty() {
    flushArmed = false;
    ArrayList<Connection> now = dirty;
    dirty = flushing;
    flushing = now;
    for (int i = 0; i < now.size(); i++) {
      try {
        now.get(i).flushCoalesced();
      } catch (RuntimeException ex) {
        log.error("write of {} failed", now.get(i).clientId(), ex);
        now.get(i).internalError();
      }
    }
    now.clear();
  }

  /**
   * The list a session hands to its transport. One per loop, reused from write to write (the
   * transport must not keep it); a fresh one if a transport writes while another write is still in
   * progress on this loop.
   */
  public List<OutboundMessage> borrowBatch() {
    if (batchLent) {
      return new ArrayList<>(4);
    }
    batchLent = true;
    return batch;
  }

  public void returnBatch(List<OutboundMessage> b) {
    if (b == batch) {
      batch.clear();
      batchLent = false;
    }
  }
}
