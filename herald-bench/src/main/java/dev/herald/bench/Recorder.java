package dev.herald.bench;

import org.HdrHistogram.Histogram;

/**
 * Counts and times what one worker's connections receive. Confined to the worker's single event
 * loop thread. Each message carries the publisher's sequence number and its scheduled send time
 * ({@link System#nanoTime()}, CLOCK_MONOTONIC, shared by all processes on the machine), so loss,
 * duplicates, order and latency are checked per connection.
 */
final class Recorder {
  /** Microseconds, up to 10 minutes, 3 significant digits. */
  final Histogram latencyMicros = new Histogram(600_000_000L, 3);

  long base;
  long delivered;
  long gaps;
  long duplicates;
  long stale;

  void reset(long base) {
    this.base = base;
    latencyMicros.reset();
    delivered = 0;
    gaps = 0;
    duplicates = 0;
    stale = 0;
  }

  /** One received publication on a connection whose next expected sequence number is given. */
  long record(long expected, long seq, long sentNanos) {
    if (seq < base) {
      stale++; // from before this measurement
      return expected;
    }
    if (expected < base) {
      expected = base;
    }
    if (seq < expected) {
      duplicates++;
      return expected;
    }
    if (seq > expected) {
      gaps += seq - expected;
    }
    delivered++;
    long micros = Math.max(0, (System.nanoTime() - sentNanos) / 1000);
    latencyMicros.recordValue(Math.min(micros, latencyMicros.getHighestTrackableValue()));
    return seq + 1;
  }
}
