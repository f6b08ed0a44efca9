package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.ManualScheduler;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Waiting for the other nodes' answers, bounded by a timeout on the injected clock. */
class GatheringTest {
  private final ManualScheduler clock = new ManualScheduler();

  @Test
  void doneOnceEveryExpectedNodeAnsweredEvenIfAnswersCameFirst() {
    Gathering g = Gathering.start(clock, 2000);
    g.answer("b", "1");
    assertThat(g.result()).isNotDone();
    g.expect(Set.of("b", "c"));
    assertThat(g.result()).isNotDone();
    g.answer("c", "2");

    Gathering.Gathered r = g.result().join();
    assertThat(r.answers())
        .containsExactly(java.util.Map.entry("b", "1"), java.util.Map.entry("c", "2"));
    assertThat(r.missing()).isEmpty();
  }

  @Test
  void aNodeThatDoesNotAnswerIsNamedWhenTheTimeIsUpAndNotBefore() {
    Gathering g = Gathering.start(clock, 2000);
    g.expect(Set.of("d", "b", "c"));
    g.answer("c", "x");
    clock.advance(Duration.ofMillis(1999));
    assertThat(g.result()).isNotDone();
    clock.advance(Duration.ofMillis(1));

    Gathering.Gathered r = g.result().join();
    assertThat(r.answers()).containsOnlyKeys("c");
    assertThat(r.missing()).containsExactly("b", "d");
    g.answer("b", "late");
    assertThat(g.result().join().answers()).containsOnlyKeys("c");
  }

  @Test
  void noOtherNodeIsDoneAtOnce() {
    Gathering g = Gathering.start(clock, 2000);
    g.expect(Set.of());
    assertThat(g.result().join().missing()).isEmpty();
  }

  @Test
  void aQuestionThatCouldNotBeSentOrWhoseRecipientsAreUnknownNamesTheOthersAsAStar() {
    Gathering unsent = Gathering.start(clock, 2000);
    unsent.unreachable();
    assertThat(unsent.result().join().missing()).containsExactly(Gathering.UNREACHABLE);

    Gathering unknown = Gathering.start(clock, 2000);
    unknown.answer("b", "1");
    clock.advance(Duration.ofSeconds(2));
    assertThat(unknown.result().join().missing()).containsExactly(Gathering.UNREACHABLE);
    assertThat(unknown.result().join().answers()).containsOnlyKeys("b");
  }
}
