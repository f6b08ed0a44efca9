package dev.herald.core.delivery;

import dev.herald.core.channel.ChannelName;
import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * One connection's subscription to one channel, and its place in the channel's stream.
 *
 * <p>Phases: <b>pending</b> from the moment it is registered for fan-out until the channel's
 * history is read (live events arriving meanwhile are held here); <b>recovering</b> while the
 * publications the client missed are queued a page at a time, at the pace the client reads them
 * (live events still held); <b>live</b> once the backlog and then the held events are queued, after
 * which events are queued as they arrive; <b>ended</b> when unsubscribed, revoked or its stream
 * could not be continued.
 *
 * <p>Threading: every field is confined to the session's event loop, which owns the connection; the
 * fan-out hands events to that loop ({@link LoopDispatcher}). No lock.
 *
 * <p>Ordering: a publication at or below the last position queued is a duplicate (seen both in
 * history and live) and skipped; one that does not continue the position (another epoch, or a gap)
 * means the stream was reset, and the subscription ends with {@code unsubscribed} code 116 so the
 * client resubscribes from its last position and learns whether it recovered. Nothing is ever
 * skipped silently.
 */
public final class Subscription {
  /** Where the subscription is in its life. */
  public enum Phase {
    PENDING,
    RECOVERING,
    LIVE,
    ENDED
  }

  /** A held event: a publication, a presence event (pub null) or a stream reset (both null). */
  private record Held(@Nullable Pub pub, @Nullable OutboundMessage message) {}

  private static final Held RESET = new Held(null, null);

  private final Connection session;
  private final ChannelName channel;
  private final NamespaceSettings namespace;

  private Phase phase = Phase.PENDING;
  // Last position queued to the client (null until the subscription starts).
  private @Nullable String epoch;
  private long offset;
  // Pending and recovering: live events held back, and their size (counted against the outbox).
  private @Nullable ArrayDeque<Held> held;
  private long heldBytes;
  // Recovering: the missed publications and the next one to queue.
  private @Nullable List<Pub> backlog;
  private int next;
  private @Nullable Function<Pub, OutboundMessage> encoder;
  // Presence state set by the client, and whether its join was announced.
  private @Nullable RawJson presenceState;
  private boolean joined;
  private boolean counted;

  public Subscription(Connection session, ChannelName channel, NamespaceSettings namespace) {
    this.session = session;
    this.channel = channel;
    this.namespace = namespace;
  }

  public Connection connection() {
    return session;
  }

  public ChannelName channel() {
    return channel;
  }

  public NamespaceSettings namespace() {
    return namespace;
  }

  public Phase phase() {
    return phase;
  }

  // ------------------------------------------------------------------ events from fan-out

  public void onPublication(Pub pub, OutboundMessage message) {
    switch (phase) {
      case LIVE -> queueInOrder(pub, message);
      case PENDING, RECOVERING -> hold(new Held(pub, message));
      case ENDED -> {}
    }
  }

  public void onPresence(OutboundMessage message) {
    switch (phase) {
      case LIVE -> session.enqueue(message);
      case PENDING, RECOVERING -> hold(new Held(null, message));
      case ENDED -> {}
    }
  }

  /** The broker says the channel's stream cannot be continued for this node's subscribers. */
  public void onReset() {
    switch (phase) {
      case LIVE -> streamLost();
      // The history read in progress may come from before or after the reset: judged in order.
      case PENDING, RECOVERING -> hold(RESET);
      case ENDED -> {}
    }
  }

  // ------------------------------------------------------------------ phases

  /**
   * History is read: queues the subscribe reply, then either goes live at once or starts the
   * recovery of {@code missed}, which the session feeds a page at a time ({@link #queuePage}).
   *
   * @param start the position the client is at after the reply (its {@code since} when recovered,
   *     else the stream's top)
   * @return true if the subscription is recovering (the session must feed it pages)
   */
  public boolean start(
      OutboundMessage reply,
      StreamPosition start,
      List<Pub> missed,
      Function<Pub, OutboundMessage> encoder) {
    if (phase != Phase.PENDING) {
      return false;
    }
    session.enqueue(reply);
    epoch = start.epoch();
    offset = start.offset();
    if (missed.isEmpty()) {
      goLive();
      return false;
    }
    phase = Phase.RECOVERING;
    backlog = missed;
    next = 0;
    this.encoder = encoder;
    return true;
  }

