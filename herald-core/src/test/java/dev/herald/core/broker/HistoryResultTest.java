package dev.herald.core.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HistoryResultTest {
  private static final String E = "epoch00001";

  private static List<Pub> pubs(long from, long to) {
    List<Pub> out = new ArrayList<>();
    for (long o = from; o <= to; o++) {
      out.add(new Pub("test:c", E, o, 1000 + o, TestHub.json("{\"n\":" + o + "}"), null));
    }
    return out;
  }

  private static HistoryResult result(long top, List<Pub> pubs) {
    return new HistoryResult(new StreamPosition(E, top), pubs);
  }

  @Test
  void nothingMissedContinuesEvenWithoutHistory() {
    assertThat(result(5, List.of()).continues(new StreamPosition(E, 5))).isTrue();
    assertThat(result(0, List.of()).continues(new StreamPosition(E, 0))).isTrue();
  }

  @Test
  void completeTailContinues() {
    assertThat(result(5, pubs(3, 5)).continues(new StreamPosition(E, 2))).isTrue();
    assertThat(result(5, pubs(1, 5)).continues(new StreamPosition(E, 0))).isTrue();
    assertThat(result(1, pubs(1, 1)).continues(new StreamPosition(E, 0))).isTrue();
  }

  @Test
  void otherEpochDoesNotContinue() {
    assertThat(result(5, pubs(3, 5)).continues(new StreamPosition("otherepoch", 2))).isFalse();
    assertThat(result(5, List.of()).continues(new StreamPosition("otherepoch", 5))).isFalse();
  }

  @Test
  void sinceAheadOfTopDoesNotContinue() {
    assertThat(result(5, List.of()).continues(new StreamPosition(E, 6))).isFalse();
  }

  @Test
  void trimmedHistoryDoesNotContinue() {
    // publications 1 and 2 were trimmed: a client at 0 missed them
    assertThat(result(5, pubs(3, 5)).continues(new StreamPosition(E, 0))).isFalse();
    assertThat(result(5, pubs(3, 5)).continues(new StreamPosition(E, 1))).isFalse();
  }

  @Test
  void missedButNoHistoryDoesNotContinue() {
    assertThat(result(5, List.of()).continues(new StreamPosition(E, 4))).isFalse();
  }

  @Test
  void historyThatDoesNotReachTheTopDoesNotContinue() {
    assertThat(result(5, pubs(2, 4)).continues(new StreamPosition(E, 1))).isFalse();
    assertThat(result(5, pubs(2, 5)).continues(new StreamPosition(E, 2)))
        .isFalse(); // size mismatch
  }

  @Test
  void publicationsAreCopied() {
    List<Pub> list = new ArrayList<>(pubs(1, 2));
    HistoryResult r = result(2, list);
    list.clear();
    assertThat(r.publications()).hasSize(2);
    assertThatThrownBy(() -> r.publications().clear())
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
