package dev.herald.server.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.server.doctor.ProbeResult.Status;
import dev.herald.server.it.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The doctor against scripted servers that behave like broken proxies (each answer written byte by
 * byte as such a proxy would), and against a real Herald. The real nginx configurations are in
 * {@code NginxIT}.
 */
class DoctorTest {
  /** Short waits: the scripted servers answer at once or never. */
  private static final Doctor.Options FAST =
      Doctor.Options.defaults()
          .withStreamTimeout(Duration.ofMillis(700))
          .withResponseTimeout(Duration.ofSeconds(3))
          .withIdle(Duration.ZERO);

  private static final String HERALD_INFO =
      "{\"protocol\":1,\"node\":\"herald-1\",\"websocket\":{\"enabled\":true,\"path\":"
          + "\"/connection/websocket\"},\"sse\":{\"enabled\":true,\"path\":\"/connection/sse\"},"
          + "\"longPolling\":{\"enabled\":true,\"path\":\"/connection/poll\",\"timeoutMs\":25000}}";

  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable r : resources) {
      r.close();
    }
  }

  // ================================================================================ upgrades

  @Test
  void aProxyAnsweringTheUpgradeWith200HtmlIsToldToForwardTheUpgradeHeaders() {
    Fake fake =
        fake(
            (req, out) -> {
              if (req.path.endsWith("/info")) {
                return respond(out, 200, "application/json", HERALD_INFO, "Server: nginx/1.25.3");
              }
              return respond(
                  out, 200, "text/html", "<html><body>App</body></html>", "Server: nginx/1.25.3");
            });
    Report r = examine(fake.url());
    ProbeResult ws = r.result(Doctor.WEBSOCKET);
    assertThat(ws.status()).isEqualTo(Status.FAIL);
    assertThat(ws.finding())
        .contains(
            "answered 200 text/html with 'Server: nginx/1.25.3'",
            "a proxy is not forwarding the Upgrade and Connection headers");
    assertThat(ws.fixes())
        .singleElement()
        .asString()
        .contains(
            "proxy_http_version 1.1;",
            "proxy_set_header Upgrade $http_upgrade;",
            "proxy_set_header Connection \"upgrade\";");
    // The same page for the stream and the polls: not Herald.
    assertThat(r.result(Doctor.SSE).finding()).contains("text/html", "not Herald");
    assertThat(r.result(Doctor.LONG_POLLING).finding()).contains("not Herald");
    assertThat(r.exitCode()).isEqualTo(2);
    // The raw handshake the doctor wrote.
    Request upgrade = fake.request("/connection/websocket");
    assertThat(upgrade.header("upgrade")).isEqualTo("websocket");
    assertThat(upgrade.header("connection")).isEqualTo("Upgrade");
    assertThat(upgrade.header("sec-websocket-version")).isEqualTo("13");
    assertThat(upgrade.header("sec-websocket-protocol")).isEqualTo("herald.v1.json");
    assertThat(upgrade.header("origin")).isEqualTo("http://127.0.0.1:" + fake.port());
  }

  @Test
  void adviceFollowsTheProxyThatAnswered() {
    Fake apache =
        fake(
            (req, out) ->
                req.path.endsWith("/websocket")
                    ? respond(out, 200, "text/html", "<p>hi</p>", "Server: Apache/2.4.57 (Debian)")
                    : respond(out, 200, "application/json", HERALD_INFO));
    assertThat(examine(apache.url()).result(Doctor.WEBSOCKET).fixes())
        .singleElement()
        .asString()
        .contains("upgrade=websocket");
    Fake unnamed =
        fake(
            (req, out) ->
                req.path.endsWith("/websocket")
                    ? respond(
                        out,
                        400,
                        "text/plain",
                        "needs an upgrade",
                        "X-Herald-Error: upgrade-missing")
                    : respond(out, 200, "application/json", HERALD_INFO));
    ProbeResult ws = examine(unnamed.url()).result(Doctor.WEBSOCKET);
    assertThat(ws.finding())
        .contains("reached Herald without its Upgrade and Connection headers", "upgrade-missing")
        .contains("a proxy that does not name itself");
    assertThat(ws.fixes()).singleElement().asString().contains("hop-by-hop");
  }

  @Test
  void anUpgradeWhoseFramesDoNotComeBackIsCaught() {
    Fake fake =
        fake(
            (req, out) -> {
              if (req.path.endsWith("/websocket")) {
                out.write(switching(req, true, true));
                out.flush();
                return false; // hold the connection, pass nothing
              }
              return respond(out, 200, "application/json", HERALD_INFO);
            });
    ProbeResult ws = examine(fake.url()).result(Doctor.WEBSOCKET);
    assertThat(ws.status()).isEqualTo(Status.FAIL);
    assertThat(ws.finding()).contains("101", "ping did not come back within 0.7 s");
  }

  @Test
  void aFaked101IsCaughtByItsAcceptKeyAndItsSubprotocol() {
    Fake wrongKey =
        fake(
            (req, out) -> {
              if (req.path.endsWith("/websocket")) {
                out.write(switching(req, false, true));
                out.flush();
                return false;
              }
              return respond(out, 200, "application/json", HERALD_INFO);
            });
    assertThat(examine(wrongKey.url()).result(Doctor.WEBSOCKET).finding())
        .contains("wrong Sec-WebSocket-Accept");
    Fake noProtocol =
        fake(
            (req, out) -> {
              if (req.path.endsWith("/websocket")) {
                out.write(switching(req, true, false));
                out.flush();
                return false;
              }
              return respond(out, 200, "application/json", HERALD_INFO);
            });
    assertThat(examine(noProtocol.url()).result(Doctor.WEBSOCKET).finding())
        .contains("without selecting the subprotocol herald.v1.json");
  }

  // ================================================================================ SSE

  @Test
  void aStreamWhoseFirstEventIsHeldBackIsBuffered() {
    Fake fake =
        fake(
            (req, out) -> {
              if (req.path.endsWith("/sse")) {
                out.write(
                    ("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/event-stream\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return false; // headers, then nothing: the proxy holds the body
              }
              return respond(out, 404, "text/plain", "nope", "Server: nginx");
            });
    ProbeResult sse = examine(fake.url()).result(Doctor.SSE);
    assertThat(sse.status()).isEqualTo(Status.FAIL);
    assertThat(sse.finding())
        .contains("first event", "did not arrive within 0.7 s", "buffers the response");
    assertThat(sse.fixes())
        .singleElement()
        .asString()
        .contains("proxy_buffering off", "X-Accel-Buffering");
  }

  @Test
  void aStreamThatPassesOnlyItsPaddedFirstEventIsBufferedToo() {
    Fake fake =
        fake(
            (req, out) -> {
              if (req.path.endsWith("/sse")) {
                out.write(
                    ("HTTP/1.1 200 OK\r\nServer: HAProxy\r\nContent-Type: text/event-stream\r\n\r\n"
                            + ":"
                            + " ".repeat(2048)
                            + "\nevent: session\ndata: {\"session\":\"herald-1.abc\"}\n\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return false;
              }
              if (req.path.startsWith("/connection/send/herald-1.abc")) {
                return respond(out, 204, null, "");
              }
              return respond(out, 404, "text/plain", "nope");
            });
    ProbeResult sse = examine(fake.url()).result(Doctor.SSE);
    assertThat(sse.status()).isEqualTo(Status.FAIL);
    assertThat(sse.finding()).contains("small event after it", "thanks to its 2 KiB of padding");
    assertThat(sse.fixes()).singleElement().asString().contains("option http-no-delay");
    assertThat(
            new String(fake.request("/connection/send/herald-1.abc").body, StandardCharsets.UTF_8))
        .isEqualTo("{\"type\":\"ping\"}");
  }

  @Test
  void commandsThatReachAnotherNodeCallForStickySessions() {
    Fake fake =
        fake(
            (req, out) -> {
              if (req.path.endsWith("/poll")) {
                return respond(
                    out,
                    200,
                    "application/json",
                    "{\"session\":\"herald-2.xyz\",\"transport\":\"long-polling\"}");
              }
              return respond(
                  out,
                  404,
                  "text/plain",
                  "No such session on this server",
                  "X-Herald-Error: session-unknown");
            });
    ProbeResult poll = examine(fake.url()).result(Doctor.LONG_POLLING);
    assertThat(poll.finding()).contains("session-unknown", "another Herald node");
    assertThat(poll.fixes()).singleElement().asString().contains("sticky sessions");
  }

  @Test
  void thePerAddressConnectionLimitIsExplainedWithTheProxyInMind() {
    Fake fake =
        fake(
            (req, out) ->
                respond(
                    out,
                    429,
                    "text/plain",
                    "Too many connections from this address",
                    "X-Herald-Error: too-many-connections",
                    "Retry-After: 30"));
    ProbeResult poll = examine(fake.url()).result(Doctor.LONG_POLLING);
    assertThat(poll.finding()).contains("429 too-many-connections", "proxy's address");
    assertThat(poll.fixes()).singleElement().asString().contains("limits.connections-per-address");
  }

  // ================================================================================ reachability

  @Test
  void nothingListeningIsExplainedOnceAndTheOtherProbesAreSkipped() {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    Report r = examine(URI.create("http://127.0.0.1:" + port + "/"));
    assertThat(r.result(Doctor.INFO).finding())
        .contains("Connection refused at 127.0.0.1:" + port, "nothing listens there");
    assertThat(r.results().subList(1, 4)).extracting(ProbeResult::status).containsOnly(Status.SKIP);
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.verdict()).contains("No transport works");
  }

  @Test
  void httpsToAPlainPortAndHttpToATlsPortAreExplained() {
    Fake plain = fake((req, out) -> respond(out, 200, "application/json", HERALD_INFO));
    Report tlsToPlain = examine(URI.create("https://127.0.0.1:" + plain.port() + "/"));
    assertThat(tlsToPlain.result(Doctor.INFO).finding()).contains("does not speak TLS");
    assertThat(tlsToPlain.result(Doctor.INFO).fixes())
        .singleElement()
        .asString()
        .contains("use http://");
    assertThat(tlsToPlain.exitCode()).isEqualTo(2);

    Fake tlsPort =
        fake(
            (req, out) ->
                respond(
                    out,
                    400,
                    "text/html",
                    "<html><head><title>400 The plain HTTP request was sent to HTTPS port</title>"
                        + "</head></html>",
                    "Server: nginx"));
    ProbeResult info = examine(tlsPort.url()).result(Doctor.INFO);
    assertThat(info.finding()).contains("expects TLS");
    assertThat(info.fixes()).singleElement().asString().contains("https://");
  }

  @Test
  void proxyAnswersAreExplainedByStatus() {
    assertThat(findingFor(504, "Gateway Time-out", "Server: nginx"))
        .contains("gave up waiting for Herald");
    assertThat(findingFor(401, "Unauthorized", "WWW-Authenticate: Basic"))
        .contains("authentication wall");
    assertThat(findingFor(403, "Forbidden", "Server: cloudflare")).contains("WAF");
    assertThat(findingFor(404, "Not Found", "Server: nginx"))
        .contains("/connection/ does not lead to Herald");
    assertThat(findingFor(429, "Too Many Requests", "Server: nginx")).contains("rate limit");
    assertThat(findingFor(503, "Service Unavailable", "Server: envoy"))
        .contains("no healthy Herald");
  }

  @Test
  void anInfoPageThatIsNotHeraldsIsRecognised() {
    Fake spa = fake((req, out) -> respond(out, 200, "text/html", "<html>app</html>"));
    ProbeResult info = examine(spa.url()).result(Doctor.INFO);
    assertThat(info.status()).isEqualTo(Status.FAIL);
    assertThat(info.finding()).contains("got 200 text/html", "does not lead to Herald");
  }

  @Test
  void aRefusedForeignOriginNeedsTheAllowList() {
    Fake fake =
        fake(
            (req, out) ->
                respond(
                    out,
                    403,
                    "text/plain",
                    "Origin not allowed",
                    "X-Herald-Error: origin-not-allowed"));
    Report r = Doctor.examine(fake.url(), FAST.withOrigin("https://cms.example.com"));
    ProbeResult ws = r.result(Doctor.WEBSOCKET);
    assertThat(ws.finding()).contains("'https://cms.example.com'", "not in server.allowed-origins");
    assertThat(ws.fixes())
        .singleElement()
        .asString()
        .contains("server.allowed-origins=https://cms.example.com");
    assertThat(fake.request("/connection/websocket").header("origin"))
        .isEqualTo("https://cms.example.com");
    // Printed once, then referred to.
    assertThat(r.render()).containsOnlyOnce("server.allowed-origins=https://cms.example.com");
    assertThat(r.render()).contains("fix: as above");
  }

  @Test
  void aPathPrefixIsKept() {
    Fake fake = fake((req, out) -> respond(out, 404, "text/plain", "nope"));
    examine(URI.create("http://127.0.0.1:" + fake.port() + "/realtime/"));
    assertThat(fake.requests).extracting(r -> r.path).contains("/realtime/connection/info");
    assertThat(fake.requests).extracting(r -> r.path).contains("/realtime/connection/websocket");
  }

  @Test
  void urlsThatCannotBeExaminedAreRefused() {
    assertThatThrownBy(() -> Doctor.examine(URI.create("ftp://example.com/")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("https://");
    assertThatThrownBy(() -> Doctor.examine(URI.create("/relative")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Doctor.examine(URI.create("https://user:pw@example.com/")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("credentials");
  }

  // ================================================================================ real Herald

  @Test
  void aHealthyHeraldPassesEveryProbe() {
    try (TestServer herald = TestServer.start()) {
      Report r = Doctor.examine(URI.create(herald.baseUrl()), Doctor.Options.defaults());
      assertThat(r.results())
          .extracting(ProbeResult::probe)
          .containsExactly(Doctor.INFO, Doctor.WEBSOCKET, Doctor.SSE, Doctor.LONG_POLLING);
      assertThat(r.results()).extracting(ProbeResult::status).containsOnly(Status.OK);
      assertThat(r.exitCode()).isZero();
      String out = r.render();
      assertThat(out.lines())
          .hasSize(6)
          .first()
          .isEqualTo("Herald doctor: " + herald.baseUrl() + "/");
      assertThat(out.lines().skip(1).limit(4)).allMatch(l -> l.startsWith("OK    "));
      assertThat(out).contains("Verdict: WebSocket works").endsWith("(exit code 0)\n");
    }
  }

  @Test
  void aModuleServedWithoutCorsHeadersIsCaughtForAForeignOrigin() {
    Fake fake =
        fake(
            (req, out) -> {
              if (req.path.endsWith("/info")) {
                return respond(out, 200, "application/json", HERALD_INFO);
              }
              if (req.path.equals("/herald/herald.js")) {
                return respond(out, 200, "text/javascript", "export class Herald {}");
              }
              return respond(out, 404, "text/plain", "nope");
            });
    Report r = Doctor.examine(fake.url(), FAST.withOrigin("https://cms.example.com"));
    ProbeResult module = r.result(Doctor.MODULE);
    assertThat(module.status()).isEqualTo(Status.FAIL);
    assertThat(module.finding())
        .contains("without Access-Control-Allow-Origin", "a page on https://cms.example.com");
    assertThat(module.fixes()).first().asString().contains("server.allowed-origins=");
    assertThat(fake.request("/herald/herald.js").header("origin"))
        .isEqualTo("https://cms.example.com");
    assertThat(r.exitCode()).isPositive();
    assertThat(r.verdict()).contains("cannot import herald.js");
  }

  @Test
  void theModuleIsCheckedOnlyForAForeignOrigin() {
    Fake fake = fake((req, out) -> respond(out, 404, "text/plain", "nope"));
    Report r = examine(fake.url());
    assertThat(r.results()).extracting(ProbeResult::probe).doesNotContain(Doctor.MODULE);
    assertThat(fake.requests).extracting(q -> q.path).doesNotContain("/herald/herald.js");
  }

  @Test
  void aHeraldThatAllowsTheOriginLetsItsPagesImportTheModule() {
    Map<String, String> config = TestServer.baseConfig();
    config.put("server.allowed-origins", "https://cms.example.com");
    try (TestServer herald = TestServer.start(config)) {
      Report r =
          Doctor.examine(
              URI.create(herald.baseUrl()),
              Doctor.Options.defaults().withOrigin("https://cms.example.com"));
      assertThat(r.results())
          .extracting(ProbeResult::probe)
          .containsExactly(
              Doctor.INFO, Doctor.WEBSOCKET, Doctor.SSE, Doctor.LONG_POLLING, Doctor.MODULE);
      assertThat(r.results()).extracting(ProbeResult::status).containsOnly(Status.OK);
      assertThat(r.result(Doctor.MODULE).finding())
          .contains("A page on https://cms.example.com can import");
      assertThat(r.exitCode()).isZero();
    }
  }

  @Test
  void idleHoldsWithATokenHeraldRefusesSayThatTheyCouldNotConnect() {
    try (TestServer herald = TestServer.start()) {
      Report r =
          Doctor.examine(
              URI.create(herald.baseUrl()),
              Doctor.Options.defaults().withIdle(Duration.ofSeconds(2)).withToken("not-a-token"));
      System.out.println(r.render());
      for (String transport : List.of(Doctor.WEBSOCKET, Doctor.SSE, Doctor.LONG_POLLING)) {
        ProbeResult p = r.result(transport);
        assertThat(p.finding())
            .as(transport)
            .contains("could not connect with the credentials given", "error");
        assertThat(p.fixes()).as(transport).anySatisfy(f -> assertThat(f).contains("--token"));
      }
      assertThat(r.render()).doesNotContain("not-a-token");
    }
  }

  // ===================================================================================== helpers

  private Report examine(URI url) {
    Report r = Doctor.examine(url, FAST);
    System.out.println(r.render());
    return r;
  }

  private String findingFor(int status, String reason, String header) {
    Fake fake =
        fake(
            (req, out) -> {
              out.write(
                  ("HTTP/1.1 "
                          + status
                          + " "
                          + reason
                          + "\r\n"
                          + header
                          + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                      .getBytes(StandardCharsets.US_ASCII));
              return true;
            });
    ProbeResult info = examine(fake.url()).result(Doctor.INFO);
    assertThat(info.status()).isEqualTo(Status.FAIL);
    return info.finding() + " " + String.join(" ", info.fixes());
  }

  private static boolean respond(
      OutputStream out, int status, String type, String body, String... headers)
      throws IOException {
    String reason =
        switch (status) {
          case 200 -> "OK";
          case 204 -> "No Content";
          case 400 -> "Bad Request";
          case 403 -> "Forbidden";
          case 404 -> "Not Found";
          default -> "Something";
        };
    StringBuilder b = new StringBuilder("HTTP/1.1 " + status + " " + reason + "\r\n");
    if (type != null) {
      b.append("Content-Type: ").append(type).append("\r\n");
    }
    for (String h : headers) {
      b.append(h).append("\r\n");
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    b.append("Content-Length: ").append(bytes.length).append("\r\nConnection: close\r\n\r\n");
    out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.write(bytes);
    out.flush();
    return true;
  }

  private static byte[] switching(Request req, boolean rightKey, boolean protocol) {
    String key = req.header("sec-websocket-key") + (rightKey ? "" : "x");
    String accept;
    try {
      accept =
          Base64.getEncoder()
              .encodeToString(
                  MessageDigest.getInstance("SHA-1")
                      .digest(
                          (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                              .getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: "
            + accept
            + "\r\n"
            + (protocol ? "Sec-WebSocket-Protocol: herald.v1.json\r\n" : "")
            + "\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  private Fake fake(Script script) {
    Fake f = new Fake(script);
    resources.add(f);
    return f;
  }

  /** Answers one request; returns whether to close the connection afterwards. */
  @FunctionalInterface
  interface Script {
    boolean answer(Request request, OutputStream out) throws IOException;
  }

  /** A request as the scripted server read it. */
  static final class Request {
    final String method;
    final String path;
    final Map<String, String> headers;
    final byte[] body;

    Request(String method, String path, Map<String, String> headers, byte[] body) {
      this.method = method;
      this.path = path;
      this.headers = headers;
      this.body = body;
    }

    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** A server that answers every request on a connection with a script (one request each). */
  static final class Fake implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();

    Fake(Script script) {
      try {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      Thread acceptor =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket s = server.accept();
                    open.add(s);
                    Thread t = new Thread(() -> serve(s, script), "fake-http-conn");
                    t.setDaemon(true);
                    t.start();
                  } catch (IOException e) {
                    return;
                  }
                }
              },
              "fake-http-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    private void serve(Socket s, Script script) {
      try {
        PushbackInputStream in = new PushbackInputStream(s.getInputStream(), 1);
        int first = in.read();
        if (first == 0x16) {
          // A TLS ClientHello on a plain-HTTP port: answer like an HTTP server does.
          s.getOutputStream()
              .write(
                  "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"
                      .getBytes(StandardCharsets.US_ASCII));
          s.close();
          return;
        }
        if (first >= 0) {
          in.unread(first);
        }
        String line = readLine(in);
        if (line == null) {
          s.close();
          return;
        }
        String[] parts = line.split(" ");
        Map<String, String> headers = new LinkedHashMap<>();
        String h;
        while ((h = readLine(in)) != null && !h.isEmpty()) {
          int colon = h.indexOf(':');
          if (colon > 0) {
            headers.put(
                h.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                h.substring(colon + 1).trim());
          }
        }
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        Request req =
            new Request(parts[0], parts.length > 1 ? parts[1] : "", headers, in.readNBytes(length));
        requests.add(req);
        if (script.answer(req, s.getOutputStream())) {
          s.close();
        }
      } catch (IOException | RuntimeException e) {
        try {
          s.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }

    private static String readLine(InputStream in) throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      int c;
      while ((c = in.read()) >= 0 && c != '\n') {
        if (c != '\r') {
          b.write(c);
        }
      }
      return c < 0 && b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    int port() {
      return server.getLocalPort();
    }

    URI url() {
      return URI.create("http://127.0.0.1:" + port() + "/");
    }

    Request request(String path) {
      return requests.stream()
          .filter(r -> r.path.startsWith(path))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no request to " + path + ": " + requests));
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : open) {
        s.close();
      }
    }
  }
}
