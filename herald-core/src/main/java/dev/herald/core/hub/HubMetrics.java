package dev.herald.core.hub;

/**
 * Hooks through which the hub reports what it does, for a metrics library to count. Every method
 * has a no-op default, so an implementation overrides only what it records.
 *
 * <p>Cost: the hub calls these from hot paths (fan-out, the outbox drain), never once per
 * subscriber per message: {@link #delivered} gets the count of one fan-out, and {@link
 * #deliveryLatency} is called once per batch handed to a transport. Implementations must be
 * thread-safe, must not block and should not allocate (counters, {@code LongAdder}s, pre-built
 * histograms).
 */
public interface HubMetrics {
  /** Records nothing. */
  HubMetrics NONE = new HubMetrics() {};

  /** Outcome of a subscribe request as far as recovery is concerned. */
  enum Recovery {
    /** The client asked to recover from a position and got every missed publication. */
    RECOVERED,
    /** The client asked to recover but history no longer covers its position (or epoch changed). */
    NOT_RECOVERED,
    /** A plain subscribe, without a position. */
    NOT_REQUESTED
  }

  /** A connection completed its connect handshake (authenticated). */
  default void connected(String transport) {}

  /**
   * A session ended.
   *
   * @param transport the transport name
   * @param wasConnected whether it had completed connect (so {@link #connected} was reported)
   * @param code the close code, or 0 when the peer or the network ended it
   * @param reason a short fixed label: the close code's name in lower case (e.g. {@code
   *     slow_consumer}), or {@code transport_closed}
   */
  default void disconnected(String transport, boolean wasConnected, int code, String reason) {}

  /** A subscription went live. */
  default void subscribed() {}

  /** A subscription ended (unsubscribe or disconnect). */
  default void unsubscribed() {}

  /** The hub received a publication from the broker (once per publication per node). */
  default void published() {}

  /** One fan-out queued a publication to {@code count} local subscribers. */
  default void delivered(int count) {}

  /** A connection was closed as a slow consumer (4003). */
  default void slowConsumer(String transport) {}

  /**
   * A subscription ended because its channel's stream could not be continued (new epoch, or
   * publications missing); the client was told to resubscribe ({@code unsubscribed} 116).
   */
  default void streamReset() {}

  /** A subscribe completed with this recovery outcome. */
  default void recovery(Recovery outcome) {}

  /**
   * Server-side latency, publication time to the moment its batch was handed to the transport, of
   * the oldest publication in the batch (once per batch, not per message).
   */
  default void deliveryLatency(long millis) {}
}
