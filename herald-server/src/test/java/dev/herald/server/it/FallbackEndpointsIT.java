package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.server.it.HttpTransportClient.Batch;
import dev.herald.server.it.HttpTransportClient.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The HTTP fallback endpoints under {@code /connection} (docs/protocol.md, "HTTP transports"):
 * acknowledged long-poll delivery, session expiry, transport info, Origin and CORS, refusals, the
 * failure reports and diagnostics, the SSE stream's shape, and shutdown over HTTP transports.
 */
class FallbackEndpointsIT {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  // ---------------------------------------------------------------- long-polling delivery

  @Test
  void lostPollResponseIsDeliveredAgainUnderANewNumberAndNothingTwice() {
    String channel = "test:lost-poll";
    try (HttpTransportClient c =
        HttpTransportClient.connected(server, Kind.LONG_POLLING, "alice")) {
      JsonNode sub = c.request(subscribe(channel)).get("result");
      long start = sub.get("offset").asLong();
      c.dropNextPollResponse();
      for (int i = 0; i < 5; i++) {
        assertThat(server.publishHttp(channel, "{\"n\":" + i + "}").statusCode()).isEqualTo(200);
      }
      List<JsonNode> pubs = c.pubs(channel, 5);
      for (int i = 0; i < 5; i++) {
        assertThat(pubs.get(i).get("offset").asLong()).isEqualTo(start + 1 + i);
        assertThat(pubs.get(i).get("data").get("n").asInt()).isEqualTo(i);
      }
      // after acknowledging, nothing comes again: the next pub is the next publication
      server.publishHttp(channel, "{\"n\":5}");
      JsonNode next = c.pubs(channel, 1).get(0);
      assertThat(next.get("offset").asLong()).isEqualTo(start + 6);

      List<Batch> batches = c.batches();
      int dropped = -1;
      for (int i = 0; i < batches.size(); i++) {
        if (batches.get(i).dropped()) {
          dropped = i;
        }
      }
      assertThat(dropped).as("a dropped batch in %s", batches).isGreaterThanOrEqualTo(0);
      Batch lost = batches.get(dropped);
      Batch again = batches.get(dropped + 1);
      assertThat(lost.lines()).isNotEmpty();
      assertThat(again.dropped()).isFalse();
      assertThat(again.number()).isGreaterThan(lost.number());
      // exactly the same messages, byte for byte (newer ones come in the polls after)
      assertThat(again.lines()).isEqualTo(lost.lines());
      // across everything processed, every publication was delivered exactly once
      List<Long> offsets = new ArrayList<>();
      long lastNumber = 0;
      for (Batch b : batches) {
        if (b.dropped()) {
          continue;
        }
        assertThat(b.number()).as("batch numbers grow").isGreaterThan(lastNumber);
        lastNumber = b.number();
        for (String line : b.lines()) {
          JsonNode m = read(line);
          if (m.path("type").asText().equals("pub")) {
            offsets.add(m.get("offset").asLong());
          }
        }
      }
      assertThat(offsets)
          .containsExactly(start + 1, start + 2, start + 3, start + 4, start + 5, start + 6);
    }
  }

