package dev.herald.core.limits;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
  @Test
  void allowsTheBurstThenTheRate() {
    TokenBucket b = new TokenBucket(10, 5, 0);
    for (int i = 0; i < 5; i++) {
      assertThat(b.tryTake(0)).as("burst #%d", i).isTrue();
    }
    assertThat(b.tryTake(0)).isFalse();
    assertThat(b.tryTake(99)).as("0.99 token after 99 ms").isFalse();
    assertThat(b.tryTake(100)).as("one token per 100 ms at 10/s").isTrue();
    assertThat(b.tryTake(100)).isFalse();
  }

  @Test
  void refillIsCappedAtTheBurst() {
    TokenBucket b = new TokenBucket(1000, 3, 0);
    for (int i = 0; i < 3; i++) {
      b.tryTake(0);
    }
    long later = 365L * 24 * 3600 * 1000; // a year idle: no overflow, still only the burst
    int taken = 0;
    while (b.tryTake(later)) {
      taken++;
    }
    assertThat(taken).isEqualTo(3);
  }

  @Test
  void theLargestRateAndBurstDoNotOverflow() {
    TokenBucket b = new TokenBucket(Integer.MAX_VALUE, Integer.MAX_VALUE, 0);
    for (int i = 0; i < 1000; i++) {
      assertThat(b.tryTake(0)).isTrue();
    }
    // A long idle period at the largest rate refills the bucket instead of wrapping negative.
    long later = 365L * 24 * 3600 * 1000;
    for (int i = 0; i < 1000; i++) {
      assertThat(b.tryTake(later)).as("take #%d after a year", i).isTrue();
    }
    TokenBucket slowBigBurst = new TokenBucket(1, Integer.MAX_VALUE, 0);
    assertThat(slowBigBurst.tryTake(Long.MAX_VALUE / 2)).isTrue();
  }

  @Test
  void zeroRateMeansUnlimited() {
    TokenBucket b = new TokenBucket(0, 0, 0);
    for (int i = 0; i < 100_000; i++) {
      assertThat(b.tryTake(0)).isTrue();
    }
  }

  @Test
  void clockGoingBackwardsGrantsNothing() {
    TokenBucket b = new TokenBucket(10, 1, 1_000);
    assertThat(b.tryTake(1_000)).isTrue();
    assertThat(b.tryTake(0)).isFalse();
  }
}
