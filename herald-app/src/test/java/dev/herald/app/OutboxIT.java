package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.TestApp;
import dev.herald.server.it.RawClient;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The outbox: a change committed by a process that stops before publishing it is published by the
 * next process on the same database.
 */
@ParameterizedClass(name = "on {0}")
@EnumSource(TestApp.Db.class)
class OutboxIT {
  @Parameter TestApp.Db db;

  @Test
  void processKilledAfterCommitLosesNoEvent() throws Exception {
    Map<String, String> config = TestApp.config(db);
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    config.put("server.port", String.valueOf(port));
    config.put("app.outbox.enabled", "false"); // this process commits but never publishes
    java.nio.file.Path file = java.nio.file.Files.createTempFile("herald-app", ".properties");
    java.util.Properties props = new java.util.Properties();
    props.putAll(config);
    try (var w = java.nio.file.Files.newBufferedWriter(file)) {
      props.store(w, null);
    }
    // Users first, in this JVM, then stop (the database stays).
    App setup = App.start(App.Options.of(config));
    setup.users().create("alice", "Alice", dev.herald.app.users.Role.EDITOR, "pw-alice");
    setup.close();

    Process child =
        new ProcessBuilder(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.herald.app.App",
                "--config",
                file.toString())
            .redirectErrorStream(true)
            .redirectOutput(java.nio.file.Files.createTempFile("herald-child", ".log").toFile())
            .start();
    long project;
    long item;
    try {
      ApiClient alice =
          new dev.herald.app.testing.ApiClient.Remote("http://127.0.0.1:" + port).client();
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(() -> alice.login("alice", "pw-alice").status() == 200);
      project =
          alice
              .post("/api/projects", "{\"name\":\"Killed\"}")
              .expect(201)
              .json()
              .get("id")
              .asLong();
      item =
          alice
              .post(
                  "/api/projects/" + project + "/items",
                  "{\"contentRef\":\"page/10\",\"contentVersion\":1,\"title\":\"K\",\"type\":\"page\"}")
              .expect(201)
              .json()
              .get("id")
              .asLong();
      alice.post("/api/projects/" + project + "/items/" + item + "/ready", null).expect(200);
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hook, no flush, no goodbye
      child.waitFor();
    }

    config.put("server.port", "0");
    config.put("app.outbox.enabled", "true");
    App second = App.start(App.Options.of(config));
    try {
      assertDelivered(TestApp.wrap(second, db), project, item);
    } finally {
      second.close();
    }
  }

  /** Reads the project channel from the start of its stream and finds the item's "ready" event. */
  private static void assertDelivered(TestApp t, long project, long item) {
    ApiClient alice = t.login("alice");
    try (RawClient ws =
        RawClient.open(
            t.wsUri(),
            Map.of("Cookie", "herald_session=" + alice.sessionCookie()),
            "herald.v1.json")) {
      ws.request("{\"type\":\"connect\"}");
      JsonNode first =
          ws.request("{\"type\":\"subscribe\",\"channel\":\"project:" + project + "\"}")
              .get("result");
      ws.request("{\"type\":\"unsubscribe\",\"channel\":\"project:" + project + "\"}");
      JsonNode again =
          ws.request(
                  "{\"type\":\"subscribe\",\"channel\":\"project:"
                      + project
                      + "\",\"since\":{\"epoch\":\""
                      + first.get("epoch").asText()
                      + "\",\"offset\":0}}")
              .get("result");
      assertThat(again.get("recovered").asBoolean()).isTrue();
      JsonNode ready =
          ws.await(
              m ->
                  m.path("type").asText().equals("pub")
                      && m.path("data").path("type").asText().equals("item")
                      && m.path("data").path("data").path("status").asText().equals("ready"));
      assertThat(ready.get("data").get("id").asText()).isEqualTo(String.valueOf(item));
    }
  }

  @Test
  void changeCommittedButNeverPublishedIsDeliveredAfterRestart() {
    Map<String, String> config = TestApp.config(db);
    long project;
    long item;
    // First process: commits changes, but its outbox never runs (it dies before publishing).
    App first = App.start(App.Options.of(config).withoutOutbox());
    try {
      first.users().create("alice", "Alice", dev.herald.app.users.Role.EDITOR, "pw-alice");
      TestApp t = TestApp.wrap(first, db);
      ApiClient alice = t.login("alice");
      project =
          alice.post("/api/projects", "{\"name\":\"Crash\"}").expect(201).json().get("id").asLong();
      item =
          alice
              .post(
                  "/api/projects/" + project + "/items",
                  "{\"contentRef\":\"page/9\",\"contentVersion\":1,\"title\":\"X\",\"type\":\"page\"}")
              .expect(201)
              .json()
              .get("id")
              .asLong();
      alice.post("/api/projects/" + project + "/items/" + item + "/ready", null).expect(200);
      long pending =
          first
              .db()
              .read(
                  h ->
                      h.createQuery("SELECT COUNT(*) FROM herald_outbox WHERE relayed_at IS NULL")
                          .mapTo(Long.class)
                          .one());
      assertThat(pending).as("committed, unpublished changes").isPositive();
    } finally {
      first.close();
    }

    // Second process on the same database: its outbox publishes what the first left behind.
    App second = App.start(App.Options.of(config));
    try {
      assertDelivered(TestApp.wrap(second, db), project, item);
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .until(
              () ->
                  second
                          .db()
                          .read(
                              h ->
                                  h.createQuery(
                                          "SELECT COUNT(*) FROM herald_outbox WHERE relayed_at IS NULL")
                                      .mapTo(Long.class)
                                      .one())
                      == 0);
    } finally {
      second.close();
    }
  }
}
