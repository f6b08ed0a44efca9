package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.ManualScheduler;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Waiting for every node's answer, the asking node's too, bounded on the injected clock. */
class GatheringTest {
  private final ManualScheduler clock = new ManualScheduler();

  @Test
  void doneOnceThisNodeAndEveryExpectedNodeAnsweredEvenIfAnswersCameFirst() {
    Gathering g = Gathering.start("a", clock, 2000);
    g.answer("b", "1");
    assertThat(g.result()).isNotDone();
    g.expect(Set.of("b", "c"));
    g.answer("c", "2");
    assertThat(g.result()).isNotDone();
    g.answer("a", "0");

    Gathering.Gathered r = g.result().join();
    assertThat(r.answers())
        .containsExactly(Map.entry("a", "0"), Map.entry("b", "1"), Map.entry("c", "2"));
    assertThat(r.missing()).isEmpty();
  }

  @Test
  void aNodeThatDoesNotAnswerIsNamedWhenTheTimeIsUpAndNotBefore() {
    Gathering g = Gathering.start("a", clock, 2000);
    g.answer("a", "0");
    g.expect(Set.of("d", "b", "c"));
    g.answer("c", "x");
    clock.advance(Duration.ofMillis(1999));
    assertThat(g.result()).isNotDone();
    clock.advance(Duration.ofMillis(1));

    Gathering.Gathered r = g.result().join();
    assertThat(r.answers()).containsOnlyKeys("a", "c");
    assertThat(r.missing()).containsExactly("b", "d");
    g.answer("b", "late");
    assertThat(g.result().join().answers()).containsOnlyKeys("a", "c");
  }

  @Test
  void theAskingNodeIsNamedWhenItsOwnAnswerDoesNotCome() {
    Gathering g = Gathering.start("a", clock, 2000);
    g.expect(Set.of("b"));
    g.answer("b", "1");
    assertThat(g.result()).isNotDone();
    clock.advance(Duration.ofSeconds(2));
    assertThat(g.result().join().missing()).containsExactly("a");
    assertThat(g.result().join().answers()).containsOnlyKeys("b");
  }

  @Test
  void noOtherNodeIsDoneWithTheOwnAnswer() {
    Gathering g = Gathering.start("a", clock, 2000);
    g.expect(Set.of());
    assertThat(g.result()).isNotDone();
    g.answer("a", "0");
    assertThat(g.result().join().missing()).isEmpty();
  }

  @Test
  void othersThatCouldNotBeAskedOrWhoseNamesNeverCameAreAStar() {
    Gathering unsent = Gathering.start("a", clock, 2000);
    unsent.answer("a", "0");
    unsent.unreachable();
    assertThat(unsent.result().join().missing()).containsExactly(Gathering.UNREACHABLE);
    assertThat(unsent.result().join().answers()).containsOnlyKeys("a");

    Gathering unknown = Gathering.start("a", clock, 2000);
    unknown.answer("a", "0");
    unknown.answer("b", "1");
    clock.advance(Duration.ofSeconds(2));
    assertThat(unknown.result().join().missing()).containsExactly(Gathering.UNREACHABLE);
    assertThat(unknown.result().join().answers()).containsOnlyKeys("a", "b");
  }
}
