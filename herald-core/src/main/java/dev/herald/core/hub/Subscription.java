package dev.herald.core.hub;

import dev.herald.core.channel.ChannelName;
import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.protocol.CloseCode;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One connection's subscription to one channel.
 *
 * <p>It starts <i>pending</i>: the subscription is registered for fan-out before the channel's
 * history is read, and live messages that arrive meanwhile are held here. {@link #goLive} then
 * queues, in one step under this object's lock, the subscribe reply, the recovered publications and
 * the held ones that come after them, so the client sees one ordered sequence with no gap and no
 * duplicate. After that, publications are queued as they arrive, skipping any at or below the last
 * offset sent.
 */
final class Subscription {
  private final ClientSession session;
  private final ChannelName channel;
  private final NamespaceSettings namespace;

  // All fields below are guarded by "this". The lock is held only to queue messages (no I/O).
  private boolean live;
  private List<Held> held = new ArrayList<>();
  private String epoch;
  private long offset;
  // Presence state set by the client and whether its join was announced; only touched on the
  // session's executor.
  private RawJson presenceState;
  private boolean joined;
  private volatile boolean counted;
  // Bytes held while pending, guarded by "this"; counted against the connection's outbox limit.
  private long heldBytes;
  // Set once the stream could not be continued; the session is being closed. Guarded by "this".
  private boolean lost;

  Subscription(ClientSession session, ChannelName channel, NamespaceSettings namespace) {
    this.session = session;
    this.channel = channel;
    this.namespace = namespace;
  }

  ClientSession session() {
    return session;
  }

  ChannelName channel() {
    return channel;
  }

  NamespaceSettings namespace() {
    return namespace;
  }

  /** Called by fan-out, from any thread. */
  void deliver(Pub pub, OutboundMessage message) {
    synchronized (this) {
      if (!live) {
        hold(new Held(pub, message));
        return;
      }
      sendInOrder(pub, message);
    }
  }

  /** Presence events are not part of the ordered stream but must not overtake the reply. */
  void deliverPresence(OutboundMessage message) {
    synchronized (this) {
      if (!live) {
        hold(new Held(null, message));
        return;
      }
      session.enqueue(message);
    }
  }

  /**
   * Makes the subscription live.
   *
   * <p>The recovered publications are queued a page at a time: the next page only once the
   * connection has written most of the previous one, so a backlog larger than the outbound queue (a
   * slow consumer coming back) is delivered at the reader's pace instead of overflowing again. Live
   * messages are held until the last page is queued, then follow in order.
   *
   * @param reply the encoded subscribe reply, queued first
   * @param start the position the client is at after the reply (its {@code since} when recovered,
   *     else the stream's top)
   * @param recovered publications to send after the reply, in order
   * @param encoder encodes a recovered publication
   */
  void goLive(
      OutboundMessage reply,
      StreamPosition start,
      List<Pub> recovered,
      Function<Pub, OutboundMessage> encoder) {
    synchronized (this) {
      session.enqueue(reply);
      epoch = start.epoch();
      offset = start.offset();
    }
    sendRecovered(recovered, 0, encoder);
  }

  private void sendRecovered(
      List<Pub> recovered, int from, Function<Pub, OutboundMessage> encoder) {
    long page = Math.max(1, session.outboxLimit() / 4);
    synchronized (this) {
      if (lost || held == null) {
        return; // the stream was reset or the session overflowed: it is being closed
      }
      long bytes = 0;
      int i = from;
      while (i < recovered.size() && (i == from || bytes < page)) {
        Pub p = recovered.get(i++);
        OutboundMessage m = encoder.apply(p);
        bytes += m.size();
        sendInOrder(p, m);
      }
      if (i < recovered.size()) {
        int next = i;
        session.whenOutboxDrainedTo(page, () -> sendRecovered(recovered, next, encoder));
        return;
      }
      for (Held h : held) {
        if (h.pub == null) {
          session.enqueue(h.message);
        } else {
          sendInOrder(h.pub, h.message);
        }
      }
      held = null;
      live = true;
    }
  }

  /** Last position queued to the client. */
  synchronized StreamPosition position() {
    return epoch == null ? null : new StreamPosition(epoch, offset);
  }

  /**
   * The stream cannot be continued for this client (new epoch, or publications lost in between):
   * the connection is closed with a reconnect code, and its resubscription from the last position
   * it saw either recovers or is told to refetch. Nothing more is queued before that.
   */
  void streamLost() {
    synchronized (this) {
      if (lost) {
        return;
      }
      lost = true;
    }
    session.disconnect(
        CloseCode.FORCE_RECONNECT, "stream reset: resubscribe to recover", session.retryHint());
  }

  private void sendInOrder(Pub pub, OutboundMessage message) {
    if (lost) {
      return;
    }
    if (pub.epoch().equals(epoch) && pub.offset() <= offset) {
      return; // already sent (seen in history and live)
    }
    if (live && epoch != null && (!pub.epoch().equals(epoch) || pub.offset() != offset + 1)) {
      // A broker must never do this; if its stream was reset, the client is told rather than
      // silently switched to the new epoch or moved past a gap.
      lost = true;
      session.disconnect(
          CloseCode.FORCE_RECONNECT, "stream reset: resubscribe to recover", session.retryHint());
      return;
    }
    epoch = pub.epoch();
    offset = pub.offset();
    session.enqueue(message);
  }

  /**
   * Keeps a live message while history is read. Held messages count against the connection's outbox
   * limit: a busy channel behind a slow history read ends as a slow consumer (4003, and recovery on
   * reconnect), never as unbounded memory. Called with "this" held.
   */
  private void hold(Held h) {
    if (held == null) {
      return; // overflowed before: the session is closing
    }
    heldBytes += h.message.size();
    if (heldBytes > session.outboxLimit()) {
      held = null;
      session.overflow();
      return;
    }
    held.add(h);
  }

  /** Whether {@link HubMetrics#subscribed} was reported for it (so its end is reported too). */
  boolean counted() {
    return counted;
  }

  void counted(boolean v) {
    counted = v;
  }

  boolean joined() {
    return joined;
  }

  void joined(boolean v) {
    joined = v;
  }

  RawJson presenceState() {
    return presenceState;
  }

  void presenceState(RawJson state) {
    presenceState = state;
  }

  private record Held(Pub pub, OutboundMessage message) {}
}
