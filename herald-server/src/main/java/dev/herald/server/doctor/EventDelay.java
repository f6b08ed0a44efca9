package dev.herald.server.doctor;

import java.util.List;

/**
 * How late small events arrive on a stream, from samples of a command sent by POST and the event it
 * causes. Herald writes the event to the stream before it answers the POST, so on a path that
 * passes events at once the event is there when the POST's answer arrives: the time from the POST's
 * answer to the event (its <em>lag</em>) is close to zero whatever the network's round-trip time. A
 * hop that holds small writes back to merge them with later ones (HAProxy in {@code mode http}
 * without {@code option http-no-delay} holds each one about 200 ms) adds its delay to every lag.
 * The median of several samples decides, so one slow moment of a busy machine does not.
 *
 * @param lagMillis per sample, from the POST's answer to the event (0 when the event came first)
 * @param roundTripMillis per sample, from sending the POST to the event
 */
record EventDelay(List<Long> lagMillis, List<Long> roundTripMillis) {
  /**
   * A median lag at or above this is reported. Healthy paths measure a few milliseconds (tens on a
   * loaded machine); the delays this catches are about 200 ms.
   */
  static final long THRESHOLD_MILLIS = 100;

  /** How many events the SSE probe measures. */
  static final int SAMPLES = 5;

  EventDelay {
    if (lagMillis.isEmpty() || lagMillis.size() != roundTripMillis.size()) {
      throw new IllegalArgumentException("one lag and one round trip per sample, at least one");
    }
    lagMillis = List.copyOf(lagMillis);
    roundTripMillis = List.copyOf(roundTripMillis);
  }

  long medianLag() {
    return median(lagMillis);
  }

  long medianRoundTrip() {
    return median(roundTripMillis);
  }

  /** Whether events are held back on the way (the median lag reaches the threshold). */
  boolean delayed() {
    return medianLag() >= THRESHOLD_MILLIS;
  }

  int samples() {
    return lagMillis.size();
  }

  private static long median(List<Long> values) {
    long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}
