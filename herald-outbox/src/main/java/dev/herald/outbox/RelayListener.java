package dev.herald.outbox;

import java.time.Duration;

/**
 * What the relay reports, for metrics and logs (the app wires it to Micrometer). Called on the
 * relay's worker thread; implementations must be quick and must not throw.
 */
public interface RelayListener {
  /**
   * An event was taken by the hub. {@code lag} runs from when it was recorded (inside the
   * committing transaction) to now.
   */
  default void published(String channel, long seq, Duration lag) {}

  /** A publication failed or timed out; the channel is retried after a backoff. */
  default void publishFailed(String channel, long seq, Throwable error) {}

  /**
   * The backlog after a relay pass: events recorded but not yet published, and the age of the
   * oldest of them ({@link Duration#ZERO} when none). Reported by the leader only.
   */
  default void backlog(long events, Duration oldest) {}

  /** This relay became the leader ({@code true}) or stopped being it. */
  default void leadership(boolean leader) {}

  /** Maintenance removed published events: superseded ones (compaction) and expired ones. */
  default void removed(int compacted, int expired) {}

  RelayListener NONE = new RelayListener() {};
}
