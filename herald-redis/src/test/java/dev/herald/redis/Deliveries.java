package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.ArrayList;
import java.util.List;

/**
 * What a node delivered of numbered publications ({"n":...} or {"i":...}, one field), checked
 * against what was acknowledged: nothing lost silently.
 */
final class Deliveries {
  private Deliveries() {}

  /** One publication acknowledged by Redis: its number and where it landed. */
  record Acked(int n, StreamPosition at) {}

  /** The number a publication carries. */
  static int n(Pub p) {
    String json = p.data().json();
    return Integer.parseInt(json.substring(json.indexOf(':') + 1, json.length() - 1));
  }

  record Counts(int delivered, int covered) {}

  /**
   * Every acknowledged publication was delivered exactly once in order, or a reset came between the
   * delivered publications around it. Returns how many acknowledged ones were delivered and how
   * many covered.
   */
  static Counts check(List<Acked> acked, List<Object> events) {
    List<Integer> delivered = new ArrayList<>();
    for (Object e : events) {
      if (e instanceof Pub p) {
        delivered.add(n(p));
      }
    }
    assertThat(delivered).as("delivered in order, each once").isSorted().doesNotHaveDuplicates();
    int covered = 0;
    int deliveredAcked = 0;
    for (Acked a : acked) {
      if (delivered.contains(a.n())) {
        deliveredAcked++;
        continue;
      }
      int from = -1; // index of the last delivery before it
      int to = events.size(); // index of the first delivery after it
      for (int i = 0; i < events.size(); i++) {
        if (events.get(i) instanceof Pub p) {
          if (n(p) < a.n()) {
            from = i;
          } else if (to == events.size()) {
            to = i;
          }
        }
      }
      assertThat(events.subList(from + 1, to))
          .as("publication %d (%s) was not delivered: a reset must say so", a.n(), a.at())
          .contains("reset");
      covered++;
    }
    return new Counts(deliveredAcked, covered);
  }
}
