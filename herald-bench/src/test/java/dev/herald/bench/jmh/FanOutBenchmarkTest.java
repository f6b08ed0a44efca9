package dev.herald.bench.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The microbenchmark measures what it says: every subscriber is written to, once per call. */
class FanOutBenchmarkTest {
  @Test
  void everySubscriberReceivesEachPublication() throws Exception {
    FanOutBenchmark b = new FanOutBenchmark();
    b.subscribers = 1000;
    b.setup();
    try {
      long before = b.written.get();
      b.publishToAll();
      b.publishToAll();
      assertThat(b.written.get() - before).isEqualTo(2000);
    } finally {
      b.tearDown();
    }
  }
}
