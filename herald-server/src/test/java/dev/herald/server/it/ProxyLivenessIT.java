package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * herald.js in headless Chromium behind the proxies that make a live indicator lie, with default
 * client and server settings:
 *
 * <ul>
 *   <li>a real nginx whose idle timeout ({@code proxy_read_timeout 3s}) is shorter than the
 *       heartbeat, and a real HAProxy with {@code timeout tunnel 3s}: the client learns the cut,
 *       asks for shorter heartbeats and stays on WebSocket;
 *   <li>a real nginx whose read timeout (3 s) is shorter than the long-poll hold (25 s): idle polls
 *       end with 504, the client shortens the hold and stays live, with no state change at all;
 *   <li>a silent stall (a {@link TcpProxy} that forwards nothing, no FIN, no RST): the page leaves
 *       "live" within 10 s of the last message and, once the network is back, recovers everything
 *       published meanwhile.
 * </ul>
 *
 * <p>The browser runs a script (below) that reports its progress through marker files, so the test
 * can act (stall the network, publish) at the right moment without sleeping.
 */
class ProxyLivenessIT {
  private static final Path JS = Path.of("..", "clients", "js").toAbsolutePath().normalize();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private static TestServer herald;
  private static Nginx nginx;
  private static int idleWebSocket;
  private static int idlePoll;
  private static int hostRewritten;

  @BeforeAll
  static void startServerAndNginx() throws IOException, InterruptedException {
    NodeRunner.installIfMissing(JS, "playwright-core");
    herald = TestServer.start();
    idleWebSocket = Nginx.freePort();
    idlePoll = Nginx.freePort();
    hostRewritten = Nginx.freePort();
    String http =
        """
        map $http_upgrade $connection_upgrade { default upgrade; '' close; }

        # WebSocket passes; idle connections are cut after 3 s (shorter than any heartbeat default)
        server {
          listen 127.0.0.1:%d;
          location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_read_timeout 3s;
            proxy_send_timeout 3s;
          }
        }

        # plain HTTP only (nginx's HTTP/1.0 upstream drops Upgrade); reads time out after 3 s,
        # shorter than the server's 25 s long-poll hold
        server {
          listen 127.0.0.1:%d;
          location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_set_header Host $http_host;
            proxy_read_timeout 3s;
          }
        }

        # nginx's defaults: Host rewritten to the upstream's address, so browsers' Origin is refused
        server {
          listen 127.0.0.1:%d;
          location / { proxy_pass http://127.0.0.1:%d; }
        }
        """
            .formatted(
                idleWebSocket,
                herald.port(),
                idlePoll,
                herald.port(),
                hostRewritten,
                herald.port());
    nginx = Nginx.start(Nginx.newDirectory(), http, idleWebSocket, idlePoll, hostRewritten);
  }

  @AfterAll
  static void stopNginxAndServer() {
    if (nginx != null) {
      nginx.close();
    }
    if (herald != null) {
      herald.close();
    }
  }

  @Test
  void anIdleTimeoutShorterThanTheHeartbeatKeepsThePageOnWebSocket() throws Exception {
    assertStaysOnWebSocketThroughIdleCuts(idleWebSocket, "test:idle-ws");
    assertThat(herald.diagnostics().path("counts").path("websocket/short-lived").asLong())
        .as("no short-lived report against WebSocket")
        .isZero();
  }

  @Test
  void haproxyTunnelTimeoutShorterThanTheHeartbeatKeepsThePageOnWebSocket() throws Exception {
    int port = Nginx.freePort();
    try (HAProxy haproxy =
        HAProxy.start(
            """
            defaults
              mode http
              timeout connect 5s
              timeout client 30s
              timeout server 30s
              timeout tunnel 3s
            frontend herald
              bind 127.0.0.1:%d
              default_backend herald
            backend herald
              server herald 127.0.0.1:%d
            """
                .formatted(port, herald.port()),
            port)) {
      assertStaysOnWebSocketThroughIdleCuts(port, "test:idle-haproxy");
    }
  }

