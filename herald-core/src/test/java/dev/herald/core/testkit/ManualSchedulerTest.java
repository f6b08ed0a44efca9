package dev.herald.core.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.core.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManualSchedulerTest {
  private final ManualScheduler s = new ManualScheduler();
  private final List<String> log = new ArrayList<>();

  @Test
  void clockStartsAtAFixedTimeAndOnlyMovesOnAdvance() {
    assertThat(s.nowMillis()).isEqualTo(ManualScheduler.DEFAULT_START);
    assertThat(new ManualScheduler(42).nowMillis()).isEqualTo(42);
    s.advance(Duration.ofSeconds(3));
    assertThat(s.nowMillis()).isEqualTo(ManualScheduler.DEFAULT_START + 3000);
    assertThatThrownBy(() -> s.advance(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void dueTasksRunInTimeOrderWithTheClockAtTheirDueTime() {
    long t0 = s.nowMillis();
    s.schedule(300, () -> log.add("c@" + (s.nowMillis() - t0)));
    s.schedule(100, () -> log.add("a@" + (s.nowMillis() - t0)));
    s.schedule(100, () -> log.add("b@" + (s.nowMillis() - t0)));
    s.schedule(1000, () -> log.add("late"));

    assertThat(s.advance(Duration.ofMillis(99))).isZero();
    assertThat(s.advance(Duration.ofMillis(201))).isEqualTo(3);
    assertThat(log).containsExactly("a@100", "b@100", "c@300");
    assertThat(s.nowMillis() - t0).isEqualTo(300);
    assertThat(s.pendingTasks()).isEqualTo(1);
  }

  @Test
  void tasksScheduledWhileAdvancingRunWhenTheyFallInTheWindow() {
    long t0 = s.nowMillis();
    s.schedule(
        100,
        () -> {
          log.add("first@" + (s.nowMillis() - t0));
          s.schedule(100, () -> log.add("second@" + (s.nowMillis() - t0)));
          s.schedule(1000, () -> log.add("outside"));
        });
    s.advance(Duration.ofMillis(500));
    assertThat(log).containsExactly("first@100", "second@200");
    assertThat(s.nowMillis() - t0).isEqualTo(500);
  }

  @Test
  void periodicReschedulingRunsOncePerPeriod() {
    Runnable[] tick = new Runnable[1];
    tick[0] =
        () -> {
          log.add("tick");
          s.schedule(1000, tick[0]);
        };
    s.schedule(1000, tick[0]);
    s.advance(Duration.ofMillis(5500));
    assertThat(log).hasSize(5);
  }

  @Test
  void cancelledTasksDoNotRun() {
    Scheduler.Cancellable c = s.schedule(100, () -> log.add("cancelled"));
    s.schedule(100, () -> log.add("kept"));
    c.cancel();
    assertThat(s.pendingTasks()).isEqualTo(1);
    s.advance(Duration.ofSeconds(1));
    assertThat(log).containsExactly("kept");
    c.cancel(); // cancelling again, or after the time passed, does nothing
  }

  @Test
  void zeroDelayRunsOnRunDue() {
    s.schedule(0, () -> log.add("now"));
    assertThat(log).isEmpty();
    assertThat(s.runDue()).isEqualTo(1);
    assertThat(log).containsExactly("now");
  }
}
