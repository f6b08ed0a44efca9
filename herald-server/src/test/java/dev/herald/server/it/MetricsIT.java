package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.server.Herald;
import dev.herald.server.config.ConfigLoader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Prometheus endpoint and the readiness endpoint on a real server over real HTTP. */
class MetricsIT {
  private static final Pattern LINE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? ([^ \\n]+)", Pattern.MULTILINE);

  /** Every listed series, by name (labels checked separately). */
  private static final List<String> SERIES =
      List.of(
          "herald_connections{transport=\"websocket\"",
          "herald_connections{transport=\"sse\"",
          "herald_connections{transport=\"long-polling\"",
          "herald_connects_total{",
          "herald_subscriptions ",
          "herald_channels ",
          "herald_publications_total ",
          "herald_deliveries_total ",
          "herald_delivery_latency_seconds_bucket{",
          "herald_delivery_latency_seconds_count ",
          "herald_client_delivery_lag_seconds_bucket{",
          "herald_outbox_bytes ",
          "herald_outbox_max_bytes ",
          "herald_slow_consumers_total{transport=\"websocket\"",
          "herald_transport_failures_total{symptom=\"buffered\",transport=\"sse\"",
          "herald_recoveries_total{outcome=\"recovered\"",
          "herald_recoveries_total{outcome=\"not_recovered\"",
          "herald_recoveries_total{outcome=\"not_requested\"",
          "herald_broker_up ",
          "jvm_memory_used_bytes{",
          "jvm_threads_live_threads ",
          "jvm_classes_loaded_classes ",
          "process_uptime_seconds ",
          "system_cpu_count ",
          "herald_http_server_requests_total{");

  // HTTP/1.1, as Prometheus scrapes (the JDK client's default h2c upgrade is not what we test here)
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void metricsExposeEverySeriesAndMoveWithTraffic() {
    try (TestServer server = TestServer.start()) {
      assertThat(server.get("/health/live", Map.of()).statusCode()).isEqualTo(200);
      String before = scrape(server);
      for (String s : SERIES) {
        assertThat(before).as("series %s", s).contains(s);
      }
      assertThat(value(before, "herald_broker_up", "")).isEqualTo(1.0);

      int n = 5;
      String channel = "test:metrics";
      JsonNode last;
      try (RawClient a = RawClient.connected(server, "alice");
          RawClient b = RawClient.connected(server, "bob")) {
        a.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
        b.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
        String connected = scrape(server);
        assertThat(value(connected, "herald_connections", "transport=\"websocket\""))
            .isEqualTo(2.0);
        assertThat(value(connected, "herald_subscriptions", "")).isEqualTo(2.0);
        assertThat(value(connected, "herald_channels", "")).isEqualTo(1.0);

        for (int i = 0; i < n; i++) {
          assertThat(server.publishHttp(channel, "{\"n\":" + i + "}").statusCode()).isEqualTo(200);
        }
        a.pubs(channel, n);
        last = b.pubs(channel, n).get(n - 1);
      }
      // a recovering subscribe, and one whose position is unknown
      try (RawClient c = RawClient.connected(server, "carol")) {
        JsonNode ok =
            c.request(
                "{\"type\":\"subscribe\",\"channel\":\""
                    + channel
                    + "\",\"since\":{\"epoch\":\""
                    + last.get("epoch").asText()
                    + "\",\"offset\":"
                    + (last.get("offset").asLong() - 1)
                    + "}}");
        assertThat(ok.get("result").get("recovered").asBoolean()).isTrue();
        JsonNode miss =
            c.request(
                "{\"type\":\"subscribe\",\"channel\":\"test:other\",\"since\":{\"epoch\":\"gone\",\"offset\":3}}");
        assertThat(miss.get("result").get("recovered").asBoolean()).isFalse();
      }

      // client-reported lag and a transport failure report
      assertThat(post(server, "/connection/lag", "{\"samples\":[10,250,900000]}").statusCode())
          .isEqualTo(204);
      assertThat(
              post(server, "/connection/report", "{\"transport\":\"sse\",\"symptom\":\"buffered\"}")
                  .statusCode())
          .isEqualTo(204);

      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(
              () -> {
                String after = scrape(server);
                assertThat(delta(before, after, "herald_connects_total", "websocket"))
                    .isEqualTo(3.0);
                assertThat(value(after, "herald_connections", "transport=\"websocket\""))
                    .isEqualTo(0.0);
                assertThat(
                        delta(
                            before,
                            after,
                            "herald_disconnects_total",
                            "reason=\"transport_closed\""))
                    .isEqualTo(3.0);
                assertThat(value(after, "herald_subscriptions", "")).isEqualTo(0.0);
                assertThat(value(after, "herald_channels", "")).isEqualTo(0.0);
                assertThat(delta(before, after, "herald_publications_total", "")).isEqualTo(n);
                assertThat(delta(before, after, "herald_deliveries_total", "")).isEqualTo(2.0 * n);
                assertThat(delta(before, after, "herald_delivery_latency_seconds_count", ""))
                    .isGreaterThanOrEqualTo(1.0);
                assertThat(delta(before, after, "herald_recoveries_total", "\"not_requested\""))
                    .isEqualTo(2.0);
                assertThat(delta(before, after, "herald_recoveries_total", "\"recovered\""))
                    .isEqualTo(1.0);
                assertThat(delta(before, after, "herald_recoveries_total", "\"not_recovered\""))
                    .isEqualTo(1.0);
                assertThat(delta(before, after, "herald_client_delivery_lag_seconds_count", ""))
                    .isEqualTo(3.0);
                // 900000 ms is clamped to 10 minutes
                assertThat(delta(before, after, "herald_client_delivery_lag_seconds_sum", ""))
                    .isCloseTo(0.01 + 0.25 + 600, org.assertj.core.data.Offset.offset(1e-6));
                assertThat(
                        delta(
                            before,
                            after,
                            "herald_transport_failures_total",
                            "symptom=\"buffered\",transport=\"sse\""))
                    .isEqualTo(1.0);
                assertThat(
                        delta(
                            before,
                            after,
                            "herald_http_server_requests_total",
                            "route=\"/api/v1/publish\",status=\"2xx\""))
                    .isEqualTo(n);
                assertThat(after).doesNotContain("route=\"/connection/poll/");
              });
    }
  }

