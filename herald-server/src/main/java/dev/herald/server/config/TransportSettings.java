package dev.herald.server.config;

import java.time.Duration;

/**
 * Settings shared by all transports.
 *
 * @param writeDelay how long a connection's outbound messages may wait so that those queued
 *     meanwhile go out in one write (one frame, one system call); zero writes at once
 */
public record TransportSettings(Duration writeDelay) {
  /** The largest write delay accepted: beyond this, latency matters more than any saving. */
  public static final Duration MAX_WRITE_DELAY = Duration.ofMillis(100);

  public TransportSettings {
    writeDelay = writeDelay == null ? Duration.ZERO : writeDelay;
  }

  public static TransportSettings defaults() {
    return new TransportSettings(Duration.ZERO);
  }
}
