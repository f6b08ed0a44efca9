package dev.herald.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ReportTest {
  private final Report report =
      new Report(Options.from(Args.parse(new String[] {"--smoke"})), Path.of("target"));

  private void maxRate(String label, int rep, double rate) {
    report.add(new Result("maxrate-1000", label, rep).put("maxRate", rate));
  }

  @Test
  void theRedisBrokerIsComparedWithTheInMemoryOneWithinEachRepetition() {
    // Medians of the two servers alone would give 60/80 = 0.75x; the repetitions' own ratios are
    // 1.0, 0.9 and 0.5, whose median is 0.9x.
    maxRate("herald", 1, 60);
    maxRate("herald-redis", 1, 60);
    maxRate("herald", 2, 100);
    maxRate("herald-redis", 2, 90);
    maxRate("herald", 3, 80);
    maxRate("herald-redis", 3, 40);

    assertThat(report.markdown())
        .contains(
            "| max sustainable rate on the Redis broker vs in-memory (maxrate-1000) | ≥ 0.8x |"
                + " 0.90x | yes |");
  }

  @Test
  void noRedisRowWithoutARedisRun() {
    maxRate("herald", 1, 60);

    assertThat(report.markdown()).doesNotContain("Redis broker vs in-memory");
  }
}
