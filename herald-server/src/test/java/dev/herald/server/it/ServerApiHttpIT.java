package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The server API's refusals over HTTP: every bad request gets its documented status and code. */
class ServerApiHttpIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> GETS =
      List.of(
          "/api/v1/node",
          "/api/v1/nodes",
          "/api/v1/connections?user=alice",
          "/api/v1/channels",
          "/api/v1/presence?channel=test:a",
          "/api/v1/presence-stats?channel=test:a",
          "/api/v1/history?channel=test:a");
  private static TestServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void everyEndpointRefusesAMissingOrWrongKeyWith401() throws Exception {
    for (String path : GETS) {
      assertError(send("GET", path, null, null), 401, 101);
      assertError(send("GET", path, null, "not-the-key-at-all-0000"), 401, 101);
    }
    for (String path : List.of("/api/v1/disconnect", "/api/v1/unsubscribe")) {
      assertError(
          send("POST", path, "{\"user\":\"alice\",\"channel\":\"test:a\"}", null), 401, 101);
    }
  }

  @Test
  void badParametersAre400WithCode107() throws Exception {
    assertError(get("/api/v1/connections"), 400, 107);
    assertError(get("/api/v1/connections?user=alice&id=c-1"), 400, 107);
    assertError(get("/api/v1/connections?user="), 400, 107);
    assertError(get("/api/v1/presence"), 400, 107);
    assertError(get("/api/v1/history?channel=test:a&limit=abc"), 400, 107);
    assertError(get("/api/v1/history?channel=test:a&limit=0"), 400, 107);
    assertError(get("/api/v1/channels?prefix=" + "p".repeat(256)), 400, 107);
    assertError(
        post("/api/v1/disconnect", "{\"user\":\"alice\",\"connection\":\"c-1\"}"), 400, 107);
    assertError(post("/api/v1/disconnect", "{}"), 400, 107);
    assertError(post("/api/v1/disconnect", "{\"user\":\"alice\",\"reconnect\":\"yes\"}"), 400, 107);
    assertError(post("/api/v1/disconnect", "[1,2]"), 400, 107);
    assertError(post("/api/v1/disconnect", "{not json"), 400, 107);
    assertError(post("/api/v1/unsubscribe", "{\"user\":\"alice\"}"), 400, 107);
    HttpRequest textBody =
        HttpRequest.newBuilder(uri("/api/v1/disconnect"))
            .header("Authorization", "Bearer " + TestServer.API_KEY)
            .header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"alice\"}"))
            .build();
    assertError(http.send(textBody, HttpResponse.BodyHandlers.ofString()), 415, 107);
  }

  @Test
  void unknownChannelsAndConnectionsAre404() throws Exception {
    assertError(get("/api/v1/history?channel=nosuchns:a"), 404, 102);
    assertError(get("/api/v1/presence?channel=bad%20name"), 404, 102);
    assertError(post("/api/v1/unsubscribe", "{\"user\":\"alice\",\"channel\":\"::\"}"), 404, 102);
    assertError(get("/api/v1/connections?id=c-nosuchthing1"), 404, 118);
    assertError(post("/api/v1/disconnect", "{\"connection\":\"c-nosuchthing1\"}"), 404, 118);
  }

  @Test
  void aUserWithoutConnectionsIsAnEmptyListNotAnError() throws Exception {
    HttpResponse<String> r = get("/api/v1/connections?user=nobody");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.path("connections").isArray()).isTrue();
    assertThat(body.path("connections")).isEmpty();
    assertThat(body.path("missing")).isEmpty();
    assertThat(post("/api/v1/disconnect", "{\"user\":\"nobody\"}").body())
        .contains("\"disconnected\":0");
  }

  private static void assertError(HttpResponse<String> r, int status, int code) throws Exception {
    assertThat(r.statusCode()).as("%s %s", r.uri(), r.body()).isEqualTo(status);
    JsonNode error = JSON.readTree(r.body()).path("error");
    assertThat(error.path("code").asInt()).as("%s %s", r.uri(), r.body()).isEqualTo(code);
    assertThat(error.path("message").asText()).isNotBlank();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return send("GET", path, null, TestServer.API_KEY);
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return send("POST", path, body, TestServer.API_KEY);
  }

  private HttpResponse<String> send(
      String method, String path, @Nullable String body, @Nullable String key) throws Exception {
    return ApiRequests.send(server.port(), method, path, body, key);
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }
}
