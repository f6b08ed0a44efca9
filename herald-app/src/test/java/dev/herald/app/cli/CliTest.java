package dev.herald.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line in-process, without a running server: help, usage and input errors. */
class CliTest {
  @TempDir Path dir;

  private Path config(String... lines) throws IOException {
    Path f = dir.resolve("herald.properties");
    Files.writeString(f, "app.data-dir=" + dir.resolve("data") + "\n" + String.join("\n", lines));
    return f;
  }

  @Test
  void everySubcommandHasHelp() {
    CliRun top = CliRun.run("--help");
    assertThat(top.code()).as("%s", top).isZero();
    for (String sub :
        new String[] {"serve", "doctor", "migrate", "create-user", "publish", "version"}) {
      assertThat(top.out()).contains(sub);
      CliRun r = CliRun.run(sub, "--help");
      assertThat(r.code()).as("%s --help: %s", sub, r).isZero();
      assertThat(r.out()).contains("Usage: herald-app " + sub);
      CliRun viaHelp = CliRun.run("help", sub);
      assertThat(viaHelp.out()).contains("Usage: herald-app " + sub);
    }
  }

  @Test
  void version() {
    CliRun r = CliRun.run("version");
    assertThat(r.code()).isZero();
    assertThat(r.out()).startsWith("herald-app ").contains("Java");
    assertThat(CliRun.run("--version").out()).startsWith("herald-app ");
  }

  @Test
  void unknownOptionsAndMissingArgumentsAreUsageErrors() {
    CliRun r = CliRun.run("--nope");
    assertThat(r.code()).as("%s", r).isEqualTo(64);
    assertThat(r.err()).contains("Unknown option: '--nope'").contains("Usage:");
    CliRun m = CliRun.run("migrate", "--bogus");
    assertThat(m.code()).isEqualTo(64);
    assertThat(m.err()).contains("Unknown option: '--bogus'");
    CliRun d = CliRun.run("doctor");
    assertThat(d.code()).isEqualTo(64);
    assertThat(d.err()).contains("Missing required parameter: 'URL'");
    CliRun bad = CliRun.run("doctor", "not a url");
    assertThat(bad.code()).as("%s", bad).isEqualTo(64);
    assertThat(bad.err()).contains("doctor:");
    CliRun idle = CliRun.run("doctor", "--idle", "soon", "http://127.0.0.1:1/");
    assertThat(idle.code()).as("%s", idle).isEqualTo(64);
    assertThat(idle.err()).contains("--idle needs a duration such as 60s");
    CliRun long_ = CliRun.run("doctor", "--idle", "2h", "http://127.0.0.1:1/");
    assertThat(long_.code()).as("%s", long_).isEqualTo(64);
    assertThat(long_.err()).contains("--idle is at most 1 h");
  }

  @Test
  void invalidConfigurationListsEveryProblemWithSuggestionsAndExits2() throws IOException {
    Path f = config("server.prot=8080", "websocket.enabled=maybe", "logging.format=xml");
    CliRun r = CliRun.run("--config", f.toString(), "--print-config");
    assertThat(r.code()).as("%s", r).isEqualTo(2);
    assertThat(r.err())
        .contains("unknown key 'server.prot' (did you mean 'server.port'?)")
        .contains("websocket.enabled: 'maybe' is not true or false");
    CliRun logging = CliRun.run("serve", "--config", config("logging.format=xml").toString());
    assertThat(logging.code()).as("%s", logging).isEqualTo(2);
    assertThat(logging.err()).contains("logging.format: 'xml' is not text or json");
    CliRun env = CliRun.run(Map.of("HERALD_SERVER_PROT", "1"), "", "--print-config");
    assertThat(env.code()).isEqualTo(2);
    assertThat(env.err()).contains("HERALD_SERVER_PROT (did you mean HERALD_SERVER_PORT?)");
    CliRun missing = CliRun.run("migrate", "--config", dir.resolve("nope.properties").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("cannot read config file");
  }

  @Test
  void printConfigMasksSecretsAndIgnoresThePublishKeyVariable() throws IOException {
    Path f =
        config(
            "app.db.password=db-secret-value",
            "publish.api-keys=api-key-0123456789-secret",
            "logging.format=json");
    CliRun r =
        CliRun.run(
            Map.of("HERALD_PUBLISH_API_KEY", "cli-key-0123456789", "HERALD_NODE_NAME", "n-7"),
            "",
            "serve",
            "--config",
            f.toString(),
            "--print-config");
    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.out())
        .contains("app.db.password=****")
        .contains("publish.api-keys=****")
        .containsPattern(
            "logging\\.format=json +# file " + java.util.regex.Pattern.quote(f.toString()))
        .containsPattern("server\\.port=8080 +# default")
        .containsPattern("node\\.name=n-7 +# environment HERALD_NODE_NAME")
        .doesNotContain("db-secret-value")
        .doesNotContain("api-key-0123456789-secret");
  }

