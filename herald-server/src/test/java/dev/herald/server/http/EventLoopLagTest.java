package dev.herald.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.ManualScheduler;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class EventLoopLagTest {
  private final ManualScheduler clock = new ManualScheduler();
  private final EventLoopLag lag = new EventLoopLag(clock::nowMillis, Duration.ofMillis(500));
  private final EventLoopLag.Probe first = lag.probe();
  private final EventLoopLag.Probe second = lag.probe();

  @Test
  void loopsThatRunTheirProbesOnTimeAreHealthy() {
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofMillis(EventLoopLag.INTERVAL_MS + 20));
      first.ran();
      second.ran();
    }
    assertThat(lag.worstMillis()).isEqualTo(20);
    assertThat(lag.healthy()).isTrue();
  }

  @Test
  void aLoopBlockedRightNowIsUnhealthyBeforeItsProbeRuns() {
    clock.advance(Duration.ofMillis(EventLoopLag.INTERVAL_MS));
    first.ran();
    second.ran();
    clock.advance(Duration.ofMillis(EventLoopLag.INTERVAL_MS));
    first.ran(); // the second loop is stuck: its probe is overdue
    clock.advance(Duration.ofMillis(400));
    assertThat(lag.healthy()).isTrue();
    clock.advance(Duration.ofMillis(101));
    first.ran();

    assertThat(lag.worstMillis()).isEqualTo(501);
    assertThat(lag.healthy()).isFalse();
  }

  @Test
  void aLoopThatWasBlockedStaysUnhealthyUntilItRunsAProbeOnTimeAgain() {
    clock.advance(Duration.ofSeconds(3));
    first.ran(); // ran 2.9 s late
    second.ran();
    assertThat(lag.healthy()).isFalse();

    clock.advance(Duration.ofMillis(EventLoopLag.INTERVAL_MS));
    first.ran();
    second.ran();
    assertThat(lag.worstMillis()).isZero();
    assertThat(lag.healthy()).isTrue();
  }

  @Test
  void aZeroThresholdTurnsTheCheckOff() {
    EventLoopLag off = new EventLoopLag(clock::nowMillis, Duration.ZERO);
    off.probe();
    clock.advance(Duration.ofMinutes(1));
    assertThat(off.healthy()).isTrue();
  }
}