  /**
   * herald.js behind a proxy that cuts connections idle for 3 s: after two cuts it asks for
   * heartbeats below that, and stays on WebSocket, live, with no further reconnects.
   */
  private static void assertStaysOnWebSocketThroughIdleCuts(int port, String channel)
      throws Exception {
    Scenario s =
        new Scenario(port, channel)
            // Live again after the client learned the cut, then idle for three times the cut.
            .waitFor(
                "(() => { const s = window.t.herald.stats(); return s.state === 'live'"
                    + " && s.negotiation.learnedPing !== null && Date.now() - s.liveSince > 9000; })()");
    JsonNode result = s.run(s::go);
    JsonNode states = result.path("states");
    for (JsonNode st : states) {
      assertThat(st.path("transport").asText("websocket"))
          .as("never off WebSocket: %s", states)
          .isEqualTo("websocket");
    }
    JsonNode stats = result.path("stats");
    assertThat(stats.path("idleCuts").asInt()).as("%s", stats).isGreaterThanOrEqualTo(2);
    assertThat(stats.path("negotiation").path("learnedPing").asLong())
        .as("half of the proxy's 3 s idle timeout, or less")
        .isBetween(1000L, 1600L);
    // Once it asked for shorter heartbeats: one reconnect, then live for good.
    int learned = -1;
    for (int i = 0; i < states.size(); i++) {
      if (states.get(i).path("reason").asText().contains("asking for heartbeats every")) {
        learned = i;
      }
    }
    assertThat(learned)
        .as("the state that announced the learned interval in %s", states)
        .isNotNegative();
    assertThat(states.size() - learned)
        .as("reconnecting, connecting, live and nothing after: %s", states)
        .isEqualTo(3);
    assertThat(states.get(states.size() - 1).path("state").asText()).isEqualTo("live");
    assertSequence(result, 0, 50);
  }

  @Test
  void aReadTimeoutShorterThanThePollHoldKeepsLongPollingLiveWithoutABanner() throws Exception {
    String channel = "test:idle-poll";
    Scenario s =
        new Scenario(idlePoll, channel)
            .options("{ transports: ['long-polling'] }")
            .waitFor(
                "(() => { const s = window.t.herald.stats(); return s.state === 'live'"
                    + " && Date.now() - s.liveSince > 10000; })()");
    JsonNode result = s.run(s::go);
    List<String> names = new ArrayList<>();
    result.path("states").forEach(st -> names.add(st.path("state").asText()));
    assertThat(names).as("%s", result.path("states")).containsExactly("connecting", "live");
    assertSequence(result, 0, 50);
    assertThat(nginx.accessLog())
        .as("nginx gave up on at least one idle poll (504), and the client carried on")
        .containsPattern("GET /connection/poll/[^ ]+\\?ack=\\d+ HTTP/1\\.1\" 504")
        .containsPattern("GET /connection/poll/[^ ]+\\?ack=\\d+&hold=\\d+ HTTP/1\\.1\" 20[04]");
  }

  @Test
  void aSilentStallLeavesLiveWithinTenSecondsAndLosesNothing() throws Exception {
    String channel = "test:stall";
    try (TcpProxy proxy = TcpProxy.to(herald.port())) {
      Scenario s =
          new Scenario(proxy.port(), channel)
              .firstSeq(20)
              .waitFor("window.t.states.at(-1).state !== 'live'");
      JsonNode result =
          s.run(
              () -> {
                s.awaitMark("live");
                proxy.freeze(); // packets dropped: no FIN, no RST, nothing
                herald.publishSeq(channel, 0, 20); // held back from the page while stalled
                s.awaitMark("waited");
                proxy.unfreeze();
                s.go();
              });
      JsonNode states = result.path("states");
      JsonNode left = null;
      for (JsonNode st : states) {
        if (left == null && st.path("previous").asText().equals("live")) {
          left = st;
        }
      }
      assertThat(left).as("left live in %s", states).isNotNull();
      Matcher m =
          Pattern.compile(
                  "no message from the server for (\\d+) ms \\(a heartbeat every (\\d+) ms was due,"
                      + " plus (\\d+) ms of grace\\)")
              .matcher(left.path("reason").asText());
      assertThat(m.find()).as("%s", left).isTrue();
      long limit = Long.parseLong(m.group(2)) + Long.parseLong(m.group(3));
      assertThat(limit).as("default heartbeat + grace").isLessThanOrEqualTo(10_000);
      System.out.println("left live after " + m.group(1) + " ms of silence (limit " + limit + ")");
      assertSequence(result, 0, 20 + 30);
    }
  }

