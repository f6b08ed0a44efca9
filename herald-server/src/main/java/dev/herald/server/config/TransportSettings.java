package dev.herald.server.config;

import java.time.Duration;

/**
 * Settings shared by all transports.
 *
 * @param writeDelay how long a connection's outbound messages may wait so that those queued
 *     meanwhile go out in one write (one frame, one system call); zero writes at once
 * @param eventLoops how many event loops serve connections (default 1); 0 means one per available
 *     core
 */
public record TransportSettings(Duration writeDelay, int eventLoops) {
  /** The largest write delay accepted: beyond this, latency matters more than any saving. */
  public static final Duration MAX_WRITE_DELAY = Duration.ofMillis(100);

  public TransportSettings {
    writeDelay = writeDelay == null ? Duration.ZERO : writeDelay;
    if (eventLoops < 0) {
      throw new IllegalArgumentException("eventLoops must be >= 0");
    }
  }

  public static TransportSettings defaults() {
    return new TransportSettings(Duration.ZERO, 1);
  }

  /** The number of event loops to use: as configured, or one per available core. */
  public int effectiveEventLoops() {
    return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
  }
}