  @Test
  void aClientThatEndsItsLongPollingSessionLeavesPresenceAtOnce() throws Exception {
    String channel = "test:explicit-end";
    try (TestServer s = TestServer.start();
        RawClient watcher = RawClient.connected(s, "watcher");
        HttpTransportClient leaving =
            HttpTransportClient.connected(s, Kind.LONG_POLLING, "leaving")) {
      watcher.request(subscribe(channel));
      assertThat(leaving.request(subscribe(channel)).has("result")).isTrue();
      String client = presenceClientOf(watcher, channel, "leaving");
      String session = leaving.session();
      HttpResponse<String> end =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create(s.baseUrl() + "/connection/poll/" + session))
                      .DELETE()
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(end.statusCode()).isEqualTo(204);
      // default session timeout is 45 s: a leave now proves the explicit end
      watcher.await(
          m -> m.path("type").asText().equals("leave") && m.path("client").asText().equals(client));
      assertThat(get(s, "/connection/poll/" + session + "?ack=0", Map.of()).statusCode())
          .isEqualTo(404);
    }
  }

  @Test
  void aClientThatStopsPollingIsExpiredAndLeavesPresence() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("longpoll.timeout", "500ms");
    cfg.put("longpoll.session-timeout", "1s");
    String channel = "test:expiry";
    try (TestServer s = TestServer.start(cfg);
        RawClient watcher = RawClient.connected(s, "watcher");
        HttpTransportClient live = HttpTransportClient.connected(s, Kind.LONG_POLLING, "live");
        HttpTransportClient gone = HttpTransportClient.connected(s, Kind.LONG_POLLING, "gone")) {
      watcher.request(subscribe(channel));
      live.request(subscribe(channel));
      assertThat(gone.request(subscribe(channel)).has("result")).isTrue();
      String goneClient = presenceClientOf(watcher, channel, "gone");
      String session = gone.session();
      long stoppedAt = System.nanoTime();
      gone.vanish(); // stops polling without a word
      JsonNode leave =
          watcher.await(
              m ->
                  m.path("type").asText().equals("leave")
                      && m.path("client").asText().equals(goneClient));
      long afterMillis = (System.nanoTime() - stoppedAt) / 1_000_000;
      assertThat(leave.get("user").asText()).isEqualTo("gone");
      assertThat(afterMillis).as("expired after the session timeout").isGreaterThanOrEqualTo(900);
      // the session is gone for good
      HttpResponse<String> poll = get(s, "/connection/poll/" + session + "?ack=0", Map.of());
      assertThat(poll.statusCode()).isEqualTo(404);
      assertThat(poll.headers().firstValue("X-Herald-Error")).hasValue("session-unknown");
      HttpResponse<String> send =
          post(s, "/connection/send/" + session, "{\"type\":\"ping\"}", Map.of());
      assertThat(send.statusCode()).isEqualTo(404);
      // the client that kept polling (across several empty polls) is still there
      JsonNode clients =
          live.request("{\"type\":\"presence\",\"channel\":\"" + channel + "\"}")
              .get("result")
              .get("clients");
      Set<String> users = new HashSet<>();
      clients.forEach(e -> users.add(e.get("user").asText()));
      assertThat(users).containsExactlyInAnyOrder("watcher", "live");
      assertThat(live.isEnded()).isFalse();
    }
  }

  // ---------------------------------------------------------------- info and disabled WebSocket

  @Test
  void infoDescribesTheTransports() throws Exception {
    HttpResponse<String> r = get(server, "/connection/info", Map.of());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
    JsonNode info = JSON.readTree(r.body());
    assertThat(info.get("protocol").asInt()).isEqualTo(1);
    assertThat(info.get("node").asText()).isEqualTo("herald-1");
    assertThat(info.at("/websocket/enabled").asBoolean()).isTrue();
    assertThat(info.at("/websocket/path").asText()).isEqualTo("/connection/websocket");
    assertThat(info.at("/sse/enabled").asBoolean()).isTrue();
    assertThat(info.at("/sse/path").asText()).isEqualTo("/connection/sse");
    assertThat(info.at("/longPolling/enabled").asBoolean()).isTrue();
    assertThat(info.at("/longPolling/path").asText()).isEqualTo("/connection/poll");
    assertThat(info.at("/longPolling/timeoutMs").asLong()).isEqualTo(25_000);
    assertThat(info.at("/heartbeat/intervalMs").asLong()).isEqualTo(25_000);
  }

  @Test
  void withWebSocketDisabledInfoSaysSoAndTheHttpTransportsWorkEndToEnd() throws Exception {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("websocket.enabled", "false");
    String channel = "test:no-websocket";
    try (TestServer s = TestServer.start(cfg)) {
      JsonNode info = JSON.readTree(get(s, "/connection/info", Map.of()).body());
      assertThat(info.at("/websocket/enabled").asBoolean()).isFalse();
      assertThat(info.at("/sse/enabled").asBoolean()).isTrue();
      assertThat(info.at("/longPolling/enabled").asBoolean()).isTrue();

      HttpResponse<String> plain = get(s, "/connection/websocket", Map.of());
      assertThat(plain.statusCode()).isEqualTo(404);
      assertThat(plain.headers().firstValue("X-Herald-Error")).hasValue("websocket-disabled");
      assertThatThrownBy(() -> RawClient.open(s.wsUri()))
          .isInstanceOf(CompletionException.class)
          .cause()
          .isInstanceOf(WebSocketHandshakeException.class)
          .satisfies(
              e ->
                  assertThat(((WebSocketHandshakeException) e).getResponse().statusCode())
                      .isEqualTo(404));

      try (HttpTransportClient sse = HttpTransportClient.connected(s, Kind.SSE, "sam");
          HttpTransportClient lp = HttpTransportClient.connected(s, Kind.LONG_POLLING, "lou")) {
        sse.request(subscribe(channel));
        lp.request(subscribe(channel));
        assertThat(s.publishHttp(channel, "{\"from\":\"backend\"}").statusCode()).isEqualTo(200);
        assertThat(sse.pubs(channel, 1).get(0).at("/data/from").asText()).isEqualTo("backend");
        assertThat(lp.pubs(channel, 1).get(0).at("/data/from").asText()).isEqualTo("backend");
        lp.request(
            "{\"type\":\"publish\",\"channel\":\"" + channel + "\",\"data\":{\"from\":\"lou\"}}");
        JsonNode p = sse.pubs(channel, 1).get(0);
        assertThat(p.get("user").asText()).isEqualTo("lou");
        assertThat(lp.pubs(channel, 1).get(0).get("offset").asLong())
            .isEqualTo(p.get("offset").asLong());
      }
    }
  }

  // ---------------------------------------------------------------- Origin and CORS

  @Test
  void foreignOriginsAreRefusedOnEveryEndpoint() {
    try (HttpTransportClient c =
        HttpTransportClient.connected(server, Kind.LONG_POLLING, "alice")) {
      for (String origin : List.of("http://evil.example", "null")) {
        Map<String, String> h = Map.of("Origin", origin);
        expectRefused(get(server, "/connection/sse", h), 403, "origin-not-allowed");
        expectRefused(post(server, "/connection/poll", "", h), 403, "origin-not-allowed");
        expectRefused(
            post(server, "/connection/send/" + c.session(), "{\"type\":\"ping\"}", h),
            403,
            "origin-not-allowed");
        expectRefused(
            get(server, "/connection/poll/" + c.session() + "?ack=0", h),
            403,
            "origin-not-allowed");
        assertThatThrownBy(() -> HttpTransportClient.open(server.baseUrl(), Kind.SSE, h))
            .isInstanceOf(HttpTransportClient.OpenRefused.class)
            .hasMessageContaining("403");
      }
      // the refused requests did not touch the session
      c.send("{\"type\":\"ping\"}");
      c.awaitType("pong");
    }
    // same origin (Origin equals Host) is fine
    try (HttpTransportClient same =
        HttpTransportClient.open(
            server.baseUrl(), Kind.SSE, Map.of("Origin", "http://127.0.0.1:" + server.port()))) {
      same.request("{\"type\":\"connect\",\"token\":\"" + server.token("alice") + "\"}");
    }
  }

  @Test
  void allowedCrossOriginGetsCorsHeadersWithCredentials() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("server.allowed-origins", "http://app.example");
    String origin = "http://app.example";
    try (TestServer s = TestServer.start(cfg)) {
      for (String path : List.of("/connection/sse", "/connection/poll", "/connection/send/x")) {
        HttpResponse<String> pre =
            send(
                HttpRequest.newBuilder(URI.create(s.baseUrl() + path))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                    .header("Origin", origin)
                    .header("Access-Control-Request-Method", path.endsWith("sse") ? "GET" : "POST")
                    .header("Access-Control-Request-Headers", "content-type"));
        assertThat(pre.statusCode()).as("preflight %s", path).isEqualTo(204);
        assertCors(pre.headers(), origin);
        assertThat(pre.headers().firstValue("Access-Control-Allow-Methods").orElse(""))
            .contains("GET")
            .contains("POST");
        assertThat(pre.headers().firstValue("Access-Control-Allow-Headers").orElse(""))
            .containsIgnoringCase("content-type");
      }
      Map<String, String> h = Map.of("Origin", origin);
      try (HttpTransportClient sse = HttpTransportClient.open(s.baseUrl(), Kind.SSE, h);
          HttpTransportClient lp = HttpTransportClient.open(s.baseUrl(), Kind.LONG_POLLING, h)) {
        assertCors(sse.openHeaders(), origin);
        assertCors(lp.openHeaders(), origin);
        String token = "{\"type\":\"connect\",\"token\":\"" + s.token("alice") + "\"}";
        assertThat(sse.request(token).has("result")).isTrue();
        assertThat(lp.request(token).has("result")).isTrue();
        // a cross-origin page must be able to read the batch number
        assertCors(lp.lastPollHeaders(), origin);
        assertThat(lp.lastPollHeaders().firstValue("Access-Control-Expose-Headers").orElse(""))
            .containsIgnoringCase("X-Herald-Batch");
        HttpResponse<String> sent =
            post(s, "/connection/send/" + sse.session(), "{\"type\":\"ping\"}", h);
        assertThat(sent.statusCode()).isEqualTo(204);
        assertCors(sent.headers(), origin);
        sse.awaitType("pong");
      }
      // another origin is still refused, without CORS headers
      HttpResponse<String> other =
          get(s, "/connection/sse", Map.of("Origin", "http://other.example"));
      expectRefused(other, 403, "origin-not-allowed");
      assertThat(other.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }
  }

  // ---------------------------------------------------------------- refusals

  @Test
  void unknownSessionIs404OnPollAndSend() {
    String bogus = "herald-1.AAAAAAAAAAAAAAAAAAAAAA";
    expectRefused(
        get(server, "/connection/poll/" + bogus + "?ack=0", Map.of()), 404, "session-unknown");
    expectRefused(
        post(server, "/connection/send/" + bogus, "{\"type\":\"ping\"}", Map.of()),
        404,
        "session-unknown");
    try (HttpTransportClient sse = HttpTransportClient.open(server, Kind.SSE)) {
      // an SSE session cannot be polled
      HttpResponse<String> r =
          get(server, "/connection/poll/" + sse.session() + "?ack=0", Map.of());
      assertThat(r.statusCode()).isEqualTo(400);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Kind.class)
  void oversizeBodyIs413AndEndsTheSessionWith1009(Kind kind) {
    try (HttpTransportClient c = HttpTransportClient.connected(server, kind, "alice")) {
      byte[] big = ("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(70_000) + "\"}").getBytes();
      HttpResponse<String> r = c.postBytes(big);
      expectRefused(r, 413, "message-too-big");
      assertThat(c.awaitDisconnect()).isEqualTo(1009);
      // the session ended: its id is unknown now
      expectRefused(c.post("{\"type\":\"ping\"}"), 404, "session-unknown");
      if (kind == Kind.LONG_POLLING) {
        // a poll acknowledging the last words ends the session there; then it is unknown
        String poll = "/connection/poll/" + c.session() + "?ack=" + c.ack();
        assertThat(get(server, poll, Map.of()).statusCode()).isEqualTo(204);
        expectRefused(get(server, poll, Map.of()), 404, "session-unknown");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Kind.class)
  void bodyFarOverTheLimitIsAlso413AndEndsTheSession(Kind kind) {
    try (HttpTransportClient c = HttpTransportClient.connected(server, kind, "alice")) {
      byte[] huge = ("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(400_000) + "\"}").getBytes();
      HttpResponse<String> r = c.postBytes(huge);
      assertThat(r.statusCode()).isEqualTo(413);
      assertThat(r.headers().firstValue("X-Herald-Error")).hasValue("message-too-big");
      assertThat(c.awaitDisconnect()).isEqualTo(1009);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Kind.class)
  void invalidUtf8Is400AndEndsTheSessionWith1007(Kind kind) {
    try (HttpTransportClient c = HttpTransportClient.connected(server, kind, "alice")) {
      byte[] bad = {'{', '"', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
      expectRefused(c.postBytes(bad), 400, "invalid-utf8");
      assertThat(c.awaitDisconnect()).isEqualTo(1007);
    }
  }

  // ---------------------------------------------------------------- reports and diagnostics

  /**
   * Reports are anonymous: one address (or one session) that floods them is cut off after a burst
   * (429, counted as refused), so it cannot inflate the failure counts or skew the lag histogram.
   * On a server of its own, so that the reports of the other tests do not share the budget.
   */
  @Test
  void floodingReportsFromOneAddressIsRefusedAfterABurst() throws Exception {
    try (TestServer own = TestServer.start()) {
      String report = "{\"transport\":\"sse\",\"symptom\":\"buffered\",\"detail\":\"x\"}";
      int accepted = 0;
      HttpResponse<String> last = null;
      for (int i = 0; i < 60; i++) {
        last = own.post("/connection/report", report, null, "text/plain");
        if (last.statusCode() == 204) {
          accepted++;
        }
      }
      // A burst of 20, then one every 30 s (ReportLimiterTest checks the exact budget on fake
      // time).
      assertThat(accepted).isGreaterThanOrEqualTo(20).isLessThan(60);
      expectRefused(last, 429, "too-many-reports");
      assertThat(last.headers().firstValue("Retry-After")).hasValue("30");
      expectRefused(
          own.post("/connection/lag", "{\"samples\":[12]}", null, "text/plain"),
          429,
          "too-many-reports");
      HttpResponse<String> d =
          get(
              own,
              "/connection/diagnostics",
              Map.of("Authorization", "Bearer " + TestServer.API_KEY));
      JsonNode counts = JSON.readTree(d.body());
      assertThat(count(counts, "sse/buffered")).isEqualTo(accepted);
      assertThat(counts.get("refused").asLong()).isEqualTo(60 - accepted + 1);
    }
  }

  @Test
  void reportsAreCountedAndShownToOperatorsWithAnApiKey() throws Exception {
    HttpResponse<String> anonymous = get(server, "/connection/diagnostics", Map.of());
    expectRefused(anonymous, 401, "unauthorized");
    expectRefused(
        get(server, "/connection/diagnostics", Map.of("Authorization", "Bearer wrong")),
        401,
        "unauthorized");

    JsonNode before = diagnostics();
    String report =
        "{\"transport\":\"websocket\",\"symptom\":\"handshake-failed\",\"detail\":\"no open within 5000 ms\"}";
    assertThat(server.post("/connection/report", report, null, "text/plain").statusCode())
        .isEqualTo(204);
    assertThat(server.post("/connection/report", report, null, "application/json").statusCode())
        .isEqualTo(204);
    assertThat(
            server
                .post(
                    "/connection/report",
                    "{\"transport\":\"sse\",\"symptom\":\"made-up-symptom\",\"detail\":\"x\\ny\"}",
                    null,
                    "text/plain")
                .statusCode())
        .isEqualTo(204);
    assertThat(
            server
                .post(
                    "/connection/report",
                    "{\"transport\":\"carrier-pigeon\",\"symptom\":\"buffered\"}",
                    null,
                    "text/plain")
                .statusCode())
        .isEqualTo(204);
    expectRefused(
        server.post("/connection/report", "not json", null, "text/plain"), 400, "bad-report");
    expectRefused(
        server.post("/connection/report", "{\"transport\":\"sse\"}", null, "text/plain"),
        400,
        "bad-report");

    JsonNode after = diagnostics();
    assertThat(
            count(after, "websocket/handshake-failed")
                - count(before, "websocket/handshake-failed"))
        .isEqualTo(2);
    assertThat(count(after, "sse/other") - count(before, "sse/other")).isEqualTo(1);
    assertThat(count(after, "other/buffered") - count(before, "other/buffered")).isEqualTo(1);
    assertThat(after.get("counts").has("sse/made-up-symptom")).isFalse();
    JsonNode recent = after.get("recent");
    assertThat(recent.get(0).get("transport").asText()).isEqualTo("other");
    assertThat(recent.get(0).get("symptom").asText()).isEqualTo("buffered");
    assertThat(recent.get(1).get("symptom").asText()).isEqualTo("other");
    assertThat(recent.get(1).get("detail").asText()).doesNotContain("\n");
    assertThat(recent.get(2).get("detail").asText()).isEqualTo("no open within 5000 ms");
    assertThat(recent.get(2).get("userAgent").asText()).isNotEmpty();
  }

  // ---------------------------------------------------------------- SSE stream shape

  @Test
  void sseStreamStartsWithPaddingAndTheSessionEventAndIsNotBuffered() {
    try (HttpTransportClient c = HttpTransportClient.open(server, Kind.SSE)) {
      List<String> lines = c.rawLines();
      assertThat(lines.size()).isGreaterThanOrEqualTo(4);
      String padding = lines.get(0);
      assertThat(padding).startsWith(":");
      assertThat(padding.length()).isBetween(2048, 4096);
      assertThat(padding.substring(1).isBlank()).isTrue();
      assertThat(lines.get(1)).isEqualTo("event: session");
      assertThat(lines.get(2)).startsWith("data: ");
      assertThat(lines.get(3)).isEmpty();
      JsonNode s = read(lines.get(2).substring("data: ".length()));
      assertThat(s.get("session").asText())
          .isEqualTo(c.session())
          .matches("herald-1\\.[A-Za-z0-9_-]{22}");
      assertThat(s.get("transport").asText()).isEqualTo("sse");
      assertThat(s.get("node").asText()).isEqualTo("herald-1");
      assertThat(s.get("protocol").asInt()).isEqualTo(1);
      var h = c.openHeaders();
      assertThat(h.firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
      assertThat(h.firstValue("X-Accel-Buffering")).hasValue("no");
      assertThat(h.firstValue("Cache-Control").orElse("")).contains("no-transform");
      assertThat(h.firstValue("Cache-Control").orElse("")).contains("no-cache");
    }
    try (HttpTransportClient lp = HttpTransportClient.open(server, Kind.LONG_POLLING)) {
      JsonNode o = lp.opened();
      assertThat(o.get("session").asText()).matches("herald-1\\.[A-Za-z0-9_-]{22}");
      assertThat(o.get("transport").asText()).isEqualTo("long-polling");
      assertThat(o.get("node").asText()).isEqualTo("herald-1");
      assertThat(o.get("protocol").asInt()).isEqualTo(1);
    }
  }

  /**
   * A reader that stalls (its socket buffers fill up, so the server's write queue does too) gets
   * everything once it reads again, without any further traffic to nudge the stream.
   */
  @Test
  void sseStreamResumesAfterTheReaderStalled() throws Exception {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("limits.outbox-bytes", "67108864");
    String channel = "test:sse-stall";
    int count = 8000;
    try (TestServer s = TestServer.start(cfg);
        Socket socket = new Socket()) {
      socket.setReceiveBufferSize(4096);
      socket.connect(new InetSocketAddress("127.0.0.1", s.port()), 5000);
      socket.setSoTimeout((int) TIMEOUT.toMillis());
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET /connection/sse HTTP/1.1\r\nHost: 127.0.0.1:"
                  + s.port()
                  + "\r\nAccept: text/event-stream\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      StreamScanner in = new StreamScanner(socket.getInputStream());
      Matcher m = in.until(Pattern.compile("\"session\":\"([^\"]+)\""));
      String session = m.group(1);
      expectRefused(
          post(
              s,
              "/connection/send/" + session,
              "{\"type\":\"connect\",\"id\":1,\"token\":\""
                  + s.token("slow")
                  + "\"}\n{\"type\":\"subscribe\",\"id\":2,\"channel\":\""
                  + channel
                  + "\"}",
              Map.of()),
          204,
          null);
      in.until(Pattern.compile("\"id\":2,\"result\""));
      // stop reading; publish far more than the socket buffers hold
      String pad = "y".repeat(1000);
      for (int i = 0; i < count; i++) {
        s.herald().publish(channel, "{\"n\":" + i + ",\"pad\":\"" + pad + "\"}").join();
      }
      // read again: everything arrives, though nothing else is sent meanwhile
      assertThat(in.count("\"type\":\"pub\"", count)).isEqualTo(count);
    }
  }

  // ---------------------------------------------------------------- shutdown

  @Test
  void shutdownDisconnectsHttpTransportsWithASuggestedReconnectDelay() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("shutdown.retry-min", "1s");
    cfg.put("shutdown.retry-max", "3s");
    TestServer s = TestServer.start(cfg);
    try (HttpTransportClient sse = HttpTransportClient.connected(s, Kind.SSE, "sam");
        HttpTransportClient lp = HttpTransportClient.connected(s, Kind.LONG_POLLING, "lou")) {
      sse.request(subscribe("test:shutdown"));
      lp.request(subscribe("test:shutdown"));
      lp.awaitPollInFlight();
      s.herald().stop(Duration.ofSeconds(5));
      for (HttpTransportClient c : List.of(sse, lp)) {
        assertThat(c.awaitDisconnect()).as("%s", c.kind()).isEqualTo(4001);
        JsonNode d = c.disconnectMessage();
        assertThat(d.get("reconnect").asBoolean()).isTrue();
        assertThat(d.get("retry_ms").asLong()).isBetween(1000L, 3000L);
      }
      assertThat(sse.awaitEnded()).isEqualTo("stream ended");
      assertThat(lp.batches()).last().satisfies(b -> assertThat(b.body()).contains("4001"));
    } finally {
      s.herald().stop(Duration.ofSeconds(1)).join();
    }
  }

  // ---------------------------------------------------------------- helpers

  private static String subscribe(String channel) {
    return "{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}";
  }

  /** The client id of the user's entry in the channel's presence, as the watcher sees it. */
  private static String presenceClientOf(RawClient watcher, String channel, String user) {
    JsonNode join =
        watcher.await(
            m ->
                m.path("type").asText().equals("join")
                    && m.path("channel").asText().equals(channel)
                    && m.path("user").asText().equals(user));
    return join.get("client").asText();
  }

  private static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + json, e);
    }
  }

  private static void expectRefused(HttpResponse<String> r, int status, String error) {
    assertThat(r.statusCode())
        .as("status (%s: %s)", r.headers().firstValue("X-Herald-Error"), r.body())
        .isEqualTo(status);
    if (error != null) {
      assertThat(r.headers().firstValue("X-Herald-Error")).hasValue(error);
    }
  }

  private static void assertCors(java.net.http.HttpHeaders h, String origin) {
    assertThat(h.firstValue("Access-Control-Allow-Origin")).hasValue(origin);
    assertThat(h.firstValue("Access-Control-Allow-Credentials")).hasValue("true");
  }

  private JsonNode diagnostics() throws IOException {
    HttpResponse<String> r =
        get(
            server,
            "/connection/diagnostics",
            Map.of("Authorization", "Bearer " + TestServer.API_KEY));
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private static long count(JsonNode diagnostics, String key) {
    return diagnostics.get("counts").path(key).asLong(0);
  }

  private static HttpResponse<String> get(TestServer s, String path, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.baseUrl() + path)).GET();
    headers.forEach(b::header);
    return send(b);
  }

  private static HttpResponse<String> post(
      TestServer s, String path, String body, Map<String, String> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(s.baseUrl() + path))
            .header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(b::header);
    return send(b);
  }

  /** Sends and reads the whole answer; an SSE stream that opens is cut after its headers. */
  private static HttpResponse<String> send(HttpRequest.Builder b) {
    try {
      HttpResponse<java.io.InputStream> r =
          HTTP.send(b.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofInputStream());
      String body;
      if (r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
        r.body().close();
        body = "";
      } else {
        try (InputStream in = r.body()) {
          body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
      String finalBody = body;
      return new StringResponse(r, finalBody);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A response whose body was read as a string. */
  private record StringResponse(HttpResponse<?> r, String body) implements HttpResponse<String> {
    @Override
    public int statusCode() {
      return r.statusCode();
    }

    @Override
    public HttpRequest request() {
      return r.request();
    }

    @Override
    public java.util.Optional<HttpResponse<String>> previousResponse() {
      return java.util.Optional.empty();
    }

    @Override
    public java.net.http.HttpHeaders headers() {
      return r.headers();
    }

    @Override
    public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
      return r.sslSession();
    }

    @Override
    public URI uri() {
      return r.uri();
    }

    @Override
    public HttpClient.Version version() {
      return r.version();
    }
  }

  /** Reads a raw socket's bytes as text and finds things in it (chunk headers do not matter). */
  private static final class StreamScanner {
    private final InputStream in;
    private final StringBuilder text = new StringBuilder();
    private final byte[] buf = new byte[8192];
    private int scanned;

    StreamScanner(InputStream in) {
      this.in = in;
    }

    Matcher until(Pattern p) throws IOException {
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (true) {
        Matcher m = p.matcher(text);
        if (m.find(scanned)) {
          scanned = m.end();
          return m;
        }
        if (System.nanoTime() > deadline || !readSome()) {
          throw new AssertionError("not found: " + p);
        }
      }
    }

    /** Counts occurrences of s from here on, reading until n are found or the time is up. */
    int count(String s, int n) throws IOException {
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      int found = 0;
      while (true) {
        int i;
        while ((i = text.indexOf(s, scanned)) >= 0) {
          found++;
          scanned = i + s.length();
        }
        if (found >= n || System.nanoTime() > deadline) {
          return found;
        }
        try {
          if (!readSome()) {
            return found;
          }
        } catch (java.net.SocketTimeoutException e) {
          return found;
        }
      }
    }

    private boolean readSome() throws IOException {
      int r = in.read(buf);
      if (r < 0) {
        return false;
      }
      text.append(new String(buf, 0, r, StandardCharsets.ISO_8859_1));
      return true;
    }
  }
}