  @Test
  void anOriginRefusalStopsWithoutRetriesAndSaysTheSiteIsMisconfigured() throws Exception {
    Scenario s =
        new Scenario(hostRewritten, "test:origin")
            .expectOffline()
            // Offline, and still offline (no retry) 5 s later.
            .waitFor(
                "(() => { const s = window.t.states.at(-1); return s.state === 'offline'"
                    + " && Date.now() - s.at > 5000; })()");
    JsonNode result = s.run(s::go);
    JsonNode states = result.path("states");
    JsonNode last = states.get(states.size() - 1);
    assertThat(last.path("state").asText()).as("%s", states).isEqualTo("offline");
    assertThat(last.path("error").asText()).isEqualTo("origin_refused");
    assertThat(last.path("reason").asText()).contains("origin-not-allowed", "misconfigured");
    // Browsers send Origin on the WebSocket handshake and on POSTs but not on same-origin GETs, so
    // the client may try a fallback whose stream opens before its first POST is refused: that is
    // all. It never reconnects, never claims to be live, and stays offline.
    List<String> names = new ArrayList<>();
    states.forEach(st -> names.add(st.path("state").asText()));
    assertThat(names).as("%s", states).doesNotContain("reconnecting", "live");
    assertThat(names.indexOf("offline")).as("%s", states).isEqualTo(names.size() - 1);
  }