  @Test
  void createUserRejectsMissingEmptyAndWeakPasswords() throws IOException {
    String cfg = config().toString();
    CliRun noFlag = CliRun.run(Map.of(), "long-enough-pass", "create-user", "ann", "--name", "Ann");
    assertThat(noFlag.code()).isEqualTo(64);
    assertThat(noFlag.err()).contains("Missing required option: '--password-stdin'");
    CliRun empty =
        CliRun.run(
            Map.of(),
            "",
            "create-user",
            "ann",
            "--name",
            "Ann",
            "--password-stdin",
            "--config",
            cfg);
    assertThat(empty.code()).as("%s", empty).isEqualTo(64);
    assertThat(empty.err()).contains("no password on standard input");
    for (String weak :
        new String[] {"short", "password1234", "ann-is-my-password", "aaaaaaaaaaaaaa"}) {
      CliRun r =
          CliRun.run(
              Map.of(),
              weak + "\n",
              "create-user",
              "ann",
              "--name",
              "Ann",
              "--password-stdin",
              "--config",
              cfg);
      assertThat(r.code()).as("%s: %s", weak, r).isEqualTo(1);
      assertThat(r.err()).contains("password refused");
    }
    CliRun badId =
        CliRun.run(Map.of(), "x", "create-user", "Ann!", "--name", "Ann", "--password-stdin");
    assertThat(badId.code()).isEqualTo(64);
    assertThat(badId.err()).contains("user id 'Ann!' is not valid");
  }

  @Test
  void publishRejectsBadInputBeforeConnecting() throws IOException {
    Map<String, String> env = Map.of("HERALD_PUBLISH_API_KEY", "cli-key-0123456789");
    CliRun json =
        CliRun.run(env, "", "publish", "project:1", "{nope", "--url", "http://127.0.0.1:9/");
    assertThat(json.code()).as("%s", json).isEqualTo(64);
    assertThat(json.err()).contains("DATA is not valid JSON: {nope");
    CliRun noKey = CliRun.run("publish", "project:1", "{}", "--url", "http://127.0.0.1:9/");
    assertThat(noKey.code()).isEqualTo(64);
    assertThat(noKey.err())
        .contains("no API key: set HERALD_PUBLISH_API_KEY or pass --api-key-file");
    CliRun noUrl = CliRun.run(env, "", "publish", "project:1", "{}");
    assertThat(noUrl.code()).isEqualTo(64);
    assertThat(noUrl.err()).contains("Missing required option: '--url=URL'");
    CliRun badUrl = CliRun.run(env, "", "publish", "project:1", "{}", "--url", "ftp://x/");
    assertThat(badUrl.code()).isEqualTo(64);
    assertThat(badUrl.err()).contains("must be an http:// or https:// URL");
  }

  @Test
  void publishReportsConnectionRefused() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path key = dir.resolve("key");
    Files.writeString(key, "cli-key-0123456789\n");
    CliRun r =
        CliRun.run(
            "publish",
            "project:1",
            "{\"a\":1}",
            "--url",
            "http://127.0.0.1:" + port + "/",
            "--api-key-file",
            key.toString());
    assertThat(r.code()).as("%s", r).isEqualTo(1);
    assertThat(r.err()).contains("connection refused (is the server running?)");
  }
}
