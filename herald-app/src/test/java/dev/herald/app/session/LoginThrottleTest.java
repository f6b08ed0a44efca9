package dev.herald.app.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {
  /** A clock tests move by hand. */
  private static final class ManualClock extends Clock {
    private long millis = 1_000_000;

    void advance(Duration d) {
      millis += d.toMillis();
    }

    @Override
    public long millis() {
      return millis;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  private final ManualClock clock = new ManualClock();
  private final LoginThrottle throttle =
      new LoginThrottle(clock, 5, 20, Duration.ofMinutes(15), Duration.ofMinutes(15));

  private void fail(String account, String address, int times) {
    for (int i = 0; i < times; i++) {
      assertThat(throttle.delay(account, address)).as("attempt %d allowed", i).isZero();
      throttle.failed(account, address);
    }
  }

  /** Fails {@code times}, each time waiting out whatever delay applies first. */
  private void failPatiently(String account, String address, int times) {
    for (int i = 0; i < times; i++) {
      clock.advance(throttle.delay(account, address));
      throttle.failed(account, address);
    }
  }

  @Test
  void afterTheThresholdTheDelayDoublesPerFailureUpToTheCap() {
    fail("dave", "10.0.0.1", 5);
    assertThat(throttle.delay("dave", "10.0.0.1")).isEqualTo(Duration.ofSeconds(1));
    clock.advance(Duration.ofSeconds(1));
    throttle.failed("dave", "10.0.0.1");
    assertThat(throttle.delay("dave", "10.0.0.1")).isEqualTo(Duration.ofSeconds(2));
    for (int i = 0; i < 20; i++) {
      clock.advance(throttle.delay("dave", "10.0.0.1"));
      throttle.failed("dave", "10.0.0.1");
    }
    assertThat(throttle.delay("dave", "10.0.0.1")).isEqualTo(Duration.ofMinutes(15));
  }

  @Test
  void refusedAttemptsDoNotCountAndTheDelayEnds() {
    fail("dave", "10.0.0.1", 5);
    for (int i = 0; i < 100; i++) {
      assertThat(throttle.delay("dave", "10.0.0.1")).isPositive(); // refused, not counted
    }
    clock.advance(Duration.ofSeconds(1));
    assertThat(throttle.delay("dave", "10.0.0.1")).isZero();
  }

  @Test
  void anAttackerElsewhereDoesNotLockTheUserOut() {
    failPatiently("dave", "203.0.113.66", 12);
    assertThat(throttle.delay("dave", "203.0.113.66")).isPositive();
    assertThat(throttle.delay("dave", "10.0.0.1")).as("the real user's address").isZero();
    assertThat(throttle.delay("eve", "203.0.113.66")).as("other accounts").isZero();
  }

  @Test
  void oneAddressTryingManyAccountsIsSlowedDown() {
    for (int i = 0; i < 20; i++) {
      fail("user" + i, "203.0.113.66", 1);
    }
    assertThat(throttle.delay("somebody-new", "203.0.113.66")).isEqualTo(Duration.ofSeconds(1));
    assertThat(throttle.delay("somebody-new", "10.0.0.1")).isZero();
  }

  @Test
  void aDistributedAttackOnOneAccountDelaysItByAMinuteAtMost() {
    for (int i = 0; i < 100; i++) {
      failPatiently("dave", "198.51.100." + i, 1);
    }
    Duration d = throttle.delay("dave", "10.0.0.1");
    assertThat(d).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void successClearsTheAccountAndTheWindowForgets() {
    fail("dave", "10.0.0.1", 4);
    throttle.succeeded("dave", "10.0.0.1");
    fail("dave", "10.0.0.1", 4); // counting starts over
    assertThat(throttle.delay("dave", "10.0.0.1")).isZero();
    clock.advance(Duration.ofMinutes(16));
    fail("dave", "10.0.0.1", 4);
    assertThat(throttle.delay("dave", "10.0.0.1")).isZero();
  }

  @Test
  void accountNamesAreComparedIgnoringCaseAndSpaces() {
    fail("Dave ", "10.0.0.1", 3);
    fail("dave", "10.0.0.1", 2);
    assertThat(throttle.delay("DAVE", "10.0.0.1")).isPositive();
  }
}
