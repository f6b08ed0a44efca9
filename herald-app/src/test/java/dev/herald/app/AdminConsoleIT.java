package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.admin.AdminAudit;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.AppTestBase;
import dev.herald.app.testing.LogCapture;
import dev.herald.server.it.RawClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admin console's actions over real HTTP against the real app: a user's connections with their
 * channels named as the app names them, disconnecting one or all, a channel's presence and history,
 * a test message; admins only, and every action (refused ones too) one audit line.
 */
class AdminConsoleIT extends AppTestBase {
  private final List<RawClient> sockets = new ArrayList<>();
  private LogCapture audit;

  @BeforeEach
  void captureAudit() {
    audit = LogCapture.of(AdminAudit.LOGGER);
  }

  @AfterEach
  void closeAll() {
    sockets.forEach(RawClient::close);
    audit.close();
  }

  /** A connected WebSocket of {@code user}; returns it with its connection id. */
  private Socket socket(ApiClient user) {
    RawClient ws =
        RawClient.open(
            app.wsUri(),
            Map.of("Cookie", "herald_session=" + user.sessionCookie()),
            "herald.v1.json");
    sockets.add(ws);
    JsonNode reply = ws.request("{\"type\":\"connect\"}");
    assertThat(reply.has("result")).as("%s", reply).isTrue();
    return new Socket(ws, reply.path("result").path("client").asText());
  }

  private record Socket(RawClient ws, String id) {
    void subscribe(String channel) {
      JsonNode r = ws.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
      assertThat(r.has("result")).as("subscribe %s: %s", channel, r).isTrue();
    }
  }

  /** The connection still answers: a ping gets its pong. */
  private static void assertAlive(Socket s) {
    assertThat(s.ws().isClosed()).isFalse();
    s.ws().send("{\"type\":\"ping\"}");
    assertThat(s.ws().awaitType("pong").path("type").asText()).isEqualTo("pong");
  }

  private long project(ApiClient owner, String name) {
    return owner
        .post("/api/projects", "{\"name\":\"" + name + "\",\"members\":[]}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  /** The audit line of {@code action} on {@code target}, once it is written. */
  private JsonNode auditLine(String action, String target) {
    return await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                audit.lines().stream()
                    .map(l -> l.path("kvp"))
                    .filter(
                        kv ->
                            kv.path("action").asText().equals(action)
                                && kv.path("target").asText().equals(target))
                    .findFirst()
                    .orElse(null),
            kv -> kv != null);
  }

  @Test
  void everyConsoleActionIsForAdminsOnlyAndARefusalIsAudited() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    Socket b = socket(bob);
    ApiClient anonymous = app.anonymous();
    String[][] gets = {
      {"/api/admin/users/bob/connections", "find_connections", "bob"},
      {"/api/admin/channels/project:1", "view_channel", "project:1"},
      {"/api/admin/nodes", "list_nodes", "-"},
      {"/api/admin/stats", "view_stats", "-"},
    };
    for (String[] g : gets) {
      assertThat(anonymous.get(g[0]).status()).as(g[0]).isEqualTo(401);
      ApiClient.Response r = alice.get(g[0]);
      assertThat(r.status()).as(g[0]).isEqualTo(403);
      assertThat(r.errorCode()).isEqualTo("forbidden");
    }
    String[][] posts = {
      {"/api/admin/users/bob/disconnect", "{}", "disconnect_user", "bob"},
      {"/api/admin/connections/" + b.id() + "/disconnect", "{}", "disconnect_connection", b.id()},
      {
        "/api/admin/publish", "{\"channel\":\"user:bob:notifications\",\"data\":{}}", "publish", "-"
      },
    };
    for (String[] p : posts) {
      assertThat(anonymous.post(p[0], p[1]).status()).as(p[0]).isEqualTo(401);
      ApiClient.Response r = alice.post(p[0], p[1]);
      assertThat(r.status()).as(p[0]).isEqualTo(403);
      assertThat(r.errorCode()).isEqualTo("forbidden");
    }
    for (String[] g : gets) {
      JsonNode kv = auditLine(g[1], g[2]);
      assertThat(kv.path("admin").asText()).isEqualTo("alice");
      assertThat(kv.path("outcome").asText()).isEqualTo("forbidden");
    }
    for (String[] p : posts) {
      assertThat(auditLine(p[2], p[3]).path("outcome").asText()).isEqualTo("forbidden");
    }
    // Nothing happened to bob: his connection still answers.
    assertThat(b.ws().isClosed()).isFalse();
    assertAlive(b);
  }

