package dev.herald.server.doctor;

import java.util.List;

/**
 * What one probe found.
 *
 * @param probe {@code info}, {@code websocket}, {@code sse} or {@code long-polling}
 * @param status the outcome
 * @param finding what happened and what it means, in plain words
 * @param fixes what to change, most likely first (may be empty)
 */
public record ProbeResult(String probe, Status status, String finding, List<String> fixes) {
  /** Outcome of a probe. */
  public enum Status {
    OK,
    /**
     * Works, with a problem that costs clients something: events arrive late, or idle connections
     * are cut (clients reconnect and recover).
     */
    WARN,
    FAIL,
    /** Not run, because an earlier probe showed it cannot work (e.g. nothing listens). */
    SKIP
  }

  public ProbeResult {
    fixes = List.copyOf(fixes);
  }

  static ProbeResult ok(String probe, String finding) {
    return new ProbeResult(probe, Status.OK, finding, List.of());
  }

  static ProbeResult warn(String probe, Finding f) {
    return new ProbeResult(probe, Status.WARN, f.text(), f.fixes());
  }

  static ProbeResult fail(String probe, Finding f) {
    return new ProbeResult(probe, Status.FAIL, f.text(), f.fixes());
  }

  /** Worked without a problem. */
  public boolean ok() {
    return status == Status.OK;
  }

  /** Worked, with or without a problem ({@link Status#OK} or {@link Status#WARN}). */
  public boolean works() {
    return status == Status.OK || status == Status.WARN;
  }
}
