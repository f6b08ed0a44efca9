package dev.herald.bench;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * Where publications come from in a measurement: the HTTP publish API ({@link Publisher}) or a
 * client publishing over its own WebSocket ({@link WsPublisher}). Each message carries its sequence
 * number and its scheduled send time, so a source that falls behind shows up as latency.
 */
interface Source extends AutoCloseable {
  /**
   * Sends {@code count} messages with sequence numbers from {@code firstSeq}, at {@code rate}/s.
   */
  void run(long firstSeq, long count, double rate) throws IOException;

  /** Answers received so far (accepted or refused). */
  long answered();

  /** Refusals received so far. */
  long refused();

  /** The first refusal, or null. */
  @Nullable String firstRefusal();

  /** Largest delay between a message's scheduled and actual send time since the last reset (µs). */
  long maxLagMicros();

  void resetLag();

  @Override
  void close() throws IOException;

  /** JSON data of one benchmark message: its sequence number and scheduled send time. */
  static String data(long seq, long sentNanos) {
    return "{\"bseq\":" + seq + ",\"bts\":" + sentNanos + "}";
  }
}
