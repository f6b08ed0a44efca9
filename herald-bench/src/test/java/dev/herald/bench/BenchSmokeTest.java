package dev.herald.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A seconds-long run of every scenario against the floor and a real Herald server (child processes,
 * real sockets): checks that the benchmark works end to end, that nothing is lost, and that the
 * report is written. It measures nothing; the numbers come from run-all.sh.
 */
class BenchSmokeTest {
  @Test
  void everyScenarioRunsWithoutLossAndWritesTheReport() throws Exception {
    Path out = Path.of("target", "bench-smoke");
    Options o =
        Options.from(
            Args.parse(
                new String[] {
                  "--smoke",
                  "--scenarios",
                  "idle,fanout,transports,maxrate,coalesce,publish,soak",
                  "--servers",
                  "floor,herald",
                  "--out",
                  out.toString(),
                  // latency is not what this test checks; a loaded CI machine must not fail it
                  "--p99-limit-ms",
                  "60000"
                }));
    boolean ok = new Bench(o, Bench.env(o)).run();

    assertThat(ok).as("every scenario completed (see %s)", out.resolve("results.md")).isTrue();
    String md = Files.readString(out.resolve("results.md"));
    assertThat(md)
        .contains("## Targets")
        .contains("## idle-20")
        .contains("## fanout-10x20")
        .contains("## transports-10x20")
        .contains("## maxrate-10")
        .contains("## coalesce-10x20")
        .contains("## publish-2x20")
        .contains("## soak-20");
    JsonNode json = new ObjectMapper().readTree(out.resolve("results.json").toFile());
    List<String> servers = new ArrayList<>();
    for (JsonNode run : json.get("runs")) {
      servers.add(run.get("scenario").asText() + "/" + run.get("server").asText());
      JsonNode m = run.get("metrics");
      if (m.has("lost")) {
        assertThat(m.get("lost").asDouble()).as("lost in %s", run).isZero();
      }
      if (m.has("deliveredPerSec")) {
        assertThat(m.get("deliveredPerSec").asDouble()).as("delivered in %s", run).isPositive();
      }
      if (m.has("heapAfterGcMb")) {
        assertThat(m.get("heapAfterGcMb").asDouble()).as("heap in %s", run).isPositive();
        assertThat(m.get("openFds").asDouble()).as("descriptors in %s", run).isPositive();
      }
      if (m.has("kbPerConnection")) {
        assertThat(m.get("idleCpuPctPer10k").asDouble()).as("idle CPU in %s", run).isNotNegative();
      }
      if (m.has("maxRate")) {
        assertThat(m.get("maxRate").asDouble()).as("max rate in %s", run).isPositive();
      }
      if (m.has("connections")) {
        assertThat(m.get("connections").asDouble()).as("idle connections in %s", run).isEqualTo(20);
      }
    }
    assertThat(servers)
        .contains(
            "fanout-10x20/floor",
            "fanout-10x20/herald",
            "transports-10x20/herald-sse",
            "transports-10x20/herald-long-polling",
            "coalesce-10x20/herald-delay-20ms",
            "publish-2x20/herald-publish-http",
            "publish-2x20/herald-publish-websocket",
            "soak-20/herald@0min");
  }
}
