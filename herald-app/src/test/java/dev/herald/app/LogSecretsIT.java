package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.TestApp;
import dev.herald.server.it.RawClient;
import dev.herald.server.logging.Logs;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Logs in (and fails to), uses the session cookie, the CSRF token and publish API keys, and checks
 * that the log output in both formats holds none of them, but does hold request ids.
 */
class LogSecretsIT {
  static final String API_KEY = "log-test-api-key-0123456789";
  static final String BAD_KEY = "bad-log-test-key-9876543210";

  @Test
  void noSecretsInTheLogs() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ch.qos.logback.classic.Logger app = context.getLogger("dev.herald");
    Level before = app.getLevel();
    app.setLevel(Level.DEBUG);
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    List<OutputStreamAppender<ILoggingEvent>> appenders =
        List.of(
            appender(context, Logs.Format.JSON, json), appender(context, Logs.Format.TEXT, text));
    appenders.forEach(root::addAppender);
    List<String> secrets;
    Map<String, String> config = new HashMap<>(TestApp.config(TestApp.Db.H2));
    config.put("publish.api-keys", API_KEY);
    config.put("app.db.password", "");
    try (TestApp t = TestApp.start(TestApp.Db.H2, config, ContentPublisher.alwaysSucceeds())) {
      t.anonymous().login("alice", "wrong-secret-password").expect(401);
      ApiClient alice = t.login("alice");
      alice.get("/api/me").expect(200);
      long p =
          alice
              .post("/api/projects", "{\"name\":\"Logs\",\"members\":[]}")
              .expect(201)
              .json()
              .get("id")
              .asLong();
      alice.get("/api/projects/" + p + "/nope").expect(404);
      try (RawClient ws =
          RawClient.open(
              t.wsUri(),
              Map.of("Cookie", "herald_session=" + alice.sessionCookie()),
              "herald.v1.json")) {
        assertThat(ws.request("{\"type\":\"connect\"}").has("result")).isTrue();
      }
      HttpClient http = HttpClient.newHttpClient();
      for (String key : new String[] {API_KEY, BAD_KEY}) {
        http.send(
            HttpRequest.newBuilder(URI.create(t.baseUrl() + "/api/v1/publish"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"channel\":\"project:" + p + "\",\"data\":{}}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
      }
      secrets =
          List.of(
              "pw-alice",
              "wrong-secret-password",
              alice.sessionCookie(),
              alice.csrf(),
              API_KEY,
              BAD_KEY);
    } finally {
      appenders.forEach(
          a -> {
            root.detachAppender(a);
            a.stop();
          });
      app.setLevel(before);
    }
    String jsonOut = json.toString(StandardCharsets.UTF_8);
    String textOut = text.toString(StandardCharsets.UTF_8);
    assertThat(jsonOut).contains("\"requestId\"").contains("POST /api/login -> 401");
    assertThat(textOut).contains("POST /api/login -> 200").contains("POST /api/login -> 401");
    List<JsonNode> access = new java.util.ArrayList<>();
    for (String line : jsonOut.split("\n")) {
      assertThat(line.strip()).startsWith("{").endsWith("}");
      JsonNode n = new ObjectMapper().readTree(line);
      assertThat(java.time.Instant.parse(n.path("timestamp").asText())).isNotNull();
      if (n.path("loggerName").asText().equals("dev.herald.app.access")) {
        access.add(n.path("kvp"));
      }
    }
    // Access lines carry structured fields: the route pattern (never the raw path) and the user.
    assertThat(access)
        .anySatisfy(
            kv -> {
              assertThat(kv.path("method").asText()).isEqualTo("POST");
              assertThat(kv.path("route").asText()).isEqualTo("/api/projects");
              assertThat(kv.path("status").asInt()).isEqualTo(201);
              assertThat(kv.path("user").asText()).isEqualTo("alice");
              assertThat(kv.path("durationMs").isNumber()).isTrue();
            })
        .anySatisfy(
            kv -> {
              assertThat(kv.path("route").asText()).isEqualTo("/api/login");
              assertThat(kv.path("status").asInt()).isEqualTo(401);
              assertThat(kv.path("user").isNull()).isTrue();
            });
    for (String secret : secrets) {
      assertThat(secret).isNotBlank();
      assertThat(jsonOut).as("JSON logs").doesNotContain(secret);
      assertThat(textOut).as("text logs").doesNotContain(secret);
    }
  }

  private static OutputStreamAppender<ILoggingEvent> appender(
      LoggerContext context, Logs.Format format, ByteArrayOutputStream out) {
    OutputStreamAppender<ILoggingEvent> a = new OutputStreamAppender<>();
    a.setContext(context);
    a.setName("capture-" + format);
    a.setEncoder(Logs.encoder(context, format));
    a.setOutputStream(out);
    a.start();
    return a;
  }
}
