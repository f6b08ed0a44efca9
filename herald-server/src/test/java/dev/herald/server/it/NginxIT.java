package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.client.CloseInfo;
import dev.herald.client.HeraldClient;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.server.doctor.Doctor;
import dev.herald.server.doctor.ProbeResult;
import dev.herald.server.doctor.ProbeResult.Status;
import dev.herald.server.doctor.Report;
import dev.herald.server.it.HttpTransportClient.Kind;
import dev.herald.server.it.JavaClientIT.Event;
import dev.herald.server.it.JavaClientIT.Events;
import dev.herald.server.it.JavaClientIT.Recorder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Herald behind a real nginx (started by the tests, see {@link Nginx}), in the configurations that
 * break real-time apps in the field, each checked from real clients with sequence numbers (nothing
 * lost, nothing out of order) and with the doctor's verdict:
 *
 * <ul>
 *   <li>correct proxying with the shipped configuration (deploy/nginx), over plain HTTP and TLS:
 *       WebSocket works (Java client);
 *   <li>Upgrade and Connection not forwarded (nginx's defaults, with Host passed on): the handshake
 *       fails, SSE stays live (Herald's X-Accel-Buffering: no is honoured);
 *   <li>the same and responses buffered ({@code proxy_ignore_headers X-Accel-Buffering}): SSE is
 *       held back, long-polling stays live;
 *   <li>an idle timeout (proxy_read_timeout 2 s) shorter than the heartbeat gaps: with 1 s
 *       heartbeats connections survive; with 6 s ones nginx cuts them and the Java client
 *       reconnects and recovers without loss;
 *   <li>the doctor's idle holds (with a token) through that timeout: cut on every transport in
 *       front of 6 s heartbeats, kept open by 1 s ones;
 *   <li>"block all streaming" (no upgrade, buffering with X-Accel-Buffering ignored, a 3 s read
 *       timeout): the doctor names each part, and long-polling is not reported OK while its held
 *       polls end with 504; with a poll hold (1 s) below the read timeout, polls come back 204;
 *   <li>nginx's plain defaults (Host rewritten: browsers' Origin refused) and an upstream that is
 *       down (502), for the doctor's explanations;
 * </ul>
 *
 * plus {@code websocket.enabled=false} without a proxy. One nginx serves every configuration, each
 * on its own loopback port.
 */
class NginxIT {
  private static final Path DEPLOY = Path.of("..", "deploy", "nginx").toAbsolutePath().normalize();
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private static TestServer herald;
  private static TestServer heartbeat1s;
  private static TestServer heartbeat6s;
  private static TestServer shortPollHold;
  private static Nginx nginx;
  private static Nginx.Tls tls;

  private static int correct;
  private static int correctTls;
  private static int redirect;
  private static int noUpgrade;
  private static int buffered;
  private static int defaults;
  private static int upstreamDown;
  private static int idleWithHeartbeats;
  private static int idleCut;
  private static int blockAllStreaming;
  private static int pollHoldBelowTimeout;

  private final List<HeraldClient> clients = new ArrayList<>();

  @BeforeAll
  static void startServersAndNginx() throws IOException {
    herald = TestServer.start();
    Map<String, String> hb1 = TestServer.baseConfig();
    hb1.put("heartbeat.interval", "1s");
    heartbeat1s = TestServer.start(hb1);
    Map<String, String> hb6 = TestServer.baseConfig();
    hb6.put("heartbeat.interval", "6s");
    heartbeat6s = TestServer.start(hb6);
    Map<String, String> shortHold = TestServer.baseConfig();
    shortHold.put("longpoll.timeout", "1s");
    shortPollHold = TestServer.start(shortHold);

    correct = Nginx.freePort();
    correctTls = Nginx.freePort();
    redirect = Nginx.freePort();
    noUpgrade = Nginx.freePort();
    buffered = Nginx.freePort();
    defaults = Nginx.freePort();
    upstreamDown = Nginx.freePort();
    idleWithHeartbeats = Nginx.freePort();
    idleCut = Nginx.freePort();
    blockAllStreaming = Nginx.freePort();
    pollHoldBelowTimeout = Nginx.freePort();
    int nobody = Nginx.freePort();

    Path dir = Nginx.newDirectory();
    tls = Nginx.selfSignedCertificate(dir);
    // The shipped files, with only the lines marked ADAPT changed.
    String site = Files.readString(DEPLOY.resolve("herald.conf"));
    site = replaceOnce(site, "server 127.0.0.1:8080;", "server 127.0.0.1:" + herald.port() + ";");
    site = replaceOnce(site, "listen 80;", "listen 127.0.0.1:" + redirect + ";");
    site =
        replaceOnce(
            site, "listen 443 ssl http2;", "listen 127.0.0.1:" + correctTls + " ssl http2;");
    site = replaceOnce(site, "listen [::]:80;", "");
    site = replaceOnce(site, "listen [::]:443 ssl http2;", "");
    site =
        replaceOnce(
            site,
            "/etc/letsencrypt/live/herald.example.com/fullchain.pem",
            tls.certPem().toString());
    site =
        replaceOnce(
            site, "/etc/letsencrypt/live/herald.example.com/privkey.pem", tls.keyPem().toString());
    Files.writeString(dir.resolve("herald.conf"), site);
    Files.createDirectories(dir.resolve("snippets"));
    Files.copy(
        DEPLOY.resolve("snippets/herald-proxy.conf"), dir.resolve("snippets/herald-proxy.conf"));

    int up = herald.port();
    String http =
        """
        include herald.conf;

        # (a) correct proxying over plain HTTP: the shipped snippet, as in an app's server block
        server {
          listen 127.0.0.1:%d;
          location / { include snippets/herald-proxy.conf; }
        }

        # (b) Upgrade and Connection not forwarded (nginx talks HTTP/1.0 upstream), Host passed on
        server {
          listen 127.0.0.1:%d;
          location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_set_header Host $http_host;
          }
        }

        # (c) as (b), and responses buffered whatever Herald asks (X-Accel-Buffering ignored)
        server {
          listen 127.0.0.1:%d;
          location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_set_header Host $http_host;
            proxy_buffering on;
            proxy_ignore_headers X-Accel-Buffering;
          }
        }

        # nginx's defaults: no upgrade, and Host rewritten to the upstream's address
        server {
          listen 127.0.0.1:%d;
          location / { proxy_pass http://127.0.0.1:%d; }
        }

        # an upstream nobody listens on
        server {
          listen 127.0.0.1:%d;
          location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_set_header Host $http_host;
          }
        }

        # (d) idle timeout 2 s; the upstream pings every 1 s
        server {
          listen 127.0.0.1:%d;
          location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_read_timeout 2s;
            proxy_send_timeout 2s;
          }
        }

        # (d) idle timeout 2 s; the upstream pings every 6 s
        server {
          listen 127.0.0.1:%d;
          location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_read_timeout 2s;
            proxy_send_timeout 2s;
          }
        }

        # (e) "block all streaming": no upgrade, responses buffered whatever Herald asks, and a
        # read timeout of 3 s (Herald holds polls for 25 s)
        server {
          listen 127.0.0.1:%d;
          location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_set_header Host $http_host;
            proxy_buffering on;
            proxy_ignore_headers X-Accel-Buffering;
            proxy_read_timeout 3s;
          }
        }

        # (f) a read timeout of 3 s in front of a Herald that holds polls for 1 s
        server {
          listen 127.0.0.1:%d;
          location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_set_header Host $http_host;
            proxy_read_timeout 3s;
          }
        }
        """
            .formatted(
                correct,
                noUpgrade,
                up,
                buffered,
                up,
                defaults,
                up,
                upstreamDown,
                nobody,
                idleWithHeartbeats,
                heartbeat1s.port(),
                idleCut,
                heartbeat6s.port(),
                blockAllStreaming,
                up,
                pollHoldBelowTimeout,
                shortPollHold.port());
    nginx =
        Nginx.start(
            dir,
            http,
            correct,
            correctTls,
            redirect,
            noUpgrade,
            buffered,
            defaults,
            upstreamDown,
            idleWithHeartbeats,
            idleCut,
            blockAllStreaming,
            pollHoldBelowTimeout);
  }

  @AfterAll
  static void stopNginxAndServers() {
    if (nginx != null) {
      nginx.close();
      assertThat(ProcessHandle.of(nginx.pid()).map(ProcessHandle::isAlive).orElse(false))
          .as("nginx master %d stopped", nginx.pid())
          .isFalse();
    }
    for (TestServer s : new TestServer[] {herald, heartbeat1s, heartbeat6s, shortPollHold}) {
      if (s != null) {
        s.close();
      }
    }
  }

  @AfterEach
  void closeClients() {
    clients.forEach(HeraldClient::close);
    clients.clear();
  }

  // ======================================================================================= tests

  @Test
  void correctProxyingCarriesWebSocketAndTheDoctorSaysSo() throws Exception {
    String channel = "test:nginx-ws";
    Events events = new Events();
    HeraldClient client = connected(builder(url(correct, "ws"), events));
    Recorder rec = new Recorder();
    client.subscribe(channel, rec);
    SubscribeResult initial = rec.awaitSubscribed(1);
    publishSeq(herald, channel, 0, 500);
    rec.awaitPubs(500);
    assertSequence(rec.pubs, initial, 0);
    assertThat(events.count(JavaClientIT.Kind.RECONNECTING)).isZero();

    Report report = doctor(correct, Doctor.Options.defaults());
    assertThat(report.exitCode()).isZero();
    assertThat(report.results()).extracting(ProbeResult::status).containsOnly(Status.OK);
    assertThat(report.result(Doctor.WEBSOCKET).finding())
        .contains("101", "herald.v1.json", "nginx");
    assertThat(report.result(Doctor.SSE).finding()).contains("not buffered");
    // The handshake went through nginx (access log lines are written when a request ends).
    client.close();
    eventually(
        "the WebSocket in nginx's access log",
        () -> nginx.accessLog().contains("\"GET /connection/websocket HTTP/1.1\" 101"),
        nginx::accessLog);
  }

  @Test
  void shippedTlsConfigurationCarriesWebSocketAndTheDoctorExplainsTlsAndRedirects()
      throws Exception {
    String channel = "test:nginx-tls";
    Events events = new Events();
    HeraldClient client =
        connected(
            builder(url(correctTls, "wss"), events)
                .httpClient(HttpClient.newBuilder().sslContext(tls.trusting()).build()));
    Recorder rec = new Recorder();
    client.subscribe(channel, rec);
    SubscribeResult initial = rec.awaitSubscribed(1);
    publishSeq(herald, channel, 0, 200);
    rec.awaitPubs(200);
    assertSequence(rec.pubs, initial, 0);

    Report trusted =
        doctor(
            URI.create("https://127.0.0.1:" + correctTls + "/"),
            Doctor.Options.defaults().withSslContext(tls.trusting()));
    assertThat(trusted.exitCode()).isZero();
    assertThat(trusted.results()).extracting(ProbeResult::status).containsOnly(Status.OK);

    // Java's default trust store does not know the self-signed certificate.
    Report untrusted =
        doctor(URI.create("https://127.0.0.1:" + correctTls + "/"), Doctor.Options.defaults());
    assertThat(untrusted.exitCode()).isEqualTo(2);
    assertThat(untrusted.result(Doctor.INFO).finding()).contains("TLS", "not trusted");
    assertThat(untrusted.result(Doctor.WEBSOCKET).status()).isEqualTo(Status.SKIP);

    // The plain-HTTP server of the shipped file redirects to https.
    Report redirected = doctor(redirect, Doctor.Options.defaults());
    assertThat(redirected.exitCode()).isEqualTo(2);
    assertThat(redirected.result(Doctor.WEBSOCKET).finding())
        .contains("301", "redirect", "https://");
  }

  @Test
  void withoutUpgradeHeadersTheHandshakeFailsAndSseStaysLive() {
    Report report = doctor(noUpgrade, Doctor.Options.defaults());
    assertThat(report.exitCode()).isEqualTo(1);
    ProbeResult ws = report.result(Doctor.WEBSOCKET);
    assertThat(ws.status()).isEqualTo(Status.FAIL);
    assertThat(ws.finding()).contains("upgrade-missing", "Server: nginx");
    assertThat(ws.fixes())
        .anySatisfy(
            f ->
                assertThat(f)
                    .contains(
                        "proxy_http_version 1.1",
                        "proxy_set_header Upgrade $http_upgrade",
                        "proxy_set_header Connection \"upgrade\""));
    assertThat(report.result(Doctor.SSE).status()).isEqualTo(Status.OK);
    assertThat(report.result(Doctor.LONG_POLLING).status()).isEqualTo(Status.OK);
    assertThat(report.verdict()).contains("only through a fallback", "Server-Sent Events");

    // A real client over SSE through this nginx: live, in order, nothing lost.
    String channel = "test:nginx-sse";
    try (HttpTransportClient sse = connectedHttp(noUpgrade, Kind.SSE)) {
      assertThat(sse.openHeaders().firstValue("Server").orElse("")).contains("nginx");
      JsonNode sub = subscribe(sse, channel);
      publishSeq(herald, channel, 0, 300);
      assertJsonSequence(sse.pubs(channel, 300), sub, 0);
    }
  }

  @Test
  void withUpgradeHeadersDroppedAndResponsesBufferedLongPollingStaysLive() {
    Report report = doctor(buffered, Doctor.Options.defaults());
    assertThat(report.exitCode()).isEqualTo(1);
    assertThat(report.result(Doctor.WEBSOCKET).finding()).contains("upgrade-missing");
    ProbeResult sse = report.result(Doctor.SSE);
    assertThat(sse.status()).isEqualTo(Status.FAIL);
    assertThat(sse.finding()).contains("buffer");
    assertThat(sse.fixes()).anySatisfy(f -> assertThat(f).contains("proxy_buffering off"));
    assertThat(report.result(Doctor.LONG_POLLING).status()).isEqualTo(Status.OK);
    assertThat(report.verdict()).contains("only through a fallback", "long-polling");

    String channel = "test:nginx-poll";
    try (HttpTransportClient poll = connectedHttp(buffered, Kind.LONG_POLLING)) {
      JsonNode sub = subscribe(poll, channel);
      publishSeq(herald, channel, 0, 300);
      assertJsonSequence(poll.pubs(channel, 300), sub, 0);
    }
  }

  @Test
  void heartbeatsKeepConnectionsOpenThroughAShorterIdleTimeout() throws Exception {
    String channel = "test:nginx-idle-ok";
    Events events = new Events();
    HeraldClient client = connected(builder(url(idleWithHeartbeats, "ws"), events));
    Recorder rec = new Recorder();
    client.subscribe(channel, rec);
    SubscribeResult initial = rec.awaitSubscribed(1);
    // A second connection through the same nginx serves as the clock: five server pings (1 s
    // apart) span more than twice nginx's 2 s idle timeout.
    try (RawClient clock = RawClient.open(URI.create(url(idleWithHeartbeats, "ws")))) {
      JsonNode reply =
          clock.request("{\"type\":\"connect\",\"token\":\"" + heartbeat1s.token("clock") + "\"}");
      assertThat(reply.has("result")).as("connect reply %s", reply).isTrue();
      long start = System.nanoTime();
      for (int i = 0; i < 5; i++) {
        clock.awaitType("ping");
      }
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThan(4000);
      assertThat(clock.isClosed()).isFalse();
    }
    assertThat(events.count(JavaClientIT.Kind.RECONNECTING)).as("%s", events).isZero();
    publishSeq(heartbeat1s, channel, 0, 100);
    rec.awaitPubs(100);
    assertSequence(rec.pubs, initial, 0);
    assertThat(events.count(JavaClientIT.Kind.RECONNECTING)).as("%s", events).isZero();
  }

  @Test
  void anIdleTimeoutShorterThanTheHeartbeatCutsConnectionsAndTheClientRecoversWithoutLoss()
      throws Exception {
    String channel = "test:nginx-idle-cut";
    Events events = new Events();
    // Reconnect after 500 ms (full jitter, constant random 0.5 of a 1 s ceiling).
    HeraldClient client =
        connected(
            builder(url(idleCut, "ws"), events)
                .backoff(Duration.ofSeconds(1), Duration.ofSeconds(2))
                .random(constant(0.5)));
    Recorder rec = new Recorder();
    client.subscribe(channel, rec);
    SubscribeResult initial = rec.awaitSubscribed(1);
    publishSeq(heartbeat6s, channel, 0, 10);
    rec.awaitPubs(10);
    long lastTraffic = System.nanoTime();

    int mark = events.mark();
    Event cut = events.awaitEvent(mark, JavaClientIT.Kind.RECONNECTING, 1);
    // nginx cut the idle connection after its 2 s, before the server's 6 s ping.
    long idleMs = TimeUnit.NANOSECONDS.toMillis(cut.atNanos - lastTraffic);
    assertThat(idleMs).as("idle before the cut (%s)", cut).isBetween(1500L, 5500L);
    // No close frame: the TCP connection was simply closed.
    assertThat(cut.cause.code()).as("%s", cut).isEqualTo(CloseInfo.ABNORMAL);
    // Published while the client waits to reconnect: recovered, in order, none lost.
    publishSeq(heartbeat6s, channel, 10, 110);
    events.awaitEvent(mark, JavaClientIT.Kind.CONNECTED, 1);
    rec.awaitPubs(110);
    assertSequence(rec.pubs, initial, 0);
    assertThat(rec.lost).isEmpty();
    assertThat(rec.subscribed.size()).isGreaterThanOrEqualTo(2);
    SubscribeResult resumed = rec.subscribed.get(1);
    assertThat(resumed.recovered()).isTrue();
    assertThat(resumed.missed()).isPositive();
    eventually(
        "nginx's idle timeout in its error log",
        () -> nginx.errorLog().contains("upstream timed out"),
        nginx::errorLog);
  }

  @Test
  void blockAllStreamingIsNamedPartByPartAndCutPollsAreNotReportedOk() {
    Report report = doctor(blockAllStreaming, Doctor.Options.defaults());

    ProbeResult sse = report.result(Doctor.SSE);
    assertThat(sse.status()).isEqualTo(Status.FAIL);
    assertThat(sse.finding())
        .contains(
            "without delivering a single event",
            "response buffering",
            "read timeout",
            "proxy_ignore_headers X-Accel-Buffering")
        .doesNotContain("error log");
    assertThat(sse.fixes())
        .anySatisfy(
            f ->
                assertThat(f)
                    .contains(
                        "proxy_buffering off;",
                        "remove X-Accel-Buffering from proxy_ignore_headers"))
        .anySatisfy(f -> assertThat(f).contains("for nginx: proxy_read_timeout"));
    // The first poll is answered at once; a held one is cut by nginx's 504 after 3 s.
    ProbeResult poll = report.result(Doctor.LONG_POLLING);
    assertThat(poll.status()).isEqualTo(Status.WARN);
    assertThat(poll.finding()).contains("504", "Server: nginx", "25.0 s (longpoll.timeout)");
    assertThat(poll.fixes())
        .anySatisfy(f -> assertThat(f).contains("for nginx: proxy_read_timeout"))
        .anySatisfy(f -> assertThat(f).contains("longpoll.timeout="));
    assertThat(report.verdict())
        .contains("only through a fallback", "long-polling", "with the problems above");
    assertThat(report.exitCode()).isEqualTo(1);
  }

  @Test
  void idleHoldsShowAReadTimeoutShorterThanTheHeartbeatOnEveryTransport() {
    Report cut =
        doctor(
            idleCut,
            Doctor.Options.defaults()
                .withIdle(Duration.ofSeconds(5))
                .withToken(heartbeat6s.token("doctor")));
    for (String transport : List.of(Doctor.WEBSOCKET, Doctor.SSE, Doctor.LONG_POLLING)) {
      ProbeResult r = cut.result(transport);
      assertThat(r.status()).as(transport).isEqualTo(Status.WARN);
      assertThat(r.finding()).as(transport).contains("was cut after");
      assertThat(r.fixes())
          .as(transport)
          .anySatisfy(f -> assertThat(f).contains("for nginx: proxy_read_timeout"));
    }
    ProbeResult ws = cut.result(Doctor.WEBSOCKET);
    assertThat(ws.finding()).contains("Herald pings every 6.0 s (heartbeat.interval)");
    assertThat(ws.fixes()).anySatisfy(f -> assertThat(f).contains("heartbeat.interval="));
    assertThat(cut.result(Doctor.LONG_POLLING).finding()).contains("504");

    // The same timeout in front of a Herald that pings every second: nothing is cut.
    Report held =
        doctor(
            idleWithHeartbeats,
            Doctor.Options.defaults()
                .withIdle(Duration.ofSeconds(5))
                .withToken(heartbeat1s.token("doctor")));
    assertThat(held.results()).extracting(ProbeResult::status).containsOnly(Status.OK);
    assertThat(held.result(Doctor.WEBSOCKET).finding()).contains("stayed open", "Herald's pings");
    assertThat(held.result(Doctor.SSE).finding()).contains("stayed open", "Herald's pings");
    assertThat(held.result(Doctor.LONG_POLLING).finding())
        .contains("answered by one of Herald's pings");
  }

  @Test
  void aPollHoldShorterThanTheReadTimeoutIsAnsweredByHerald() {
    Report report = doctor(pollHoldBelowTimeout, Doctor.Options.defaults());

    ProbeResult poll = report.result(Doctor.LONG_POLLING);
    assertThat(poll.status()).isEqualTo(Status.OK);
    assertThat(poll.finding()).contains("came back 204", "(1.0 s, longpoll.timeout)");
  }

  @Test
  void nginxDefaultsRewriteHostAndTheDoctorExplainsTheRefusedOrigin() {
    Report report = doctor(defaults, Doctor.Options.defaults());
    assertThat(report.exitCode()).isEqualTo(2);
    ProbeResult ws = report.result(Doctor.WEBSOCKET);
    assertThat(ws.finding()).contains("origin-not-allowed", "Host");
    assertThat(ws.fixes())
        .anySatisfy(f -> assertThat(f).contains("proxy_set_header Host $http_host"))
        .anySatisfy(f -> assertThat(f).contains("server.allowed-origins"));
    assertThat(report.result(Doctor.SSE).finding()).contains("origin-not-allowed");
  }

  @Test
  void aDownUpstreamIsExplainedAsBadGateway() {
    Report report = doctor(upstreamDown, Doctor.Options.defaults());
    assertThat(report.exitCode()).isEqualTo(2);
    assertThat(report.result(Doctor.INFO).finding()).contains("502", "could not reach Herald");
    assertThat(report.result(Doctor.WEBSOCKET).finding()).contains("502");
  }

  @Test
  void websocketDisabledWithoutAProxyLeavesTheFallbacks() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("websocket.enabled", "false");
    try (TestServer off = TestServer.start(cfg)) {
      Report report = doctor(URI.create(off.baseUrl() + "/"), Doctor.Options.defaults());
      assertThat(report.exitCode()).isEqualTo(1);
      assertThat(report.result(Doctor.INFO).finding()).contains("disabled: WebSocket");
      ProbeResult ws = report.result(Doctor.WEBSOCKET);
      assertThat(ws.finding()).contains("websocket-disabled", "websocket.enabled=false");
      assertThat(report.result(Doctor.SSE).status()).isEqualTo(Status.OK);
      assertThat(report.result(Doctor.LONG_POLLING).status()).isEqualTo(Status.OK);
      assertThat(report.verdict()).contains("turned off in the server's configuration");

      String channel = "test:ws-off";
      try (HttpTransportClient sse = HttpTransportClient.connected(off, Kind.SSE, "alice")) {
        JsonNode sub = subscribe(sse, channel);
        publishSeq(off, channel, 0, 200);
        assertJsonSequence(sse.pubs(channel, 200), sub, 0);
      }
    }
  }

  @Test
  void heraldJsInChromiumFallsBackToSseWhenNginxDropsTheUpgradeHeaders() throws Exception {
    JsonNode result = browser(noUpgrade, "test:nginx-browser-sse", 100, 5000);
    JsonNode live = lastLive(result);
    assertThat(live.path("transport").asText()).as("%s", result).isEqualTo("sse");
    assertThat(live.path("transportReason").asText())
        .as("%s", result)
        .startsWith("fallback: websocket");
    assertBrowserSequence(result, 100);
    // herald.js reported the failed upgrade; the server counts it by transport and symptom.
    eventually(
        "the client's report of the failed upgrade",
        () -> diagnostics().path("counts").path("websocket/handshake-failed").asLong() >= 1,
        () -> diagnostics().toString());
  }

  @Test
  void heraldJsInChromiumFallsBackToLongPollingWhenNginxAlsoBuffers() throws Exception {
    JsonNode result = browser(buffered, "test:nginx-browser-poll", 100, 2000);
    JsonNode live = lastLive(result);
    assertThat(live.path("transport").asText()).as("%s", result).isEqualTo("long-polling");
    assertThat(live.path("transportReason").asText())
        .as("%s", result)
        .startsWith("fallback: websocket")
        .contains("sse");
    assertBrowserSequence(result, 100);
  }

  // ===================================================================================== helpers

  /**
   * herald.js in headless Chromium (playwright-core from clients/js, Debian's chromium or
   * HERALD_CHROMIUM) on a page served from the nginx origin; it imports /herald/herald.js through
   * nginx, connects with the default transports and subscribes to {@code channel}; then {@code n}
   * publications are made over HTTP. Returns what the page saw: states, publications, the subscribe
   * result, console messages.
   */
  private static JsonNode browser(int port, String channel, int n, int openTimeoutMs)
      throws Exception {
    Path js = Path.of("..", "clients", "js").toAbsolutePath().normalize();
    NodeRunner.installIfMissing(js, "playwright-core");
    Path script = nginx.dir().resolve("browser-" + port + ".mjs");
    Files.writeString(script, BROWSER_SCRIPT);
    Map<String, String> env = new java.util.HashMap<>();
    env.put("HERALD_JS_DIR", js.toString());
    env.put("PAGE_ORIGIN", "http://127.0.0.1:" + port);
    env.put("PUBLISH_URL", herald.baseUrl() + "/api/v1/publish");
    env.put("API_KEY", TestServer.API_KEY);
    env.put("TOKEN", herald.token("alice"));
    env.put("CHANNEL", channel);
    env.put("COUNT", String.valueOf(n));
    env.put("OPEN_TIMEOUT_MS", String.valueOf(openTimeoutMs));
    env.put("CHROMIUM", System.getenv().getOrDefault("HERALD_CHROMIUM", "/usr/bin/chromium"));
    NodeRunner.Result r = NodeRunner.run(js, List.of("node", script.toString()), env, 120);
    assertThat(r.exitCode()).as("browser script:%n%s", r.output()).isZero();
    return JSON.readTree(NodeRunner.resultJson(r));
  }

  private static JsonNode lastLive(JsonNode result) {
    JsonNode live = null;
    for (JsonNode s : result.path("states")) {
      if (s.path("state").asText().equals("live")) {
        live = s;
      }
    }
    assertThat(live).as("a live state in %s", result).isNotNull();
    return live;
  }

  private static void assertBrowserSequence(JsonNode result, int n) {
    long offset = result.path("subscribed").path("position").path("offset").asLong(-1);
    assertThat(offset).as("subscribe position in %s", result).isNotNegative();
    JsonNode pubs = result.path("pubs");
    assertThat(pubs.size()).as("publications in %s", result).isEqualTo(n);
    for (int i = 0; i < n; i++) {
      assertThat(pubs.get(i).path("seq").asInt(-1)).as("seq of pub %d", i).isEqualTo(i);
      assertThat(pubs.get(i).path("offset").asLong())
          .as("offset of pub %d", i)
          .isEqualTo(offset + 1 + i);
    }
  }

  private static JsonNode diagnostics() {
    return herald.diagnostics();
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /** Drives Chromium; prints one line "RESULT {json}". Configured by environment variables. */
  private static final String BROWSER_SCRIPT =
      NodeRunner.CHROMIUM_SCRIPT_START
          + """
      const count = Number(env.COUNT);
      const consoleLines = [];
      try {
        const page = await browser.newPage();
        page.on('console', (m) => consoleLines.push(m.type() + ': ' + m.text()));
        page.on('pageerror', (e) => consoleLines.push('pageerror: ' + e.message));
        await page.goto(env.PAGE_ORIGIN + '/health/live');
        await page.evaluate(async ({ token, channel, openTimeout }) => {
          const { Herald } = await import('/herald/herald.js');
          const t = { pubs: [], states: [], subscribed: null };
          window.t = t;
          const herald = new Herald({ token, storage: null, negotiation: { openTimeout } });
          t.herald = herald;
          herald.on('state', (s) => t.states.push({ state: s.state, transport: s.transport,
            transportReason: s.transportReason, reason: s.reason, code: s.code }));
          const sub = herald.subscribe(channel, {
            onPublication: (p) => t.pubs.push({ seq: p.data.seq, offset: p.offset }),
            onSubscribed: (i) => { t.subscribed = i; },
          });
          herald.connect();
          await herald.ready({ timeout: 30000 });
          await sub.ready();
        }, { token: env.TOKEN, channel: env.CHANNEL, openTimeout: Number(env.OPEN_TIMEOUT_MS) });
        for (let i = 0; i < count; i++) {
          const res = await fetch(env.PUBLISH_URL, {
            method: 'POST',
            headers: { Authorization: 'Bearer ' + env.API_KEY, 'Content-Type': 'application/json' },
            body: JSON.stringify({ channel: env.CHANNEL, data: { seq: i } }),
          });
          if (res.status !== 200) throw new Error('publish ' + i + ': ' + res.status);
        }
        try {
          await page.waitForFunction((n) => window.t.pubs.length >= n, count, { timeout: 30000 });
        } finally {
          const t = await page.evaluate(() => ({ pubs: window.t.pubs, states: window.t.states,
            subscribed: window.t.subscribed, stats: window.t.herald.stats() }));
          console.log('RESULT ' + JSON.stringify({ ...t, console: consoleLines }));
        }
      } finally {
        await browser.close();
      }
      """;

  private static String url(int port, String scheme) {
    return scheme + "://127.0.0.1:" + port + "/connection/websocket";
  }

  private static Report doctor(int port, Doctor.Options options) {
    return doctor(URI.create("http://127.0.0.1:" + port + "/"), options);
  }

  /** Runs the doctor in-process; its output goes to the test report. */
  private static Report doctor(URI uri, Doctor.Options options) {
    Report report = Doctor.examine(uri, options);
    System.out.println(report.render());
    return report;
  }

  private HeraldClient.Builder builder(String wsUrl, Events events) {
    return HeraldClient.builder(URI.create(wsUrl))
        .tokenSupplier(() -> herald.token("alice"))
        .backoff(Duration.ofMillis(100), Duration.ofSeconds(1))
        .connectTimeout(Duration.ofSeconds(5))
        .listener(events);
  }

  private HeraldClient connected(HeraldClient.Builder builder) throws Exception {
    HeraldClient client = builder.build();
    clients.add(client);
    client.connect().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    return client;
  }

  private static HttpTransportClient connectedHttp(int port, Kind kind) {
    HttpTransportClient c = HttpTransportClient.open("http://127.0.0.1:" + port, kind, Map.of());
    JsonNode reply =
        c.request("{\"type\":\"connect\",\"token\":\"" + herald.token("alice") + "\"}");
    assertThat(reply.has("result")).as("connect reply %s", reply).isTrue();
    return c;
  }

  private static JsonNode subscribe(HttpTransportClient c, String channel) {
    JsonNode reply = c.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
    assertThat(reply.has("result")).as("subscribe reply %s", reply).isTrue();
    return reply.get("result");
  }

  private static void publishSeq(TestServer s, String channel, int from, int to) {
    s.publishSeq(channel, from, to);
  }

  /** Consecutive offsets after the subscribe result, in the epoch, carrying seq 0, 1, 2, ... */
  private static void assertSequence(List<Pub> pubs, SubscribeResult from, int firstSeq) {
    List<Pub> snapshot = List.copyOf(pubs);
    int n = snapshot.size();
    assertThat(snapshot).extracting(Pub::epoch).containsOnly(from.epoch());
    assertThat(snapshot)
        .extracting(Pub::offset)
        .containsExactlyElementsOf(
            LongStream.range(from.offset() + 1, from.offset() + 1 + n)
                .boxed()
                .collect(Collectors.toList()));
    assertThat(snapshot)
        .extracting(p -> seq(p.data().json()))
        .containsExactlyElementsOf(
            IntStream.range(firstSeq, firstSeq + n).boxed().collect(Collectors.toList()));
  }

  private static void assertJsonSequence(List<JsonNode> pubs, JsonNode subscribed, int firstSeq) {
    String epoch = subscribed.path("epoch").asText();
    long offset = subscribed.path("offset").asLong();
    for (int i = 0; i < pubs.size(); i++) {
      JsonNode p = pubs.get(i);
      assertThat(p.path("epoch").asText()).as("epoch of pub %d", i).isEqualTo(epoch);
      assertThat(p.path("offset").asLong()).as("offset of pub %d", i).isEqualTo(offset + 1 + i);
      assertThat(p.path("data").path("seq").asInt(-1))
          .as("seq of pub %d", i)
          .isEqualTo(firstSeq + i);
    }
  }

  private static int seq(String json) {
    try {
      return JSON.readTree(json).path("seq").asInt(-1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String replaceOnce(String text, String target, String replacement) {
    int first = text.indexOf(target);
    assertThat(first).as("'%s' in deploy/nginx/herald.conf", target).isNotNegative();
    assertThat(text.indexOf(target, first + 1))
        .as("'%s' once in deploy/nginx/herald.conf", target)
        .isNegative();
    return text.replace(target, replacement);
  }

  private static void eventually(
      String what,
      java.util.function.BooleanSupplier condition,
      java.util.function.Supplier<?> state) {
    try {
      org.awaitility.Awaitility.await(what)
          .atMost(TIMEOUT)
          .pollInterval(Duration.ofMillis(20))
          .until(condition::getAsBoolean);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("timed out waiting for " + what + "; state: " + state.get(), e);
    }
  }

  private static RandomGenerator constant(double u) {
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        return (long) (u * Long.MAX_VALUE);
      }

      @Override
      public double nextDouble() {
        return u;
      }
    };
  }
}
