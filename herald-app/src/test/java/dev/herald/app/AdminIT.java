package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.AppTestBase;
import dev.herald.server.it.RawClient;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The admin console's API and live channel: admins only. */
class AdminIT extends AppTestBase {

  private RawClient socket(ApiClient user) {
    RawClient ws =
        RawClient.open(
            app.wsUri(),
            Map.of("Cookie", "herald_session=" + user.sessionCookie()),
            "herald.v1.json");
    assertThat(ws.request("{\"type\":\"connect\"}").has("result")).isTrue();
    return ws;
  }

  @Test
  void nonAdminsGet401Or403AndCannotSubscribeToTheAdminChannel() {
    assertThat(app.anonymous().get("/api/admin/stats").status()).isEqualTo(401);
    ApiClient alice = app.login("alice");
    ApiClient.Response r = alice.get("/api/admin/stats");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errorCode()).isEqualTo("forbidden");
    try (RawClient ws = socket(alice)) {
      JsonNode reply = ws.request("{\"type\":\"subscribe\",\"channel\":\"admin:stats\"}");
      assertThat(reply.path("error").path("code").asInt()).as("%s", reply).isEqualTo(103);
      JsonNode pub = ws.request("{\"type\":\"publish\",\"channel\":\"admin:stats\",\"data\":{}}");
      assertThat(pub.has("error")).as("%s", pub).isTrue();
    }
  }

  @Test
  void adminSeesAConnectedClientAndReceivesLiveSnapshots() {
    ApiClient alice = app.login("alice");
    long p =
        alice
            .post("/api/projects", "{\"name\":\"Watched\",\"members\":[]}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    ApiClient carol = app.login("carol");
    try (RawClient a = socket(alice);
        RawClient c = socket(carol)) {
      assertThat(
              a.request("{\"type\":\"subscribe\",\"channel\":\"project:" + p + "\"}").has("result"))
          .isTrue();
      JsonNode stats = carol.get("/api/admin/stats").expect(200).json();
      assertThat(stats.path("totals").path("connections").asInt()).isGreaterThanOrEqualTo(2);
      assertThat(stats.path("totals").path("subscriptions").asInt()).isGreaterThanOrEqualTo(1);
      assertThat(stats.path("connectionsByTransport").path("websocket").asInt())
          .as("open WebSocket connections now")
          .isGreaterThanOrEqualTo(2);
      assertThat(stats.path("connectsByTransport").path("websocket").asLong())
          .isGreaterThanOrEqualTo(2);
      assertThat(stats.path("nodes").get(0).path("status").asText()).isEqualTo("ready");
      assertThat(stats.path("nodes").get(0).path("name").asText()).isNotBlank();
      boolean found = false;
      for (JsonNode ch : stats.path("topChannels")) {
        if (ch.path("channel").asText().equals("project:" + p)) {
          found = true;
          assertThat(ch.path("subscribers").asInt()).isEqualTo(1);
        }
      }
      assertThat(found).as("project channel in %s", stats.path("topChannels")).isTrue();
      assertThat(stats.has("recentUpgradeFailures")).isTrue();

      JsonNode sub = c.request("{\"type\":\"subscribe\",\"channel\":\"admin:stats\"}");
      assertThat(sub.has("result")).as("%s", sub).isTrue();
      JsonNode snapshot =
          c.await(
              m ->
                  m.path("type").asText().equals("pub")
                      && m.path("channel").asText().equals("admin:stats"));
      assertThat(snapshot.path("data").path("totals").path("connections").asInt())
          .isGreaterThanOrEqualTo(2);
    }
  }
}
