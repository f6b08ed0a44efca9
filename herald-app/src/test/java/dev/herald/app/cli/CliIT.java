package dev.herald.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.App;
import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.TestApp;
import dev.herald.server.config.ConfigLoader;
import dev.herald.server.it.RawClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end: against a temporary H2 database and a started app. */
class CliIT {
  static final String KEY = "it-publish-key-0123456789";

  @TempDir Path dir;

  @Test
  void migrateAndCreateUserThenLogInWithThatUser() throws IOException {
    Path cfg = dir.resolve("herald.properties");
    Files.writeString(
        cfg, "app.data-dir=" + dir.resolve("data") + "\nserver.port=0\nnamespaces=project,user\n");
    CliRun m = CliRun.run("migrate", "--config", cfg.toString());
    assertThat(m.code()).as("%s", m).isZero();
    assertThat(m.out()).contains("applied V1").contains("migration(s) applied");
    CliRun again = CliRun.run("migrate", "--config", cfg.toString());
    assertThat(again.out()).contains("schema up to date at version");

    String[] create = {
      "create-user",
      "ann",
      "--name",
      "Ann Lee",
      "--admin",
      "--password-stdin",
      "--config",
      cfg.toString()
    };
    CliRun c = CliRun.run(Map.of(), "correct-horse-battery\n", create);
    assertThat(c.code()).as("%s", c).isZero();
    assertThat(c.out()).contains("created user ann (Ann Lee, admin)");
    CliRun dup = CliRun.run(Map.of(), "correct-horse-battery\n", create);
    assertThat(dup.code()).isEqualTo(1);
    assertThat(dup.err()).contains("user 'ann' already exists");

    try (App app = App.start(App.Options.of(ConfigLoader.readFile(cfg)))) {
      ApiClient client = new ApiClient.Remote("http://127.0.0.1:" + app.port()).client();
      client.login("ann", "wrong-password-here").expect(401);
      JsonNode me = client.login("ann", "correct-horse-battery").expect(200).json();
      assertThat(me.path("user").path("role").asText()).isEqualTo("admin");
      assertThat(me.path("user").path("displayName").asText()).isEqualTo("Ann Lee");
    }
  }

  @Test
  void serveStartsTheAppFromAConfigFile() throws IOException {
    Path cfg = dir.resolve("herald.properties");
    Files.writeString(cfg, "app.data-dir=" + dir.resolve("data") + "\nserver.port=0\n");
    CliRun r = CliRun.run("serve", "--config", cfg.toString());
    try {
      assertThat(r.code()).as("%s", r).isZero();
      assertThat(r.cli().started()).isNotNull();
      assertThat(r.out()).contains("Herald reference app is running: http://127.0.0.1:");
      ApiClient client =
          new ApiClient.Remote("http://127.0.0.1:" + r.cli().started().port()).client();
      assertThat(client.get("/health/ready").status()).isEqualTo(200);
    } finally {
      if (r.cli().started() != null) {
        r.cli().started().close();
      }
    }
  }

  @Test
  void publishReachesASubscriberAndExplainsRefusals() throws IOException {
    Map<String, String> config = new HashMap<>(TestApp.config(TestApp.Db.H2));
    config.put("publish.api-keys", KEY);
    try (TestApp app = TestApp.start(TestApp.Db.H2, config, ContentPublisher.alwaysSucceeds())) {
      ApiClient alice = app.login("alice");
      long p =
          alice
              .post("/api/projects", "{\"name\":\"CLI\",\"members\":[]}")
              .expect(201)
              .json()
              .get("id")
              .asLong();
      String channel = "project:" + p;
      try (RawClient ws =
          RawClient.open(
              app.wsUri(),
              Map.of("Cookie", "herald_session=" + alice.sessionCookie()),
              "herald.v1.json")) {
        assertThat(ws.request("{\"type\":\"connect\"}").has("result")).isTrue();
        assertThat(
                ws.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}")
                    .has("result"))
            .isTrue();
        Map<String, String> env = Map.of("HERALD_PUBLISH_API_KEY", KEY);
        CliRun r =
            CliRun.run(
                env, "", "publish", channel, "{\"hello\":\"from cli\"}", "--url", app.baseUrl());
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out()).contains("published to " + channel + ": offset ").contains("epoch");
        JsonNode pub =
            ws.await(
                m ->
                    m.path("type").asText().equals("pub")
                        && m.path("data").path("hello").asText().equals("from cli"));
        assertThat(pub.path("channel").asText()).isEqualTo(channel);
      }

      Path keyFile = dir.resolve("wrong-key");
      Files.writeString(keyFile, "wrong-key-0123456789abc\n");
      CliRun wrong =
          CliRun.run(
              "publish",
              "project:1",
              "{}",
              "--url",
              app.baseUrl(),
              "--api-key-file",
              keyFile.toString());
      assertThat(wrong.code()).as("%s", wrong).isEqualTo(1);
      assertThat(wrong.err()).contains("the server refused the API key (401");

      Map<String, String> env = Map.of("HERALD_PUBLISH_API_KEY", KEY);
      CliRun unknown = CliRun.run(env, "", "publish", "nowhere:1", "{}", "--url", app.baseUrl());
      assertThat(unknown.code()).as("%s", unknown).isEqualTo(1);
      assertThat(unknown.err()).contains("(404)");
      CliRun path =
          CliRun.run(env, "", "publish", "project:1", "{}", "--url", app.baseUrl() + "/elsewhere/");
      assertThat(path.code()).as("%s", path).isEqualTo(1);
      assertThat(path.err()).contains("no publish API at").contains("--url must be");
    }
  }
}
