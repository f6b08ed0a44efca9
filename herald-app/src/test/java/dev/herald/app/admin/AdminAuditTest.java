package dev.herald.app.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.LogCapture;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdminAuditTest {
  private final AdminAudit audit = new AdminAudit();

  @Test
  void anActionIsOneInfoLineWithWhoWhatTargetOutcomeAndDetailsAsFields() {
    try (LogCapture log = LogCapture.of(AdminAudit.LOGGER)) {
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("user", "alice");
      details.put("closed", 1);
      audit.record(
          "carol", AdminAudit.Action.DISCONNECT_CONNECTION, "c-42", AdminAudit.Outcome.OK, details);
      List<JsonNode> lines = log.lines();
      assertThat(lines).hasSize(1);
      JsonNode line = lines.get(0);
      assertThat(line.path("level").asText()).isEqualTo("INFO");
      assertThat(line.path("loggerName").asText()).isEqualTo("dev.herald.app.audit");
      assertThat(line.path("formattedMessage").asText())
          .isEqualTo("admin carol disconnect_connection c-42 -> ok user=alice closed=1");
      JsonNode kv = line.path("kvp");
      assertThat(kv.path("event").asText()).isEqualTo("admin_action");
      assertThat(kv.path("admin").asText()).isEqualTo("carol");
      assertThat(kv.path("action").asText()).isEqualTo("disconnect_connection");
      assertThat(kv.path("target").asText()).isEqualTo("c-42");
      assertThat(kv.path("outcome").asText()).isEqualTo("ok");
      assertThat(kv.path("user").asText()).isEqualTo("alice");
      assertThat(kv.path("closed").isNumber()).as("numbers stay numbers: %s", kv).isTrue();
    }
  }

  @Test
  void refusedAttemptsAreWarnings() {
    try (LogCapture log = LogCapture.of(AdminAudit.LOGGER)) {
      audit.record(
          "alice",
          AdminAudit.Action.DISCONNECT_USER,
          "bob",
          AdminAudit.Outcome.FORBIDDEN,
          Map.of());
      audit.record(
          "carol",
          AdminAudit.Action.VIEW_CHANNEL,
          "nope",
          AdminAudit.Outcome.REFUSED,
          Map.of("error", "bad channel"));
      audit.record(
          "carol", AdminAudit.Action.LIST_NODES, "-", AdminAudit.Outcome.PARTIAL, Map.of());
      List<JsonNode> lines = log.lines();
      assertThat(lines)
          .extracting(l -> l.path("level").asText())
          .containsExactly("WARN", "WARN", "INFO");
      assertThat(lines.get(0).path("kvp").path("outcome").asText()).isEqualTo("forbidden");
      assertThat(lines.get(0).path("kvp").path("admin").asText()).isEqualTo("alice");
      assertThat(lines.get(1).path("kvp").path("error").asText()).isEqualTo("bad channel");
    }
  }

  @Test
  void aLineBreakInTheTargetCannotForgeAnotherLineInTextLogs() {
    try (LogCapture log = LogCapture.of(AdminAudit.LOGGER)) {
      String forged = "x\nadmin carol disconnect_user bob -> ok\r\u2028";
      audit.record(
          "alice",
          AdminAudit.Action.FIND_CONNECTIONS,
          forged,
          AdminAudit.Outcome.FORBIDDEN,
          Map.of("error", "a\u0000b"));
      JsonNode line = log.lines().get(0);
      assertThat(line.path("formattedMessage").asText())
          .isEqualTo(
              "admin alice find_connections x\\nadmin carol disconnect_user bob -> ok\\r\\u2028"
                  + " -> forbidden error=a\\u0000b");
      assertThat(line.path("kvp").path("target").asText()).isEqualTo(forged);
    }
  }
}
