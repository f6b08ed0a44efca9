package dev.herald.server.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** Calls of the HTTP server API (docs/server-api.md) against a test node. */
final class ApiRequests {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private ApiRequests() {}

  /**
   * Sends {@code method path} to the node on {@code port}, with {@code body} as JSON when given and
   * {@code key} as the bearer API key when given.
   */
  static HttpResponse<String> send(
      int port, String method, String path, @Nullable String body, @Nullable String key)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(60));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    if (body != null) {
      b.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
