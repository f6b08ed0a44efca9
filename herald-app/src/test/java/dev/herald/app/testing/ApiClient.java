package dev.herald.app.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A browser-like API client: keeps the session cookie and sends the CSRF token. */
public final class ApiClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String base;
  private final CookieManager cookies = new CookieManager();
  private final HttpClient http;
  private String csrf;

  /** A client for an app running in another process. */
  public record Remote(String base) {
    public ApiClient client() {
      return new ApiClient(base);
    }
  }

  ApiClient(String base) {
    this.base = base;
    this.http =
        HttpClient.newBuilder()
            .cookieHandler(cookies)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
  }

  /** A response: status and parsed JSON body (null when empty). */
  public record Response(int status, JsonNode body, HttpResponse<String> raw) {
    public Response expect(int expected) {
      assertThat(status).as("HTTP status, body: %s", raw.body()).isEqualTo(expected);
      return this;
    }

    public JsonNode json() {
      return body;
    }

    public String errorCode() {
      return body == null ? null : body.path("error").path("code").asText(null);
    }
  }

  public Response login(String user, String password) {
    Response r =
        post("/api/login", "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}");
    if (r.status() == 200) {
      csrf = r.body().get("csrfToken").asText();
    }
    return r;
  }

  public String sessionCookie() {
    for (HttpCookie c : cookies.getCookieStore().getCookies()) {
      if (c.getName().equals("herald_session")) {
        return c.getValue();
      }
    }
    return null;
  }

  public String csrf() {
    return csrf;
  }

  public void csrf(String value) {
    csrf = value;
  }

  /** Adds version 1 of page {@code contentRef} to a project as {@code title}; its id. */
  public long addItem(long project, String contentRef, String title) {
    return post(
            "/api/projects/" + project + "/items",
            JSON.createObjectNode()
                .put("contentRef", contentRef)
                .put("contentVersion", 1)
                .put("title", title)
                .put("type", "page")
                .toString())
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  public Response get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  public Response post(String path, String json) {
    return send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/json")
            .POST(
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json)));
  }

  public Response patch(String path, String json) {
    return send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/json")
            .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
  }

  public Response delete(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
  }

  private Response send(HttpRequest.Builder b) {
    if (csrf != null) {
      b.header("X-CSRF-Token", csrf);
    }
    try {
      HttpResponse<String> r =
          http.send(
              b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
      JsonNode body = r.body() == null || r.body().isEmpty() ? null : JSON.readTree(r.body());
      return new Response(r.statusCode(), body, r);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
