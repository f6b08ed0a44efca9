package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.server.doctor.Doctor;
import dev.herald.server.doctor.ProbeResult;
import dev.herald.server.doctor.ProbeResult.Status;
import dev.herald.server.doctor.Report;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The doctor against Herald behind a real HAProxy (started by the tests, see {@link HAProxy}), one
 * frontend per configuration:
 *
 * <ul>
 *   <li>HAProxy's default {@code mode http}: every small SSE event is held about 200 ms (HAProxy
 *       merges small writes unless {@code option http-no-delay}); the doctor measures it and names
 *       the option;
 *   <li>the same with {@code option http-no-delay}: nothing to report;
 *   <li>{@code timeout tunnel}, {@code timeout server} and {@code timeout client} of 3 s in front
 *       of a Herald that pings every 10 s: the doctor's idle holds are cut on every transport, and
 *       it names the timeout to raise and the heartbeat that would survive.
 * </ul>
 */
class HAProxyIT {
  private static TestServer herald;
  private static TestServer heartbeat10s;
  private static HAProxy haproxy;

  private static int delaying;
  private static int noDelay;
  private static int shortTimeouts;

  @BeforeAll
  static void startServersAndHAProxy() {
    herald = TestServer.start();
    Map<String, String> hb10 = TestServer.baseConfig();
    hb10.put("heartbeat.interval", "10s");
    heartbeat10s = TestServer.start(hb10);
    // A first request warms each server up, so none waits for a cold start behind a 3 s timeout.
    for (TestServer s : new TestServer[] {herald, heartbeat10s}) {
      assertThat(s.get("/connection/info", Map.of()).statusCode()).isEqualTo(200);
    }
    delaying = Nginx.freePort();
    noDelay = Nginx.freePort();
    shortTimeouts = Nginx.freePort();
    haproxy =
        HAProxy.start(
            """
            defaults
              mode http
              timeout connect 5s
              timeout client 60s
              timeout server 60s
              timeout tunnel 1h

            # HAProxy's default HTTP mode: small writes are merged (about 200 ms each)
            frontend delaying
              bind 127.0.0.1:%d
              default_backend herald

            backend herald
              server h1 127.0.0.1:%d

            # the same with option http-no-delay
            frontend no-delay
              bind 127.0.0.1:%d
              default_backend herald-no-delay

            backend herald-no-delay
              option http-no-delay
              server h1 127.0.0.1:%d

            # idle timeouts of 3 s; Herald pings every 10 s
            frontend short-timeouts
              bind 127.0.0.1:%d
              timeout client 3s
              default_backend herald-short-timeouts

            backend herald-short-timeouts
              option http-no-delay
              timeout server 3s
              timeout tunnel 3s
              server h1 127.0.0.1:%d
            """
                .formatted(
                    delaying,
                    herald.port(),
                    noDelay,
                    herald.port(),
                    shortTimeouts,
                    heartbeat10s.port()),
            delaying,
            noDelay,
            shortTimeouts);
  }

  @AfterAll
  static void stopHAProxyAndServers() {
    if (haproxy != null) {
      haproxy.close();
    }
    for (TestServer s : new TestServer[] {herald, heartbeat10s}) {
      if (s != null) {
        s.close();
      }
    }
  }

  @Test
  void httpModeWithoutNoDelayHoldsEverySseEventAndTheDoctorNamesTheOption() {
    Report report = doctor(delaying, Doctor.Options.defaults().withIdle(Duration.ZERO));

    ProbeResult sse = report.result(Doctor.SSE);
    assertThat(sse.status()).isEqualTo(Status.WARN);
    assertThat(sse.finding())
        .contains("late", "Nagle-like batching", "option http-no-delay")
        .doesNotContain("not buffered");
    assertThat(sse.fixes()).anySatisfy(f -> assertThat(f).contains("option http-no-delay"));
    assertThat(report.result(Doctor.WEBSOCKET).status()).isEqualTo(Status.OK);
    assertThat(report.result(Doctor.LONG_POLLING).status()).isEqualTo(Status.OK);
    assertThat(report.verdict()).contains("WebSocket works", "with the problems above");
    assertThat(report.exitCode()).isZero();
  }

  @Test
  void withOptionHttpNoDelayTheDoctorFindsNothing() {
    Report report = doctor(noDelay, Doctor.Options.defaults().withIdle(Duration.ZERO));

    assertThat(report.results()).extracting(ProbeResult::status).containsOnly(Status.OK);
    ProbeResult sse = report.result(Doctor.SSE);
    assertThat(sse.finding()).contains("not buffered").doesNotContain("late");
    assertThat(sse.fixes()).isEmpty();
  }

  @Test
  void timeoutsShorterThanTheHeartbeatCutIdleConnectionsOnEveryTransport() {
    Report report =
        doctor(
            shortTimeouts,
            Doctor.Options.defaults()
                .withIdle(Duration.ofSeconds(6))
                .withToken(heartbeat10s.token("doctor")));

    ProbeResult ws = report.result(Doctor.WEBSOCKET);
    assertThat(ws.status()).isEqualTo(Status.WARN);
    assertThat(ws.finding()).contains("was cut after", "heartbeat.interval", "10.0 s");
    assertThat(ws.fixes())
        .anySatisfy(f -> assertThat(f).startsWith("for HAProxy: timeout tunnel"))
        .anySatisfy(f -> assertThat(f).contains("heartbeat.interval="));
    ProbeResult sse = report.result(Doctor.SSE);
    assertThat(sse.status()).isEqualTo(Status.WARN);
    assertThat(sse.finding()).contains("the stream was cut after");
    assertThat(sse.fixes())
        .anySatisfy(f -> assertThat(f).startsWith("for HAProxy: timeout server"));
    ProbeResult poll = report.result(Doctor.LONG_POLLING);
    assertThat(poll.status()).isEqualTo(Status.WARN);
    assertThat(poll.finding()).contains("was cut after", "504", "longpoll.timeout");
    assertThat(poll.fixes())
        .anySatisfy(f -> assertThat(f).contains("for HAProxy: timeout server"))
        .anySatisfy(f -> assertThat(f).contains("longpoll.timeout="));
    assertThat(report.exitCode()).isZero();
  }

  /** Runs the doctor in-process; its output goes to the test report. */
  private static Report doctor(int port, Doctor.Options options) {
    Report report = Doctor.examine(URI.create("http://127.0.0.1:" + port + "/"), options);
    System.out.println(report.render());
    return report;
  }
}
