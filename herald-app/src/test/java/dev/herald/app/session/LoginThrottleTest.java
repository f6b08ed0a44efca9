package dev.herald.app.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.ManualScheduler;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {

  private final ManualScheduler time = new ManualScheduler(1_000_000);
  private final Clock clock = time.clock();
  private final LoginThrottle throttle =
      new LoginThrottle(clock, 5, 20, Duration.ofMinutes(15), Duration.ofMinutes(15));

  private Duration delay(String account, String address) {
    return throttle.delay(account, address, null);
  }

  private LoginThrottle.Permit permit(String account, String address, String device) {
    LoginThrottle.Attempt a = throttle.attempt(account, address, device);
    assertThat(a).isInstanceOf(LoginThrottle.Permit.class);
    return (LoginThrottle.Permit) a;
  }

  private void fail(String account, String address, int times) {
    for (int i = 0; i < times; i++) {
      assertThat(throttle.attempt(account, address, null))
          .as("attempt %d allowed", i)
          .isInstanceOf(LoginThrottle.Permit.class);
    }
  }

  /** Fails {@code times}, each time waiting out whatever delay applies first. */
  private void failPatiently(String account, String address, String device, int times) {
    for (int i = 0; i < times; i++) {
      time.advance(throttle.delay(account, address, device));
      permit(account, address, device);
    }
  }

  @Test
  void afterTheThresholdTheDelayDoublesPerFailureUpToTheCap() {
    fail("dave", "10.0.0.1", 5);
    assertThat(delay("dave", "10.0.0.1")).isEqualTo(Duration.ofSeconds(1));
    time.advance(Duration.ofSeconds(1));
    fail("dave", "10.0.0.1", 1);
    assertThat(delay("dave", "10.0.0.1")).isEqualTo(Duration.ofSeconds(2));
    failPatiently("dave", "10.0.0.1", null, 20);
    assertThat(delay("dave", "10.0.0.1")).isEqualTo(Duration.ofMinutes(15));
  }

  @Test
  void refusedAttemptsDoNotCountAndTheDelayEnds() {
    fail("dave", "10.0.0.1", 5);
    for (int i = 0; i < 100; i++) {
      assertThat(throttle.attempt("dave", "10.0.0.1", null))
          .isInstanceOf(LoginThrottle.Refused.class); // refused, not counted
    }
    time.advance(Duration.ofSeconds(1));
    assertThat(delay("dave", "10.0.0.1")).isZero();
  }

  @Test
  void attemptsAreCountedBeforeThePasswordIsChecked() {
    // Five attempts in flight at once (none has finished): the sixth is refused already.
    for (int i = 0; i < 5; i++) {
      permit("dave", "10.0.0.1", null);
    }
    assertThat(throttle.attempt("dave", "10.0.0.1", null))
        .isInstanceOf(LoginThrottle.Refused.class);
  }

  @Test
  void aSuccessGivesItsCountBackAndACancelledAttemptCountsNothing() {
    fail("dave", "10.0.0.1", 4);
    permit("dave", "10.0.0.1", null).succeeded();
    fail("dave", "10.0.0.1", 4); // counting starts over
    assertThat(delay("dave", "10.0.0.1")).isZero();
    permit("dave", "10.0.0.1", null).cancel();
    assertThat(delay("dave", "10.0.0.1")).isZero();
  }

  @Test
  void anAttackerElsewhereDoesNotLockTheUserOut() {
    failPatiently("dave", "203.0.113.66", null, 12);
    assertThat(delay("dave", "203.0.113.66")).isPositive();
    assertThat(delay("dave", "10.0.0.1")).as("the real user's address").isZero();
    assertThat(delay("eve", "203.0.113.66")).as("other accounts").isZero();
  }

  @Test
  void aDeviceCookieHolderIsNotHeldBackByAnAttackFromEverywhere() {
    // An attacker keeps failing from several addresses, on and on, one attempt whenever allowed.
    for (int round = 0; round < 200; round++) {
      String address = "198.51.100." + (round % 7);
      time.advance(throttle.delay("dave", address, null));
      permit("dave", address, null);
    }
    assertThat(delay("dave", "10.0.0.1"))
        .as("a new browser: a minute at most")
        .isPositive()
        .isLessThanOrEqualTo(Duration.ofMinutes(1));
    assertThat(delay("dave", "198.51.100.3")).as("even on the attacker's address").isPositive();
    // The real user's browser, which logged in before, gets in at once, from anywhere.
    assertThat(throttle.delay("dave", "10.0.0.1", "device-1")).isZero();
    assertThat(throttle.delay("dave", "198.51.100.3", "device-1")).isZero();
    permit("dave", "198.51.100.3", "device-1").succeeded();
  }

  @Test
  void aDeviceHasItsOwnCounter() {
    failPatiently("dave", "10.0.0.1", "device-1", 5);
    assertThat(throttle.delay("dave", "10.0.0.1", "device-1")).isEqualTo(Duration.ofSeconds(1));
    assertThat(throttle.delay("dave", "10.0.0.1", "device-2")).isZero();
  }

  @Test
  void oneAddressTryingManyAccountsIsSlowedDownForNewBrowsersOnlyAndByAMinuteAtMost() {
    for (int i = 0; i < 60; i++) {
      failPatiently("user" + (i % 20) + "-" + i, "203.0.113.66", null, 1);
    }
    assertThat(delay("somebody-new", "203.0.113.66"))
        .isPositive()
        .isLessThanOrEqualTo(Duration.ofMinutes(1));
    assertThat(delay("somebody-new", "10.0.0.1")).isZero();
    // Behind the same shared address, a browser that logged in before is not held back.
    assertThat(throttle.delay("alice", "203.0.113.66", "alice-laptop")).isZero();
  }

  @Test
  void aDistributedAttackOnOneAccountDelaysItByAMinuteAtMost() {
    for (int i = 0; i < 100; i++) {
      failPatiently("dave", "198.51.100." + i, null, 1);
    }
    Duration d = delay("dave", "10.0.0.1");
    assertThat(d).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void theWindowForgets() {
    fail("dave", "10.0.0.1", 4);
    time.advance(Duration.ofMinutes(16));
    fail("dave", "10.0.0.1", 4);
    assertThat(delay("dave", "10.0.0.1")).isZero();
  }

  @Test
  void accountNamesAreComparedIgnoringCaseAndSpaces() {
    fail("Dave ", "10.0.0.1", 3);
    fail(" dave", "10.0.0.1", 2);
    assertThat(delay("DAVE", "10.0.0.1")).isPositive();
  }

  @Test
  void aFullTableNeverForgetsAKeyThatIsDelayingAttempts() {
    fail("dave", "10.0.0.1", 5);
    assertThat(delay("dave", "10.0.0.1")).isPositive();
    // Fill the table with one-off failures from many addresses on many accounts.
    for (int i = 0; i < LoginThrottle.MAX_ENTRIES / 2 + 10; i++) {
      fail("someone" + i, "192.0.2." + (i % 250) + ":" + i, 1);
    }
    assertThat(throttle.size()).isLessThanOrEqualTo(LoginThrottle.MAX_ENTRIES);
    assertThat(delay("dave", "10.0.0.1")).as("still delayed after the purge").isPositive();
  }
}
