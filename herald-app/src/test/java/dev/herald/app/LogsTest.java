package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.server.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** logging.format: text and JSON encoders, one line per event, with the request id. */
class LogsTest {
  private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();

  private LoggingEvent event(Map<String, String> mdc) {
    ch.qos.logback.classic.Logger logger = context.getLogger("dev.herald.app.test");
    LoggingEvent e =
        new LoggingEvent(
            "fqcn", logger, Level.INFO, "GET {} -> {}", null, new Object[] {"/api/me", 200});
    e.setMDCPropertyMap(mdc);
    return e;
  }

  @Test
  void jsonIsOneObjectPerLineWithTheRequestId() throws Exception {
    var encoder = Logs.encoder(context, Logs.Format.JSON);
    String line =
        new String(encoder.encode(event(Map.of("requestId", "1f-abc"))), StandardCharsets.UTF_8);
    assertThat(line.strip()).doesNotContain("\n");
    assertThat(line).endsWith("\n");
    JsonNode n = new ObjectMapper().readTree(line);
    assertThat(n.path("level").asText()).isEqualTo("INFO");
    assertThat(n.path("formattedMessage").asText()).isEqualTo("GET /api/me -> 200");
    assertThat(n.path("mdc").path("requestId").asText()).isEqualTo("1f-abc");
  }

  @Test
  void textShowsTheRequestIdOnlyWhenThereIsOne() {
    var encoder = Logs.encoder(context, Logs.Format.TEXT);
    String with =
        new String(encoder.encode(event(Map.of("requestId", "1f-abc"))), StandardCharsets.UTF_8);
    String without = new String(encoder.encode(event(Map.of())), StandardCharsets.UTF_8);
    assertThat(with).contains("[1f-abc] - GET /api/me -> 200");
    assertThat(without).contains("test - GET /api/me -> 200").doesNotContain("[]");
  }

  @Test
  void formatIsValidated() {
    assertThat(Logs.format("JSON")).isEqualTo(Logs.Format.JSON);
    assertThat(Logs.format("text")).isEqualTo(Logs.Format.TEXT);
    assertThatThrownBy(() -> Logs.format("xml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("logging.format: 'xml' is not text or json");
  }
}
