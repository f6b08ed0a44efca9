package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A page on another origin uses what Herald serves, as docs/client-js.md says: the module at {@code
 * /herald/herald.js} (fetched in CORS mode by {@code import}), {@code /demo/token} and the HTTP
 * transports answer allowed origins with CORS headers, and {@code /herald/*} answers HEAD.
 */
class CrossOriginIT {
  static final String PAGE = "https://cms.example.com";
  static final String OTHER = "https://elsewhere.example.net";
  static TestServer server;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @BeforeAll
  static void start() {
    Map<String, String> config = TestServer.baseConfig();
    config.put("server.allowed-origins", PAGE);
    config.put("demo.enabled", "true");
    server = TestServer.start(config);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  HttpResponse<String> send(String method, String path, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, HttpRequest.BodyPublishers.noBody());
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theModuleIsServedWithCorsHeadersToAllowedOrigins() throws Exception {
    HttpResponse<String> res = send("GET", "/herald/herald.js", Map.of("Origin", PAGE));
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("Access-Control-Allow-Origin")).contains(PAGE);
    assertThat(res.headers().firstValue("Access-Control-Allow-Credentials")).contains("true");
    assertThat(res.headers().allValues("Vary")).anySatisfy(v -> assertThat(v).contains("Origin"));
    assertThat(res.headers().firstValue("Content-Type").orElse(""))
        .matches("(text|application)/javascript.*");
    assertThat(res.body()).contains("export class Herald");
    // The files it imports come with the same headers.
    assertThat(
            send("GET", "/herald/transport.js", Map.of("Origin", PAGE))
                .headers()
                .firstValue("Access-Control-Allow-Origin"))
        .contains(PAGE);
  }

  @Test
  void otherOriginsGetTheFileButNoPermissionToReadIt() throws Exception {
    HttpResponse<String> res = send("GET", "/herald/herald.js", Map.of("Origin", OTHER));
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    assertThat(res.headers().allValues("Vary")).anySatisfy(v -> assertThat(v).contains("Origin"));
  }

  @Test
  void headAnswersWithTheHeadersOfGet() throws Exception {
    HttpResponse<String> res = send("HEAD", "/herald/herald.js", Map.of("Origin", PAGE));
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).isEmpty();
    assertThat(res.headers().firstValue("Content-Type").orElse(""))
        .matches("(text|application)/javascript.*");
    assertThat(res.headers().firstValueAsLong("Content-Length").orElse(0)).isPositive();
    assertThat(res.headers().firstValue("Access-Control-Allow-Origin")).contains(PAGE);
  }

  @Test
  void preflightsAreAnswered() throws Exception {
    HttpResponse<String> res =
        send(
            "OPTIONS",
            "/herald/herald.js",
            Map.of("Origin", PAGE, "Access-Control-Request-Method", "GET"));
    assertThat(res.statusCode()).isEqualTo(204);
    assertThat(res.headers().firstValue("Access-Control-Allow-Origin")).contains(PAGE);
    assertThat(res.headers().firstValue("Access-Control-Allow-Methods").orElse("")).contains("GET");
  }

  @Test
  void theDemoTokenEndpointAnswersAllowedOrigins() throws Exception {
    HttpResponse<String> res = send("GET", "/demo/token?user=alice", Map.of("Origin", PAGE));
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).contains("\"token\"");
    assertThat(res.headers().firstValue("Access-Control-Allow-Origin")).contains(PAGE);
    assertThat(
            send("GET", "/demo/token?user=alice", Map.of("Origin", OTHER))
                .headers()
                .firstValue("Access-Control-Allow-Origin"))
        .isEmpty();
  }

  @Test
  void theHttpTransportsStillAnswerWithCorsHeaders() throws Exception {
    HttpResponse<String> res = send("GET", "/connection/info", Map.of("Origin", PAGE));
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("Access-Control-Allow-Origin")).contains(PAGE);
    assertThat(res.headers().firstValue("Access-Control-Expose-Headers").orElse(""))
        .contains("X-Herald-Batch", "X-Herald-Error");
    assertThat(send("GET", "/connection/info", Map.of("Origin", OTHER)).statusCode())
        .isEqualTo(403);
  }
}
