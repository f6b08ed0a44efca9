package dev.herald.server.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.server.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * logging.format: text and JSON encoders, one line per event, with the request id; JSON with
 * ISO-8601 timestamps and structured fields; the banner as one JSON event.
 */
class LogsTest {
  private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();

  private LoggingEvent event(Map<String, String> mdc) {
    ch.qos.logback.classic.Logger logger = context.getLogger("dev.herald.app.test");
    LoggingEvent e =
        new LoggingEvent(
            "fqcn", logger, Level.INFO, "GET {} -> {}", null, new Object[] {"/api/me", 200});
    e.setMDCPropertyMap(mdc);
    e.setTimeStamp(1_765_000_000_123L);
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
    assertThat(Instant.parse(n.path("timestamp").asText()))
        .isEqualTo(Instant.ofEpochMilli(1_765_000_000_123L));
    assertThat(n.path("timestamp").asText()).isEqualTo("2025-12-06T05:46:40.123Z");
  }

  @Test
  void jsonCarriesKeyValuePairsAsTypedFieldsAndTheThrowable() throws Exception {
    LoggingEvent e = event(Map.of());
    e.addKeyValuePair(new KeyValuePair("method", "GET"));
    e.addKeyValuePair(new KeyValuePair("status", 200));
    e.addKeyValuePair(new KeyValuePair("durationMs", 12L));
    e.addKeyValuePair(new KeyValuePair("user", "alice\"\n"));
    e.setThrowableProxy(new ThrowableProxy(new IllegalStateException("boom")));
    String line =
        new String(Logs.encoder(context, Logs.Format.JSON).encode(e), StandardCharsets.UTF_8);
    assertThat(line.strip()).doesNotContain("\n");
    JsonNode n = new ObjectMapper().readTree(line);
    assertThat(n.has("mdc")).isFalse();
    assertThat(n.path("kvp").path("method").asText()).isEqualTo("GET");
    assertThat(n.path("kvp").path("status").isInt()).isTrue();
    assertThat(n.path("kvp").path("status").asInt()).isEqualTo(200);
    assertThat(n.path("kvp").path("durationMs").asLong()).isEqualTo(12);
    assertThat(n.path("kvp").path("user").asText()).isEqualTo("alice\"\n");
    assertThat(n.path("throwable").path("className").asText())
        .isEqualTo("java.lang.IllegalStateException");
    assertThat(n.path("throwable").path("stackTrace").asText()).contains("boom", "\tat ");
  }

  @Test
  void theBannerIsOneJsonEventInJsonAndPlainTextOtherwise() throws Exception {
    String banner = "\n  Herald 1.0 is running: http://127.0.0.1:8080/\n  Stop with Ctrl+C.\n";
    ch.qos.logback.classic.Logger logger = context.getLogger("dev.herald.banner.test");
    logger.setLevel(Level.INFO);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    logger.addAppender(events);
    List<String> printed = new ArrayList<>();
    try {
      Logs.banner(Logs.Format.TEXT, printed::add, logger, banner, Map.of("url", "x"));
      assertThat(printed).containsExactly(banner);
      assertThat(events.list).isEmpty();

      printed.clear();
      Logs.banner(
          Logs.Format.JSON, printed::add, logger, banner, Map.of("url", "http://127.0.0.1:8080/"));
      assertThat(printed).isEmpty();
      assertThat(events.list).hasSize(1);
      String line =
          new String(
              Logs.encoder(context, Logs.Format.JSON).encode(events.list.get(0)),
              StandardCharsets.UTF_8);
      JsonNode n = new ObjectMapper().readTree(line);
      assertThat(n.path("formattedMessage").asText())
          .isEqualTo("Herald 1.0 is running: http://127.0.0.1:8080/; Stop with Ctrl+C.");
      assertThat(n.path("kvp").path("url").asText()).isEqualTo("http://127.0.0.1:8080/");
    } finally {
      logger.detachAppender(events);
    }
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
