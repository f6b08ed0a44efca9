package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.herald.server.it.HttpTransportClient.Kind;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * A node that drains (what SIGTERM starts: readiness 503, connections told to go in batches) on a
 * real server: every transport's new session is refused with {@code 503 shutting-down} and {@code
 * Retry-After}; sessions not drained yet are served; a request for a session the drain ended is
 * told the same "go elsewhere, later", not {@code 404 session-unknown}.
 */
class DrainIT {

  private static TestServer draining() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("shutdown.batch-size", "1");
    cfg.put("shutdown.batch-interval", "1h"); // only the first batch goes during the test
    cfg.put("shutdown.retry-min", "3s");
    cfg.put("shutdown.retry-max", "4s");
    return TestServer.start(cfg);
  }

  @Test
  void aDrainingNodeRefusesNewSessionsServesTheOthersAndSendsDrainedOnesElsewhere()
      throws Exception {
    try (TestServer srv = draining();
        HttpTransportClient sse = HttpTransportClient.connected(srv, Kind.SSE, "alice");
        HttpTransportClient poll = HttpTransportClient.connected(srv, Kind.LONG_POLLING, "bob")) {

      srv.herald().hub().shutdown(); // the start of a graceful stop

      assertThat(srv.get("/health/ready", Map.of()).statusCode()).isEqualTo(503);
      assertGoElsewhere(srv.get("/connection/sse", Map.of("Accept", "text/event-stream")));
      assertGoElsewhere(srv.post("/connection/poll", "", Map.of()));
      Throwable ws =
          catchThrowable(
              () ->
                  HttpClient.newHttpClient()
                      .newWebSocketBuilder()
                      .subprotocols("herald.v1.json")
                      .buildAsync(srv.wsUri(), new WebSocket.Listener() {})
                      .join());
      assertThat(ws)
          .as("the WebSocket handshake is refused")
          .isInstanceOf(CompletionException.class)
          .hasCauseInstanceOf(WebSocketHandshakeException.class);
      assertGoElsewhere(((WebSocketHandshakeException) ws.getCause()).getResponse());

      // One session per batch: the first is drained now, the other is still served.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> sse.isDisconnected() || poll.isDisconnected());
      HttpTransportClient drained = sse.isDisconnected() ? sse : poll;
      HttpTransportClient served = drained == sse ? poll : sse;
      assertThat(drained.disconnectMessage().path("code").asInt()).isEqualTo(4001);
      assertThat(drained.disconnectMessage().path("retry_ms").asLong()).isBetween(3000L, 4000L);

      assertThat(
              served
                  .request("{\"type\":\"subscribe\",\"channel\":\"test:during-drain\"}")
                  .has("result"))
          .as("a session not drained yet is served")
          .isTrue();
      srv.publishHttp("test:during-drain", "{\"n\":1}");
      assertThat(served.pubs("test:during-drain", 1)).hasSize(1);
      assertThat(served.isDisconnected()).isFalse();

      // A command that races the drain (sent before the client read its disconnect) is told to go
      // elsewhere later, as the disconnect says, instead of that the session never existed.
      assertGoElsewhere(drained.post("{\"id\":7,\"type\":\"ping\"}"));
    }
  }

  private static void assertGoElsewhere(HttpResponse<?> r) {
    assertThat(r.statusCode()).as("status").isEqualTo(503);
    assertThat(r.headers().firstValue("X-Herald-Error")).hasValue("shutting-down");
    long retryAfter = Long.parseLong(r.headers().firstValue("Retry-After").orElse("0"));
    assertThat(retryAfter).as("Retry-After within shutdown.retry-min/max").isBetween(3L, 4L);
  }
}
