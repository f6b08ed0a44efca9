package dev.herald.server.config;

import java.time.Duration;

/**
 * Settings shared by all transports. (The write delay, {@code transport.write-delay}, is the hub's:
 * {@code HubConfig#writeDelay}.)
 *
 * @param eventLoops how many event loops serve connections; 0 (the default) means one per available
 *     core
 * @param maxEventLoopLag the node reports itself not ready ({@code /health/ready} 503) while an
 *     event loop runs its tasks later than this (a loop blocked or overloaded); zero turns the
 *     check off
 */
public record TransportSettings(int eventLoops, Duration maxEventLoopLag) {
  /** The default {@code server.max-event-loop-lag}. */
  public static final Duration DEFAULT_MAX_EVENT_LOOP_LAG = Duration.ofSeconds(2);

  /** The largest write delay accepted: beyond this, latency matters more than any saving. */
  public static final Duration MAX_WRITE_DELAY = Duration.ofMillis(100);

  public TransportSettings {
    if (eventLoops < 0) {
      throw new IllegalArgumentException("eventLoops must be >= 0");
    }
    if (maxEventLoopLag == null || maxEventLoopLag.isNegative()) {
      throw new IllegalArgumentException("maxEventLoopLag must be >= 0");
    }
  }

  public TransportSettings(int eventLoops) {
    this(eventLoops, DEFAULT_MAX_EVENT_LOOP_LAG);
  }

  public static TransportSettings defaults() {
    return new TransportSettings(0);
  }

  /** The number of event loops to use: as configured, or one per available core. */
  public int effectiveEventLoops() {
    return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
  }
}