  @Test
  void anAdminFindsAUsersConnectionsWithChannelsByTheAppsNames() {
    ApiClient alice = app.login("alice");
    long p = project(alice, "Spring campaign");
    Socket a = socket(alice);
    a.subscribe("project:" + p);
    a.subscribe("user:alice:notifications");
    Socket second = socket(alice);
    Instant before = Instant.now().minusSeconds(60);
    ApiClient carol = app.login("carol");

    JsonNode r = carol.get("/api/admin/users/alice/connections").expect(200).json();
    assertThat(r.path("user").path("displayName").asText()).isEqualTo("Alice");
    assertThat(r.path("missingNodes").size()).isZero();
    JsonNode found = null;
    List<String> ids = new ArrayList<>();
    for (JsonNode c : r.path("connections")) {
      ids.add(c.path("id").asText());
      if (c.path("id").asText().equals(a.id())) {
        found = c;
      }
    }
    assertThat(ids).containsExactlyInAnyOrder(a.id(), second.id());
    assertThat(found).isNotNull();
    assertThat(found.path("user").asText()).isEqualTo("alice");
    assertThat(found.path("transport").asText()).isEqualTo("websocket");
    assertThat(found.path("node").asText()).isEqualTo(app.app().herald().config().hub().node());
    assertThat(Instant.parse(found.path("since").asText())).isAfter(before);
    JsonNode channels = found.path("channels");
    assertThat(channels.size()).isEqualTo(2);
    assertThat(channels.get(0).path("channel").asText()).isEqualTo("project:" + p);
    assertThat(channels.get(0).path("label").asText()).isEqualTo("Spring campaign");
    assertThat(channels.get(0).path("kind").asText()).isEqualTo("project");
    assertThat(channels.get(0).path("link").asText()).isEqualTo("#/projects/" + p);
    assertThat(channels.get(1).path("label").asText()).isEqualTo("Notifications of Alice");

    JsonNode kv = auditLine("find_connections", "alice");
    assertThat(kv.path("admin").asText()).isEqualTo("carol");
    assertThat(kv.path("outcome").asText()).isEqualTo("ok");
    assertThat(kv.path("found").asInt()).isEqualTo(2);

    ApiClient.Response unknown = carol.get("/api/admin/users/nobody/connections");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(auditLine("find_connections", "nobody").path("outcome").asText())
        .isEqualTo("refused");
    // Someone with no connection: an empty list, not an error.
    assertThat(carol.get("/api/admin/users/eve/connections").expect(200).json().path("connections"))
        .isEmpty();
  }

