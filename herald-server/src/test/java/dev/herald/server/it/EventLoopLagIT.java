package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.server.Herald;
import dev.herald.server.config.HeraldConfig;
import dev.herald.server.config.TransportSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A node whose event loop is blocked is not ready: the load balancer must not send it traffic that
 * would time out. Here an application route blocks one of the two loops until the test lets go.
 */
class EventLoopLagIT {
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @Test
  void readinessIsDownWhileAnEventLoopIsBlockedAndUpAgainOnceItRuns() throws Exception {
    CountDownLatch blocking = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    HeraldConfig config =
        HeraldConfig.defaults()
            .withPort(0)
            .withCredentials(List.of(TestServer.SECRET), List.of())
            .withTransport(new TransportSettings(2, Duration.ofMillis(300)));
    Herald herald =
        Herald.builder(config)
            .routes(
                router ->
                    router
                        .get("/app/block")
                        .handler(
                            ctx -> {
                              blocking.countDown();
                              try {
                                release.await(60, TimeUnit.SECONDS); // a handler that blocks
                              } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                              }
                              ctx.response().end("done");
                            }))
            .build();
    herald.start().join();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> ready(herald) == 200);
      CompletableFuture<HttpResponse<String>> blocked =
          http.sendAsync(
              HttpRequest.newBuilder(url(herald, "/app/block")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(blocking.await(30, TimeUnit.SECONDS)).isTrue();

      // Connections that land on the free loop answer; those on the blocked one time out.
      String body =
          await()
              .atMost(Duration.ofSeconds(60))
              .ignoreExceptions()
              .until(() -> readyAnswer(herald), r -> r.statusCode() == 503)
              .body();
      assertThat(body).contains("\"event-loops\":\"down\"").contains("\"status\":\"unavailable\"");
      assertThat(herald.readiness().ready()).isFalse();

      release.countDown();
      assertThat(blocked.get(30, TimeUnit.SECONDS).body()).isEqualTo("done");
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> ready(herald) == 200);
    } finally {
      release.countDown();
      herald.stop(Duration.ofSeconds(1)).get(30, TimeUnit.SECONDS);
    }
  }

  private int ready(Herald herald) throws Exception {
    return readyAnswer(herald).statusCode();
  }

  private HttpResponse<String> readyAnswer(Herald herald) throws Exception {
    return http.send(
        HttpRequest.newBuilder(url(herald, "/health/ready")).timeout(Duration.ofSeconds(2)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static URI url(Herald herald, String path) {
    return URI.create("http://127.0.0.1:" + herald.port() + path);
  }
}
