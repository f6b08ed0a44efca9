package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs the tests of the browser client herald.js (clients/js) against a real server: its unit
 * tests, its integration tests in Node (with the {@code ws} package as WebSocket) and its tests in
 * headless Chromium, which load the module the server serves at {@code /herald/herald.js}. Needs
 * node and npm on the PATH and Debian's chromium at /usr/bin/chromium (or the path in
 * HERALD_CHROMIUM); see clients/js/README.md. A second server with {@code websocket.enabled=false}
 * (HERALD_URL_NO_WS) lets the transport negotiation tests show the fallback to SSE.
 */
class HeraldJsIT {
  @RegisterExtension static final TestServer server = TestServer.perClass();
  static final Path DIR = Path.of("..", "clients", "js").toAbsolutePath().normalize();
  static TestServer noWebSocket;

  @BeforeAll
  static void startServerWithoutWebSocket() {
    Map<String, String> config = TestServer.baseConfig();
    config.put("websocket.enabled", "false");
    config.put("node.name", "herald-no-ws");
    noWebSocket = TestServer.start(config);
  }

  @AfterAll
  static void stopServerWithoutWebSocket() {
    if (noWebSocket != null) {
      noWebSocket.close();
    }
  }

  @Test
  void serverServesTheCurrentClientSources() throws IOException {
    List<Path> sources;
    try (Stream<Path> files = Files.list(DIR.resolve("src"))) {
      sources =
          files
              .filter(p -> p.toString().endsWith(".js") || p.toString().endsWith(".d.ts"))
              .sorted()
              .toList();
    }
    assertThat(sources)
        .extracting(p -> p.getFileName().toString())
        .contains("herald.js", "herald.d.ts");
    for (Path source : sources) {
      String name = source.getFileName().toString();
      HttpResponse<String> res = server.get("/herald/" + name, Map.of());
      assertThat(res.statusCode()).as("GET /herald/%s", name).isEqualTo(200);
      assertThat(res.body())
          .as(
              "/herald/%s is the current clients/js/src/%s (stale build? run mvn compile -pl herald-server)",
              name, name)
          .isEqualTo(Files.readString(source, StandardCharsets.UTF_8));
      if (name.endsWith(".js")) {
        // Browsers refuse to run module scripts served with another MIME type.
        assertThat(res.headers().firstValue("Content-Type").orElse(""))
            .as("Content-Type of %s", name)
            .matches("(text|application)/javascript.*");
      }
    }
  }

  @Test
  void clientTestsPassAgainstTheServerInNodeAndChromium() throws Exception {
    assertThat(DIR.resolve("package.json")).exists();
    NodeRunner.installIfMissing(DIR, "ws", "playwright-core");
    List<String> command = new ArrayList<>(List.of("node", "--test", "--test-reporter=spec"));
    try (Stream<Path> files = Files.list(DIR.resolve("test"))) {
      files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".test.js"))
          .sorted()
          .map(n -> "test/" + n)
          .forEach(command::add);
    }
    Map<String, String> env = new HashMap<>(NodeRunner.environment(server));
    env.put("HERALD_URL_NO_WS", noWebSocket.baseUrl());
    NodeRunner.Result result = NodeRunner.run(DIR, command, env, 600);
    assertThat(result.exitCode()).as("node --test exit code").isZero();
    // With HERALD_URL set nothing may be skipped: a skipped integration test is a hole.
    Matcher skipped = Pattern.compile("(?m)^\\S* ?skipped (\\d+)$").matcher(result.output());
    assertThat(skipped.find()).as("test summary in the output").isTrue();
    assertThat(skipped.group(1)).as("skipped tests").isEqualTo("0");
  }
}