  @Test
  void aPollMayAskForAShorterHoldWithinBounds() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String origin = herald.baseUrl();
    HttpResponse<String> opened =
        http.send(
            HttpRequest.newBuilder(URI.create(origin + "/connection/poll"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(opened.statusCode()).isEqualTo(200);
    String session = JSON.readTree(opened.body()).path("session").asText();
    String poll = origin + "/connection/poll/" + session + "?ack=0";
    for (String bad : List.of("0", "-1", "soon")) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(poll + "&hold=" + bad)).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("hold=%s", bad).isEqualTo(400);
      assertThat(r.headers().firstValue("X-Herald-Error")).hasValue("bad-hold");
    }
    // Far below the 25 s default hold (and the 10 s connect timeout of the session): an empty
    // poll is answered 204 once its hold ends.
    HttpResponse<String> held =
        http.send(
            HttpRequest.newBuilder(URI.create(poll + "&hold=1500"))
                .timeout(Duration.ofSeconds(8))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(held.statusCode()).isEqualTo(204);
  }

  // ===================================================================================== helpers

  /** Every publication seq first..first+n-1 arrived once, in order, at consecutive offsets. */
  private static void assertSequence(JsonNode result, int first, int n) {
    JsonNode pubs = result.path("pubs");
    assertThat(pubs.size()).as("publications in %s", result).isEqualTo(n);
    long offset = pubs.get(0).path("offset").asLong();
    for (int i = 0; i < n; i++) {
      assertThat(pubs.get(i).path("seq").asInt(-1)).as("seq of pub %d", i).isEqualTo(first + i);
      assertThat(pubs.get(i).path("offset").asLong())
          .as("offset of pub %d", i)
          .isEqualTo(offset + i);
    }
  }

  /** Something the test does while the browser script runs. */
  @FunctionalInterface
  interface Steps {
    void run() throws Exception;
  }

  /** One run of the browser script against a page origin, and its marker files. */
  private static final class Scenario {
    private final int port;
    private final String channel;
    private final Path marks;
    private String options = "{}";
    private String waitFor = "true";
    private int firstSeq;
    private boolean expectOffline;

    Scenario(int port, String channel) throws IOException {
      this.port = port;
      this.channel = channel;
      this.marks = Files.createTempDirectory("herald-liveness-");
    }

    Scenario options(String jsObject) {
      this.options = jsObject;
      return this;
    }

    Scenario waitFor(String jsExpression) {
      this.waitFor = jsExpression;
      return this;
    }

    /** Publications before this seq are the test's own (made while the page could not see them). */
    Scenario firstSeq(int seq) {
      this.firstSeq = seq;
      return this;
    }

    /** The page is not expected to go live: no subscription is awaited, nothing is published. */
    Scenario expectOffline() {
      this.expectOffline = true;
      return this;
    }

    void awaitMark(String name) {
      Awaitility.await("the page's '" + name + "' mark")
          .atMost(TIMEOUT)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> Files.exists(marks.resolve(name)));
    }

    /** Lets the script go on: it publishes 30 more and waits for every publication. */
    void go() throws IOException {
      Files.writeString(marks.resolve("go"), "go");
    }

    JsonNode run(Steps steps) throws Exception {
      Path script = marks.resolve("liveness.mjs");
      Files.writeString(script, SCRIPT);
      Map<String, String> env = new HashMap<>();
      env.put("HERALD_JS_DIR", JS.toString());
      env.put("MARK_DIR", marks.toString());
      env.put("PAGE_ORIGIN", "http://127.0.0.1:" + port);
      env.put("PUBLISH_URL", herald.baseUrl() + "/api/v1/publish");
      env.put("API_KEY", TestServer.API_KEY);
      env.put("TOKEN", herald.token("alice"));
      env.put("CHANNEL", channel);
      env.put("OPTIONS", options);
      env.put("WAIT_FOR", waitFor);
      env.put("FIRST_SEQ", String.valueOf(firstSeq));
      env.put("COUNT", String.valueOf(expectOffline ? 0 : firstSeq > 0 ? 30 : 50));
      env.put("EXPECT_OFFLINE", String.valueOf(expectOffline));
      env.put("CHROMIUM", System.getenv().getOrDefault("HERALD_CHROMIUM", "/usr/bin/chromium"));
      CompletableFuture<NodeRunner.Result> browser =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return NodeRunner.run(JS, List.of("node", script.toString()), env, 180);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  throw new IllegalStateException(e);
                }
              });
      try {
        steps.run();
      } finally {
        if (!Files.exists(marks.resolve("go"))) {
          go(); // never leave the script waiting
        }
      }
      NodeRunner.Result r = browser.get(200, TimeUnit.SECONDS);
      assertThat(r.exitCode()).as("browser script:%n%s", r.output()).isZero();
      String line =
          r.output()
              .lines()
              .filter(l -> l.startsWith("RESULT "))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no RESULT line:\n" + r.output()));
      return JSON.readTree(line.substring("RESULT ".length()));
    }
  }

  /**
   * Opens the page origin in Chromium, imports /herald/herald.js from it, connects (default
   * settings plus OPTIONS) and subscribes to CHANNEL; marks "live"; waits until WAIT_FOR holds in
   * the page; marks "waited"; waits for the "go" mark; publishes COUNT publications (seq FIRST_SEQ
   * on) and waits until the page has FIRST_SEQ + COUNT. Prints "RESULT {json}".
   */
  private static final String SCRIPT =
      NodeRunner.CHROMIUM_SCRIPT_START
          + """
      const consoleLines = [];
      import { existsSync, writeFileSync } from 'node:fs';
      const mark = (name) => writeFileSync(env.MARK_DIR + '/' + name, String(Date.now()));
      const first = Number(env.FIRST_SEQ);
      const count = Number(env.COUNT);
      let page;
      const report = async () => {
        const t = await page.evaluate(() => ({ pubs: window.t.pubs, states: window.t.states,
          stats: window.t.herald.stats() }));
        console.log('RESULT ' + JSON.stringify({ ...t, console: consoleLines }));
      };
      try {
        page = await browser.newPage();
        page.on('console', (m) => consoleLines.push(m.type() + ': ' + m.text()));
        page.on('pageerror', (e) => consoleLines.push('pageerror: ' + e.message));
        await page.goto(env.PAGE_ORIGIN + '/health/live');
        await page.evaluate(async ({ token, channel, options, expectOffline }) => {
          const { Herald } = await import('/herald/herald.js');
          const t = { pubs: [], states: [] };
          window.t = t;
          const herald = new Herald({ token, storage: null, ...(new Function('return ' + options))() });
          t.herald = herald;
          herald.on('state', (s) => t.states.push({ state: s.state, previous: s.previous,
            transport: s.transport, reason: s.reason, code: s.code, error: s.error?.code ?? null,
            at: Date.now() }));
          const sub = herald.subscribe(channel, {
            onPublication: (p) => t.pubs.push({ seq: p.data.seq, offset: p.offset }),
          });
          herald.connect();
          if (expectOffline) return;
          await herald.ready({ timeout: 30000 });
          await sub.ready();
        }, { token: env.TOKEN, channel: env.CHANNEL, options: env.OPTIONS,
          expectOffline: env.EXPECT_OFFLINE === 'true' });
        mark('live');
        await page.waitForFunction(env.WAIT_FOR, null, { timeout: 90000, polling: 100 });
        mark('waited');
        const deadline = Date.now() + 90000;
        while (!existsSync(env.MARK_DIR + '/go')) {
          if (Date.now() > deadline) throw new Error('no go mark');
          await new Promise((r) => setTimeout(r, 50));
        }
        for (let i = first; i < first + count; i++) {
          const res = await fetch(env.PUBLISH_URL, {
            method: 'POST',
            headers: { Authorization: 'Bearer ' + env.API_KEY, 'Content-Type': 'application/json' },
            body: JSON.stringify({ channel: env.CHANNEL, data: { seq: i } }),
          });
          if (res.status !== 200) throw new Error('publish ' + i + ': ' + res.status);
        }
        try {
          await page.waitForFunction((n) => window.t.pubs.length >= n, first + count, { timeout: 60000 });
        } finally {
          await report();
        }
      } finally {
        await browser.close();
      }
      """;
}
