package dev.herald.server.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ReportLimiterTest {
  private final AtomicLong now = new AtomicLong(1_000_000);
  private final ReportLimiter limiter = new ReportLimiter(now::get);

  private int allowed(String address, String session, int tries) {
    int n = 0;
    for (int i = 0; i < tries; i++) {
      if (limiter.allow(address, session)) {
        n++;
      }
    }
    return n;
  }

  @Test
  void anAddressGetsABurstThenOneReportEveryThirtySeconds() {
    assertThat(allowed("10.0.0.1", null, 50)).isEqualTo(ReportLimiter.BURST);
    now.addAndGet(29_999);
    assertThat(limiter.allow("10.0.0.1", null)).isFalse();
    now.addAndGet(1);
    assertThat(allowed("10.0.0.1", null, 5)).isEqualTo(1);
    now.addAndGet(ReportLimiter.REFILL_MILLIS * 1000); // a long quiet time refills the burst only
    assertThat(allowed("10.0.0.1", null, 50)).isEqualTo(ReportLimiter.BURST);
    assertThat(allowed("10.0.0.2", null, 5)).as("other addresses are not affected").isEqualTo(5);
  }

  @Test
  void aSessionIsBoundedAcrossAddressesAndAnAddressAcrossSessions() {
    assertThat(allowed("10.0.0.1", "s-1", 10)).isEqualTo(10);
    assertThat(allowed("10.0.0.2", "s-1", 50)).isEqualTo(ReportLimiter.BURST - 10);
    assertThat(allowed("10.0.0.3", "s-2", 10)).isEqualTo(10);
    assertThat(allowed("10.0.0.3", "s-3", 50)).isEqualTo(ReportLimiter.BURST - 10);
  }

  @Test
  void theKeysKeptAreBounded() {
    for (int i = 0; i < ReportLimiter.MAX_KEYS + 10; i++) {
      limiter.allow("10.1." + (i / 256) + "." + (i % 256), null);
    }
    // The oldest address was forgotten: it starts with a full burst again, nothing grew unbounded.
    assertThat(allowed("10.1.0.0", null, 50)).isEqualTo(ReportLimiter.BURST);
  }
}