  @Test
  void disconnectingAConnectionClosesItWithReconnectAndLeavesTheOthers() {
    ApiClient alice = app.login("alice");
    Socket a = socket(alice);
    Socket other = socket(alice);
    ApiClient carol = app.login("carol");

    JsonNode r =
        carol.post("/api/admin/connections/" + a.id() + "/disconnect", "{}").expect(200).json();
    assertThat(r.path("closed").asInt()).isEqualTo(1);
    assertThat(r.path("user").asText()).isEqualTo("alice");
    assertThat(a.ws().awaitClose()).as("4007: reconnect requested by server").isEqualTo(4007);
    assertThat(other.ws().isClosed()).isFalse();
    assertAlive(other);

    JsonNode kv = auditLine("disconnect_connection", a.id());
    assertThat(kv.path("admin").asText()).isEqualTo("carol");
    assertThat(kv.path("outcome").asText()).isEqualTo("ok");
    assertThat(kv.path("user").asText()).isEqualTo("alice");
    assertThat(kv.path("transport").asText()).isEqualTo("websocket");

    ApiClient.Response gone = carol.post("/api/admin/connections/c-nosuchthing/disconnect", "{}");
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.errorCode()).isEqualTo("not_found");
    assertThat(auditLine("disconnect_connection", "c-nosuchthing").path("outcome").asText())
        .isEqualTo("refused");
  }

  @Test
  void disconnectingAUserClosesEveryConnectionOfThatUserOnlyAndTheyReconnectAtOnce() {
    ApiClient dave = app.login("dave");
    ApiClient bob = app.login("bob");
    Socket d1 = socket(dave);
    Socket d2 = socket(dave);
    Socket b = socket(bob);
    ApiClient carol = app.login("carol");

    JsonNode r = carol.post("/api/admin/users/dave/disconnect", "{}").expect(200).json();
    assertThat(r.path("closed").asInt()).isEqualTo(2);
    assertThat(d1.ws().awaitClose()).isEqualTo(4007);
    assertThat(d2.ws().awaitClose()).isEqualTo(4007);
    assertAlive(b);
    JsonNode kv = auditLine("disconnect_user", "dave");
    assertThat(kv.path("closed").asInt()).isEqualTo(2);
    assertThat(kv.path("outcome").asText()).isEqualTo("ok");
    // 4007 asks the pages to come back at once: their first try is accepted.
    assertAlive(socket(dave));

    assertThat(carol.post("/api/admin/users/nobody/disconnect", "{}").status()).isEqualTo(404);
    // A state-changing console call without the CSRF token is refused like any other.
    carol.csrf("wrong");
    assertThat(carol.post("/api/admin/users/bob/disconnect", "{}").errorCode())
        .isEqualTo("csrf_failed");
    assertAlive(b);
  }

  @Test
  void aChannelShowsWhoIsPresentAndItsRecentMessagesAndTakesATestMessage() {
    ApiClient alice = app.login("alice");
    long p = project(alice, "Autumn sale");
    Socket a = socket(alice);
    a.subscribe("project:" + p);
    ApiClient carol = app.login("carol");

    JsonNode pub =
        carol
            .post(
                "/api/admin/publish",
                "{\"channel\":\"project:" + p + "\",\"data\":{\"test\":\"hello\"}}")
            .expect(200)
            .json();
    assertThat(pub.path("channel").path("label").asText()).isEqualTo("Autumn sale");
    long offset = pub.path("offset").asLong();
    JsonNode received =
        a.ws()
            .await(
                m ->
                    m.path("type").asText().equals("pub")
                        && m.path("data").path("test").asText().equals("hello"));
    assertThat(received.path("offset").asLong()).isEqualTo(offset);
    JsonNode kv = auditLine("publish", "project:" + p);
    assertThat(kv.path("admin").asText()).isEqualTo("carol");
    assertThat(kv.path("offset").asLong()).isEqualTo(offset);

    JsonNode view = carol.get("/api/admin/channels/project:" + p + "?limit=5").expect(200).json();
    assertThat(view.path("channel").path("label").asText()).isEqualTo("Autumn sale");
    JsonNode presence = view.path("presence");
    assertThat(presence.path("available").asBoolean()).isTrue();
    assertThat(presence.path("users").asInt()).isEqualTo(1);
    assertThat(presence.path("clients").get(0).path("connection").asText()).isEqualTo(a.id());
    assertThat(presence.path("clients").get(0).path("displayName").asText()).isEqualTo("Alice");
    JsonNode history = view.path("history");
    assertThat(history.path("available").asBoolean()).isTrue();
    assertThat(history.path("publications").size()).isBetween(1, 5);
    JsonNode newest = history.path("publications").get(0);
    assertThat(newest.path("offset").asLong()).isEqualTo(offset);
    assertThat(newest.path("data").asText()).isEqualTo("{\"test\":\"hello\"}");
    assertThat(auditLine("view_channel", "project:" + p).path("outcome").asText()).isEqualTo("ok");

    // Personal channels have no presence: said, not an error.
    JsonNode personal =
        carol.get("/api/admin/channels/user:alice:notifications").expect(200).json();
    assertThat(personal.path("channel").path("label").asText()).isEqualTo("Notifications of Alice");
    assertThat(personal.path("presence").path("available").asBoolean()).isFalse();
    assertThat(personal.path("presence").path("reason").asText()).contains("presence");
    assertThat(personal.path("history").path("available").asBoolean()).isTrue();
  }

  @Test
  void badInputGetsA400WithAMessageAndIsAuditedAsRefused() {
    ApiClient carol = app.login("carol");
    ApiClient.Response r = carol.get("/api/admin/channels/nonamespace:1");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.errorCode()).isEqualTo("invalid_channel");
    assertThat(r.json().path("error").path("message").asText()).isNotBlank();
    assertThat(auditLine("view_channel", "nonamespace:1").path("outcome").asText())
        .isEqualTo("refused");
    for (String limit : new String[] {"0", "101", "x"}) {
      ApiClient.Response l = carol.get("/api/admin/channels/project:1?limit=" + limit);
      assertThat(l.status()).as(limit).isEqualTo(400);
      assertThat(l.errorCode()).as(limit).isEqualTo("validation_failed");
    }
    ApiClient.Response noData = carol.post("/api/admin/publish", "{\"channel\":\"project:1\"}");
    assertThat(noData.status()).isEqualTo(400);
    assertThat(noData.json().path("error").path("fields").has("data")).isTrue();
    ApiClient.Response noChannel = carol.post("/api/admin/publish", "{\"data\":1}");
    assertThat(noChannel.status()).isEqualTo(400);
    assertThat(noChannel.json().path("error").path("fields").has("channel")).isTrue();
    ApiClient.Response badChannel =
        carol.post("/api/admin/publish", "{\"channel\":\"nonamespace:1\",\"data\":1}");
    assertThat(badChannel.status()).isEqualTo(400);
    assertThat(badChannel.errorCode()).isEqualTo("invalid_channel");
    assertThat(auditLine("publish", "nonamespace:1").path("outcome").asText()).isEqualTo("refused");
    ApiClient.Response notJson = carol.post("/api/admin/publish", "{\"channel\":");
    assertThat(notJson.status()).isEqualTo(400);
  }

  @Test
  void theNodesListShowsThisNodeWithItsConnections() {
    ApiClient alice = app.login("alice");
    socket(alice);
    ApiClient carol = app.login("carol");
    JsonNode r = carol.get("/api/admin/nodes").expect(200).json();
    assertThat(r.path("missingNodes")).isEmpty();
    assertThat(r.path("nodes").size()).isEqualTo(1);
    JsonNode n = r.path("nodes").get(0);
    assertThat(n.path("name").asText()).isEqualTo(app.app().herald().config().hub().node());
    assertThat(n.path("status").asText()).isEqualTo("ready");
    assertThat(n.path("connections").asInt()).isGreaterThanOrEqualTo(1);
    assertThat(auditLine("list_nodes", "-").path("admin").asText()).isEqualTo("carol");
    JsonNode stats = carol.get("/api/admin/stats").expect(200).json();
    assertThat(stats.path("nodes").get(0).path("name").asText()).isEqualTo(n.path("name").asText());
  }
}
