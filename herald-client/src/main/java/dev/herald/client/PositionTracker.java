package dev.herald.client;

import dev.herald.protocol.StreamPosition;
import org.jspecify.annotations.Nullable;

/**
 * The position of the last publication processed on one channel, and the continuity rules of
 * docs/protocol.md section 5. Pure logic, not thread-safe (the client uses it on its event thread).
 *
 * <ul>
 *   <li>After a subscribe without {@code since}, or whose recovery failed, the position becomes the
 *       reply's {@code epoch}/{@code offset}.
 *   <li>After a successful recovery the position stays at {@code since}: the missed publications
 *       follow and move it forward one by one.
 *   <li>A publication at position + 1 in the same epoch is accepted and becomes the position; one
 *       at or below the position is a duplicate; anything else (other epoch, or a skipped offset)
 *       is a gap, and the position does not move.
 * </ul>
 */
final class PositionTracker {
  enum SubscribeOutcome {
    /** Subscribed without asking for recovery. */
    FRESH,
    /** Recovery worked: the missed publications follow. */
    RECOVERED,
    /** Recovery was asked for and failed: the application must reload its state. */
    STATE_LOST
  }

  enum PubOutcome {
    /** Next in sequence: deliver it. */
    ACCEPT,
    /** Already seen: drop it. */
    DUPLICATE,
    /** Publications are missing before it: drop it and resubscribe from {@link #position()}. */
    GAP
  }

  private @Nullable StreamPosition position;

  PositionTracker(@Nullable StreamPosition initial) {
    this.position = initial;
  }

  /** The position of the last processed publication, or null before the first subscribe. */
  @Nullable StreamPosition position() {
    return position;
  }

  /**
   * Applies a subscribe result.
   *
   * @param since the position sent with the subscribe, or null
   */
  SubscribeOutcome onSubscribed(
      @Nullable StreamPosition since, String epoch, long offset, boolean recovered) {
    if (since == null) {
      position = new StreamPosition(epoch, offset);
      return SubscribeOutcome.FRESH;
    }
    if (recovered && since.epoch().equals(epoch)) {
      position = since;
      return SubscribeOutcome.RECOVERED;
    }
    // recovered=false, or (defensively) a "recovered" reply in another epoch, which cannot be.
    position = new StreamPosition(epoch, offset);
    return SubscribeOutcome.STATE_LOST;
  }

  /** Checks a publication against the position and advances it when accepted. */
  PubOutcome onPub(String epoch, long offset) {
    if (position == null) {
      position = new StreamPosition(epoch, offset);
      return PubOutcome.ACCEPT;
    }
    if (!position.epoch().equals(epoch)) {
      return PubOutcome.GAP;
    }
    if (offset <= position.offset()) {
      return PubOutcome.DUPLICATE;
    }
    if (offset != position.offset() + 1) {
      return PubOutcome.GAP;
    }
    position = new StreamPosition(epoch, offset);
    return PubOutcome.ACCEPT;
  }
}
