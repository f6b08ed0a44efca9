package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The standalone server, {@code java -jar herald.jar}, takes {@code HERALD_LOGGING_FORMAT=json}
 * like the reference app: every line it writes is a JSON object with an ISO-8601 timestamp, the
 * start banner included. A format it does not know is a configuration mistake (exit 2).
 */
class StandaloneLogsIT {
  static final Path JAR = Path.of("target", "herald.jar").toAbsolutePath();
  static final ObjectMapper JSON = new ObjectMapper();

  static Process start(Map<String, String> env) throws Exception {
    assertThat(JAR).as("herald.jar (built by the package phase)").exists();
    ProcessBuilder pb =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar",
            JAR.toString());
    pb.environment().keySet().removeIf(k -> k.startsWith("HERALD_"));
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    return pb.start();
  }

  @Test
  void jsonFormatMakesEveryLineJsonTheBannerIncluded() throws Exception {
    Process p = start(Map.of("HERALD_LOGGING_FORMAT", "json", "HERALD_SERVER_PORT", "0"));
    List<String> lines = new CopyOnWriteArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l = r.readLine(); l != null; l = r.readLine()) {
                  lines.add(l);
                }
              } catch (java.io.IOException e) {
                // the process ended
              }
            });
    reader.start();
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> lines.stream().anyMatch(l -> l.contains("is running")));
    } finally {
      p.destroy();
      p.waitFor(20, TimeUnit.SECONDS);
      reader.join(10_000);
    }
    assertThat(lines).isNotEmpty();
    JsonNode banner = null;
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = JSON.readTree(line); // throws when a line is not JSON
      assertThat(Instant.parse(n.path("timestamp").asText())).isNotNull();
      if (n.path("formattedMessage").asText().contains("is running")) {
        banner = n;
      }
    }
    assertThat(banner).isNotNull();
    assertThat(banner.path("kvp").path("url").asText()).startsWith("http://127.0.0.1:");
    assertThat(banner.path("level").asText()).isEqualTo("INFO");
  }

  @Test
  void anUnknownFormatIsAConfigurationMistake() throws Exception {
    Process p = start(Map.of("HERALD_LOGGING_FORMAT", "xml", "HERALD_SERVER_PORT", "0"));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).contains("logging.format: 'xml' is not text or json");
  }
}