  @Test
  void lagReportsAreValidatedAndOriginChecked() {
    try (TestServer server = TestServer.start()) {
      StringBuilder many = new StringBuilder("{\"samples\":[0");
      for (int i = 0; i < 100; i++) {
        many.append(",1");
      }
      many.append("]}");
      assertThat(post(server, "/connection/lag", many.toString()).statusCode()).isEqualTo(400);
      assertThat(post(server, "/connection/lag", "{\"samples\":[\"x\"]}").statusCode())
          .isEqualTo(400);
      assertThat(post(server, "/connection/lag", "nope").statusCode()).isEqualTo(400);
      assertThat(value(scrape(server), "herald_client_delivery_lag_seconds_count", ""))
          .isEqualTo(0.0);
      HttpResponse<String> foreign =
          send(
              HttpRequest.newBuilder(URI.create(server.baseUrl() + "/connection/lag"))
                  .header("Origin", "https://evil.example")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"samples\":[1]}"))
                  .build());
      assertThat(foreign.statusCode()).isEqualTo(403);
      String text = scrape(server);
      assertThat(value(text, "herald_client_delivery_lag_seconds_count", "")).isEqualTo(0.0);
    }
  }

  @Test
  void metricsCanBeMovedOrTurnedOff() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("metrics.path", "/internal/prom");
    try (TestServer server = TestServer.start(cfg)) {
      assertThat(server.get("/internal/prom", Map.of()).body()).contains("herald_connects_total");
      assertThat(server.get("/metrics", Map.of()).statusCode()).isEqualTo(404);
    }
    cfg = TestServer.baseConfig();
    cfg.put("metrics.enabled", "false");
    try (TestServer server = TestServer.start(cfg)) {
      assertThat(server.get("/metrics", Map.of()).statusCode()).isEqualTo(404);
      assertThat(server.herald().meterRegistry()).isNull();
    }
  }

  @Test
  void readinessIsFalseWhileDrainingAndLivenessStaysUp() throws Exception {
    TestServer server = TestServer.start();
    assertThat(server.get("/health/ready", Map.of()).statusCode()).isEqualTo(200);
    // A long-polling session that does not poll keeps the drain open until its deadline.
    assertThat(post(server, "/connection/poll", "").statusCode()).isEqualTo(200);
    CompletableFuture<Void> stopped = server.herald().stop(Duration.ofSeconds(3));
    HttpResponse<String> ready = server.get("/health/ready", Map.of());
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.body()).contains("\"status\":\"draining\"");
    assertThat(server.get("/health/live", Map.of()).statusCode()).isEqualTo(200);
    assertThat(stopped).isNotDone();
    stopped.get(10, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Test
  void readinessIsFalseWhileARequiredDependencyIsDown() {
    AtomicBoolean database = new AtomicBoolean(true);
    Herald h =
        Herald.builder(ConfigLoader.fromMap(TestServer.baseConfig(), Map.of()))
            .readinessCheck("database", database::get)
            .readinessCheck(
                "cache",
                () -> {
                  if (!database.get()) {
                    throw new IllegalStateException("cache probe failed");
                  }
                  return true;
                })
            .build();
    h.start().join();
    try (TestServer server = TestServer.of(h)) {
      HttpResponse<String> ok = server.get("/health/ready", Map.of());
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.body())
          .contains("\"status\":\"ready\"")
          .contains("\"database\":\"up\"")
          .contains("\"broker\":\"up\"");
      database.set(false);
      HttpResponse<String> down = server.get("/health/ready", Map.of());
      assertThat(down.statusCode()).isEqualTo(503);
      assertThat(down.body())
          .contains("\"status\":\"unavailable\"")
          .contains("\"failed\":[\"database\",\"cache\"]");
      assertThat(server.get("/health/live", Map.of()).statusCode()).isEqualTo(200);
      database.set(true);
      assertThat(server.get("/health/ready", Map.of()).statusCode()).isEqualTo(200);
    }
  }

  // ---------------------------------------------------------------- helpers

  private String scrape(TestServer server) {
    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(URI.create(server.baseUrl() + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .GET()
                .build());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    return r.body();
  }

  private HttpResponse<String> post(TestServer server, String path, String body) {
    return send(
        HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build());
  }

  private HttpResponse<String> send(HttpRequest r) {
    try {
      return http.send(r, HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sum of the samples of a series whose labels contain {@code labelPart} (0 when none). */
  static double value(String text, String name, String labelPart) {
    double sum = 0;
    Matcher m = LINE.matcher(text);
    while (m.find()) {
      String labels = m.group(2) == null ? "" : m.group(2);
      if (m.group(1).equals(name) && labels.contains(labelPart)) {
        sum += Double.parseDouble(m.group(3));
      }
    }
    return sum;
  }

  static double delta(String before, String after, String name, String labelPart) {
    return value(after, name, labelPart) - value(before, name, labelPart);
  }
}
