package dev.herald.server.doctor;

import dev.herald.server.doctor.Wire.Head;
import org.jspecify.annotations.Nullable;

/**
 * What happened to a connection the doctor held idle (see {@link IdleCheck}).
 *
 * @param end how the hold ended
 * @param heldMillis from the start of the hold to its end
 * @param silentMillis when it ended: for a WebSocket or a stream, the time since the last data from
 *     the server; for long-polling, how long the poll that ended it had been open
 * @param pings Herald pings received (and answered) during the hold
 * @param emptyPolls polls Herald answered {@code 204} after holding them its full time
 * @param longestEmptyPollMillis the longest of those
 * @param closeCode {@link End#CLOSED}: Herald's close code
 * @param closeReason {@link End#CLOSED}: Herald's reason
 * @param answer {@link End#CUT} of a poll: the answer that ended it (a proxy's 504...), or null
 *     when the connection was dropped without one
 * @param answerBody the body of {@code answer} ("" when none)
 * @param detail {@link End#CUT}: what the doctor saw; {@link End#REFUSED}: the server's refusal
 */
record IdleOutcome(
    End end,
    long heldMillis,
    long silentMillis,
    int pings,
    int emptyPolls,
    long longestEmptyPollMillis,
    int closeCode,
    String closeReason,
    @Nullable Head answer,
    String answerBody,
    String detail) {

  /** How a hold ended. */
  enum End {
    /** Still open when the hold time was over. */
    HELD,
    /** Cut by something in between: no close frame, no {@code disconnect}, or a proxy's answer. */
    CUT,
    /** Herald closed it (with a close code), e.g. 4004 when the doctor's session never connects. */
    CLOSED,
    /** Herald refused the credentials the doctor was given. */
    REFUSED
  }

  /** The hold is being counted: pings and polls so far. */
  record Counts(int pings, int emptyPolls, long longestEmptyPollMillis) {
    static final Counts NONE = new Counts(0, 0, 0);

    Counts ping() {
      return new Counts(pings + 1, emptyPolls, longestEmptyPollMillis);
    }

    Counts emptyPoll(long millis) {
      return new Counts(pings, emptyPolls + 1, Math.max(longestEmptyPollMillis, millis));
    }
  }

  static IdleOutcome held(long heldMillis, Counts c) {
    return new IdleOutcome(
        End.HELD,
        heldMillis,
        0,
        c.pings(),
        c.emptyPolls(),
        c.longestEmptyPollMillis(),
        0,
        "",
        null,
        "",
        "");
  }

  static IdleOutcome cut(
      long heldMillis,
      long silentMillis,
      Counts c,
      @Nullable Head answer,
      @Nullable String body,
      String detail) {
    return new IdleOutcome(
        End.CUT,
        heldMillis,
        silentMillis,
        c.pings(),
        c.emptyPolls(),
        c.longestEmptyPollMillis(),
        0,
        "",
        answer,
        body == null ? "" : body,
        detail);
  }

  static IdleOutcome closed(long heldMillis, long silentMillis, Counts c, int code, String reason) {
    return new IdleOutcome(
        End.CLOSED,
        heldMillis,
        silentMillis,
        c.pings(),
        c.emptyPolls(),
        c.longestEmptyPollMillis(),
        code,
        reason,
        null,
        "",
        "");
  }

  static IdleOutcome refused(long heldMillis, String why) {
    return new IdleOutcome(End.REFUSED, heldMillis, 0, 0, 0, 0, 0, "", null, "", why);
  }
}
