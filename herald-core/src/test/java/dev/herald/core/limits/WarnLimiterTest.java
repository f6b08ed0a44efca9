package dev.herald.core.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WarnLimiterTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final WarnLimiter limiter = new WarnLimiter(10_000, now::get);

  @Test
  void theFirstOccurrenceIsLoggedThenOnePerIntervalWithTheCountHeldBack() {
    assertThat(limiter.admit()).isZero();
    now.addAndGet(1);
    assertThat(limiter.admit()).isEqualTo(-1);
    now.addAndGet(5_000);
    assertThat(limiter.admit()).isEqualTo(-1);
    now.addAndGet(4_999); // exactly one interval after the first
    assertThat(limiter.admit()).isEqualTo(2);
    now.addAndGet(60_000);
    assertThat(limiter.admit()).as("nothing held back in between").isZero();
  }
}
