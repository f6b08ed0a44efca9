package dev.herald.server.it;

import dev.herald.server.Herald;
import dev.herald.server.config.ConfigLoader;
import dev.herald.server.config.HeraldConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Herald server on a random port with the namespaces the integration tests use. Use it ad
 * hoc with {@link #start()}, or per test class with {@code @RegisterExtension static final
 * TestServer server = TestServer.perClass();}.
 */
public final class TestServer implements AutoCloseable, BeforeAllCallback, AfterAllCallback {
  public static final String SECRET = "integration-test-secret-0123456789abcdef";
  public static final String API_KEY = "integration-test-api-key";

  private Herald herald;
  private final HttpClient http = HttpClient.newHttpClient();

  private TestServer(Herald herald) {
    this.herald = herald;
  }

  /** A server started before the class's tests and stopped after them. */
  public static TestServer perClass() {
    return new TestServer(null);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    herald = start().herald;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  public static Map<String, String> baseConfig() {
    Map<String, String> m = new HashMap<>();
    m.put("server.port", "0");
    m.put("auth.jwt.secrets", SECRET);
    m.put("publish.api-keys", API_KEY);
    m.put("namespaces", "test,user,short,nohist");
    m.put("namespace.test.history-size", "2000");
    m.put("namespace.test.client-publish", "true");
    m.put("namespace.user.personal", "true");
    m.put("namespace.short.history-size", "10");
    m.put("namespace.nohist.history-size", "0");
    return m;
  }

  public static TestServer start() {
    return start(baseConfig());
  }

  /** A node of a cluster on the Redis at {@code redisUrl}, keys under {@code prefix}. */
  public static TestServer startOnRedis(String redisUrl, String prefix, String node) {
    Map<String, String> config = new HashMap<>(baseConfig());
    config.put("broker.type", "redis");
    config.put("redis.url", redisUrl);
    config.put("redis.prefix", prefix);
    config.put("node.name", node);
    return start(config);
  }

  public static TestServer start(Map<String, String> config) {
    HeraldConfig c = ConfigLoader.fromMap(config, Map.of());
    Herald h = Herald.builder(c).build();
    h.start().join();
    return new TestServer(h);
  }

  /** Wraps a started server built by the test itself (closing it stops the server). */
  public static TestServer of(Herald started) {
    return new TestServer(started);
  }

  public Herald herald() {
    return herald;
  }

  public int port() {
    return herald.port();
  }

  public URI wsUri() {
    return URI.create("ws://127.0.0.1:" + port() + "/connection/websocket");
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  public String token(String user) {
    return herald.jwt().mint(user, Map.of("name", user.toUpperCase()), 3_600_000);
  }

  /** GET /connection/diagnostics with the test API key: failure reports of clients. */
  public com.fasterxml.jackson.databind.JsonNode diagnostics() {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper()
          .readTree(
              get("/connection/diagnostics", Map.of("Authorization", "Bearer " + API_KEY)).body());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Publishes {@code {"seq": n}} for n from {@code from} (inclusive) to {@code to} (exclusive). */
  public void publishSeq(String channel, int from, int to) {
    for (int n = from; n < to; n++) {
      int status = publishHttp(channel, "{\"seq\":" + n + "}").statusCode();
      if (status != 200) {
        throw new AssertionError("publish " + n + " to " + channel + ": " + status);
      }
    }
  }

  /** POST /api/v1/publish with the test API key. */
  public HttpResponse<String> publishHttp(String channel, String dataJson) {
    return post(
        "/api/v1/publish",
        "{\"channel\":\"" + channel + "\",\"data\":" + dataJson + "}",
        "Bearer " + API_KEY,
        "application/json");
  }

  public HttpResponse<String> post(
      String path, String body, String authorization, String contentType) {
    Map<String, String> headers = new HashMap<>();
    if (authorization != null) {
      headers.put("Authorization", authorization);
    }
    if (contentType != null) {
      headers.put("Content-Type", contentType);
    }
    return post(path, body, headers);
  }

  public HttpResponse<String> post(String path, String body, Map<String, String> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl() + path))
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(b::header);
    try {
      // The request timeout covers only the headers; bound the body too, so a stall fails the
      // test instead of hanging the build.
      return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString())
          .orTimeout(30, java.util.concurrent.TimeUnit.SECONDS)
          .join();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public HttpResponse<String> get(String path, Map<String, String> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(10)).GET();
    headers.forEach(b::header);
    try {
      // The request timeout covers only the headers; bound the body too, so a stall fails the
      // test instead of hanging the build.
      return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString())
          .orTimeout(30, java.util.concurrent.TimeUnit.SECONDS)
          .join();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    herald.stop(Duration.ofSeconds(2)).join();
  }
}