  /**
   * Queues the next page of the backlog: publications up to about {@code pageBytes} (at least one).
   * After the last page, the held events follow and the subscription is live.
   *
   * @return true once the subscription no longer needs pages (live, or ended)
   */
  public boolean queuePage(long pageBytes) {
    // Kept in locals: queueing may end the subscription (a gap), which drops both fields.
    List<Pub> b = backlog;
    Function<Pub, OutboundMessage> enc = encoder;
    if (phase != Phase.RECOVERING || b == null || enc == null) {
      return true;
    }
    long bytes = 0;
    while (next < b.size() && (bytes == 0 || bytes < pageBytes) && phase == Phase.RECOVERING) {
      Pub p = b.get(next++);
      OutboundMessage m = enc.apply(p);
      bytes += m.size();
      queueInOrder(p, m);
    }
    if (phase != Phase.RECOVERING) {
      return true;
    }
    if (next < b.size()) {
      return false;
    }
    backlog = null;
    encoder = null;
    goLive();
    return true;
  }

  private void goLive() {
    phase = Phase.LIVE;
    ArrayDeque<Held> h = held;
    held = null;
    heldBytes = 0;
    if (h == null) {
      return;
    }
    for (Held e : h) {
      if (phase != Phase.LIVE) {
        return; // ended by a reset or a gap among the held events
      }
      Pub p = e.pub();
      OutboundMessage m = e.message();
      if (m == null) { // RESET
        streamLost();
      } else if (p == null) {
        session.enqueue(m);
      } else {
        queueInOrder(p, m);
      }
    }
  }

  /** Ends the subscription here; the session tells the client and the broker. */
  public void end() {
    phase = Phase.ENDED;
    held = null;
    heldBytes = 0;
    backlog = null;
    encoder = null;
  }

  /** Last position queued to the client, or null before the subscription started. */
  public @Nullable StreamPosition position() {
    return epoch == null ? null : new StreamPosition(epoch, offset);
  }

  // ------------------------------------------------------------------ internals

  private void queueInOrder(Pub pub, OutboundMessage message) {
    if (pub.offset() <= offset && pub.epoch().equals(epoch)) {
      return; // already queued (seen in history and live)
    }
    if (!pub.epoch().equals(epoch) || pub.offset() != offset + 1) {
      // A broker must never do this; if its stream was reset the client is told rather than
      // silently moved to another epoch or past a gap.
      streamLost();
      return;
    }
    offset = pub.offset();
    session.enqueue(message);
  }

  private void streamLost() {
    session.streamLost(this);
  }

  /**
   * Keeps an event while pending or recovering. Held events count against the connection's outbox
   * limit: a busy channel behind a slow history read or a long recovery ends as a slow consumer
   * (4003, and recovery on reconnect), never as unbounded memory.
   */
  private void hold(Held e) {
    ArrayDeque<Held> h = held;
    if (h == null) {
      h = held = new ArrayDeque<>(4);
    }
    heldBytes += e.message() == null ? 0 : e.message().size();
    if (heldBytes > session.outboxLimit()) {
      held = null;
      heldBytes = 0;
      session.overflow();
      return;
    }
    h.add(e);
  }

  // ------------------------------------------------------------------ session bookkeeping

  /** Whether {@code HubMetrics#subscribed} was reported for it (so its end is reported too). */
  public boolean counted() {
    return counted;
  }

  public void counted(boolean v) {
    counted = v;
  }

  public boolean joined() {
    return joined;
  }

  public void joined(boolean v) {
    joined = v;
  }

  public @Nullable RawJson presenceState() {
    return presenceState;
  }

  public void presenceState(@Nullable RawJson state) {
    presenceState = state;
  }
}
