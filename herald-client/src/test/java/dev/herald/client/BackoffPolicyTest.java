package dev.herald.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BackoffPolicyTest {
  private static final double ALMOST_ONE = Math.nextDown(1.0);

  private static DoubleSupplier constant(double v) {
    return () -> v;
  }

  @Test
  void ceilingDoublesFromBaseUpToCap() {
    BackoffPolicy p = new BackoffPolicy(500, 30_000, constant(0));
    assertThat(p.ceiling(0)).isEqualTo(500);
    assertThat(p.ceiling(1)).isEqualTo(1_000);
    assertThat(p.ceiling(2)).isEqualTo(2_000);
    assertThat(p.ceiling(5)).isEqualTo(16_000);
    assertThat(p.ceiling(6)).isEqualTo(30_000);
    assertThat(p.ceiling(1_000)).isEqualTo(30_000);
    assertThat(p.ceiling(Integer.MAX_VALUE)).isEqualTo(30_000);
  }

  @Test
  void fullJitterSpansZeroToTheCeiling() {
    BackoffPolicy low = new BackoffPolicy(500, 30_000, constant(0));
    BackoffPolicy high = new BackoffPolicy(500, 30_000, constant(ALMOST_ONE));
    BackoffPolicy mid = new BackoffPolicy(500, 30_000, constant(0.5));
    for (int attempt = 0; attempt < 10; attempt++) {
      long ceiling = high.ceiling(attempt);
      assertThat(low.nextDelay()).isZero();
      assertThat(high.nextDelay()).isEqualTo(ceiling - 1);
      assertThat(mid.nextDelay()).isEqualTo(ceiling / 2);
    }
    assertThat(high.attempt()).isEqualTo(10);
  }

  @Test
  void delaysWithRealRandomnessStayWithinBoundsAndCap() {
    SplittableRandom r = new SplittableRandom(42);
    BackoffPolicy p = new BackoffPolicy(500, 30_000, r::nextDouble);
    for (int attempt = 0; attempt < 200; attempt++) {
      long bound = Math.min(30_000, 500L << Math.min(attempt, 20));
      assertThat(p.nextDelay()).isBetween(0L, bound - 1);
    }
  }

  @Test
  void outOfRangeRandomValuesAreClamped() {
    assertThat(new BackoffPolicy(500, 30_000, constant(-3)).nextDelay()).isZero();
    assertThat(new BackoffPolicy(500, 30_000, constant(Double.NaN)).nextDelay()).isZero();
    assertThat(new BackoffPolicy(500, 30_000, constant(7)).nextDelay()).isEqualTo(499);
  }

  @Test
  void resetAfterSuccessStartsOverFromBase() {
    BackoffPolicy p = new BackoffPolicy(500, 30_000, constant(ALMOST_ONE));
    for (int i = 0; i < 8; i++) {
      p.nextDelay();
    }
    assertThat(p.nextDelay()).isEqualTo(29_999);
    p.reset();
    assertThat(p.attempt()).isZero();
    assertThat(p.nextDelay()).isEqualTo(499);
    assertThat(p.nextDelay()).isEqualTo(999);
  }

  @Test
  void retryMsFromTheServerIsHonouredWithSmallJitter() {
    Deque<Double> values = new ArrayDeque<>(java.util.List.of(0.0, ALMOST_ONE, 0.5));
    BackoffPolicy p = new BackoffPolicy(500, 30_000, values::poll);
    assertThat(p.decide(new CloseInfo(4001, "server restart", 2_300, true)))
        .isEqualTo(new BackoffPolicy.Decision(true, 2_300));
    // jitter at most a tenth of the suggestion: 230 ms
    assertThat(p.decide(new CloseInfo(4001, "server restart", 2_300, true)).delayMs())
        .isEqualTo(2_300 + 229);
    // and at most one second
    assertThat(p.decide(new CloseInfo(4001, "server restart", 60_000, true)).delayMs())
        .isEqualTo(60_000 + 500);
    assertThat(p.attempt()).isEqualTo(3);
  }

  @Test
  void suggestionsBeyondTheCapAreHonouredButAbsurdOnesAreBounded() {
    BackoffPolicy p = new BackoffPolicy(500, 1_000, constant(0));
    assertThat(p.delayFor(45_000)).isEqualTo(45_000);
    assertThat(p.delayFor(Long.MAX_VALUE)).isEqualTo(BackoffPolicy.MAX_SUGGESTED_MS);
  }

  @Test
  void withoutSuggestionTheBackoffIsUsed() {
    BackoffPolicy p = new BackoffPolicy(500, 30_000, constant(0.5));
    assertThat(p.decide(CloseInfo.local("connection reset")))
        .isEqualTo(new BackoffPolicy.Decision(true, 250));
    assertThat(p.decide(new CloseInfo(4001, "server restart", 0, true)))
        .isEqualTo(new BackoffPolicy.Decision(true, 500));
  }

  @ParameterizedTest
  @ValueSource(ints = {1000, 4500, 4501, 4502, 4700, 4999})
  void terminalCodesStop(int code) {
    BackoffPolicy p = new BackoffPolicy(500, 30_000, constant(0.5));
    assertThat(p.decide(new CloseInfo(code, "x", 5_000, true)))
        .isEqualTo(BackoffPolicy.Decision.STOP);
    assertThat(p.attempt()).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      ints = {1001, 1002, 1003, 1005, 1006, 1009, 1011, 1015, 4000, 4001, 4005, 4008, 4499, 5000})
  void otherCodesReconnect(int code) {
    BackoffPolicy p = new BackoffPolicy(500, 30_000, constant(0.5));
    assertThat(p.decide(new CloseInfo(code, "x", 0, true)).reconnect()).isTrue();
  }

  @Test
  void rejectsNonsenseConfiguration() {
    assertThatThrownBy(() -> new BackoffPolicy(0, 1_000, constant(0)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new BackoffPolicy(500, 100, constant(0)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
