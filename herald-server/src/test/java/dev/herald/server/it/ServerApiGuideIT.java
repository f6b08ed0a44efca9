package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Runs every {@code curl} example of docs/server-api.md, in order, against a real node, and checks
 * each reply against the JSON the guide shows under it: the same fields at every level, arrays of
 * the same length, the same values for codes, counts and names, and the status the error table
 * gives for an error.
 */
class ServerApiGuideIT {
  static final Path GUIDE = Path.of("../docs/server-api.md");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern EXAMPLE =
      Pattern.compile("```sh\n(curl .*?)```\n+```json\n(.*?)```", Pattern.DOTALL);

  /** The connection id the guide uses; replaced by alice's first connection's. */
  private static final String DOC_CONNECTION = "c-3f9a1d0b2e5k";

  /** Values compared as they are; everything else only by type. */
  private static final Set<String> EXACT =
      Set.of(
          "code",
          "disconnected",
          "unsubscribed",
          "channel",
          "user",
          "transport",
          "node",
          "name",
          "subscribers",
          "connections",
          "users",
          "offset",
          "subscriptions",
          "channels",
          "accepting",
          "broker_healthy",
          "answered",
          "missing",
          "publications");

  /** The application's own JSON, not the API's. */
  private static final Set<String> OPAQUE = Set.of("info", "state", "data");

  /** Arrays whose order the API does not fix: their elements are compared by shape only. */
  private static final Set<String> UNORDERED = Set.of("clients", "connections");

  private static final Map<Integer, Integer> STATUS =
      Map.of(101, 401, 102, 404, 107, 400, 118, 404);

  @Test
  void everyCurlExampleAnswersWhatTheGuideShows() throws Exception {
    String guide = Files.readString(GUIDE, StandardCharsets.UTF_8);
    Map<String, String> config = new HashMap<>(TestServer.baseConfig());
    config.put("namespaces", "test,user,short,nohist,project");
    config.put("node.name", "herald-1");
    try (TestServer server = TestServer.start(config);
        RawClient alice1 = RawClient.open(server.wsUri());
        RawClient alice2 = RawClient.connected(server, "alice");
        RawClient bob = RawClient.connected(server, "bob")) {
      JsonNode connected =
          alice1.request("{\"type\":\"connect\",\"token\":\"" + server.token("alice") + "\"}");
      String aliceId = connected.path("result").path("client").asText();
      for (RawClient c : List.of(alice1, alice2, bob)) {
        assertThat(c.request("{\"type\":\"subscribe\",\"channel\":\"project:42\"}").has("result"))
            .isTrue();
      }
      assertThat(
              bob.request(
                      "{\"type\":\"presence_set\",\"channel\":\"project:42\","
                          + "\"state\":{\"editing\":\"item:7\"}}")
                  .has("result"))
          .isTrue();
      server.herald().publish("project:42", "{\"item\":5,\"status\":\"draft\"}").join();
      server.herald().publish("project:42", "{\"item\":6,\"status\":\"draft\"}").join();

      Matcher m = EXAMPLE.matcher(guide);
      int ran = 0;
      while (m.find()) {
        String command = m.group(1).replace(DOC_CONNECTION, aliceId);
        JsonNode shown = JSON.readTree(m.group(2).replace(DOC_CONNECTION, aliceId));
        Reply reply = run(command, server);
        JsonNode actual = JSON.readTree(reply.body());
        int expected =
            shown.has("error") ? STATUS.get(shown.path("error").path("code").asInt()) : 200;
        assertThat(reply.status())
            .as("status of %s: %s", command, reply.body())
            .isEqualTo(expected);
        List<String> problems = new ArrayList<>();
        compare("", shown, actual, true, problems);
        assertThat(problems).as("%s answered %s", command, reply.body()).isEmpty();
        ran++;
        if (command.contains("/api/v1/disconnect") && command.contains("\"connection\"")) {
          assertThat(alice1.awaitClose()).isEqualTo(4007);
        } else if (command.contains("/api/v1/disconnect")) {
          assertThat(alice2.awaitClose()).isEqualTo(4501);
        }
      }
      assertThat(ran).as("curl examples found in %s", GUIDE).isGreaterThanOrEqualTo(15);
    }
  }

  private record Reply(int status, String body) {}

  private static Reply run(String command, TestServer server) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder("bash", "-c", command.strip() + " --max-time 60 -w '\\n%{http_code}'");
    pb.environment().put("HERALD_URL", "http://127.0.0.1:" + server.port());
    pb.environment().put("HERALD_API_KEY", TestServer.API_KEY);
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("curl exit for %s: %s", command, out).isZero();
    int nl = out.lastIndexOf('\n');
    return new Reply(Integer.parseInt(out.substring(nl + 1).trim()), out.substring(0, nl));
  }

  /** Adds to {@code problems} where {@code actual} differs from what the guide shows. */
  private static void compare(
      String path, JsonNode shown, JsonNode actual, boolean exact, List<String> problems) {
    String key = path.substring(path.lastIndexOf('.') + 1).replaceAll("\\[\\d+]$", "");
    if (shown.getNodeType() != actual.getNodeType()) {
      problems.add(path + ": " + actual.getNodeType() + " instead of " + shown.getNodeType());
    } else if (shown.isObject() && !OPAQUE.contains(key)) {
      Set<String> a = new TreeSet<>();
      actual.fieldNames().forEachRemaining(a::add);
      Set<String> s = new TreeSet<>();
      for (Iterator<String> i = shown.fieldNames(); i.hasNext(); ) {
        s.add(i.next());
      }
      if (!a.equals(s)) {
        problems.add(path + ": fields " + a + " instead of " + s);
        return;
      }
      for (String f : s) {
        compare(path + "." + f, shown.get(f), actual.get(f), exact, problems);
      }
    } else if (shown.isArray()) {
      if (shown.size() != actual.size()) {
        problems.add(path + ": " + actual.size() + " elements instead of " + shown.size());
        return;
      }
      boolean ordered = exact && !UNORDERED.contains(key);
      for (int i = 0; i < shown.size(); i++) {
        compare(path + "[" + i + "]", shown.get(i), actual.get(i), ordered, problems);
      }
    } else if (exact && EXACT.contains(key) && shown.isValueNode() && !shown.equals(actual)) {
      problems.add(path + ": " + actual + " instead of " + shown);
    }
  }
}
