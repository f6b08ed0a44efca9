package dev.herald.server.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.server.doctor.ProbeResult.Status;
import dev.herald.server.doctor.Wire.Head;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * Examines the path from a client to a Herald server through whatever sits in between (proxies,
 * load balancers, CDNs) and explains in plain words what works and what does not:
 *
 * <ol>
 *   <li>{@code info}: {@code GET /connection/info}, is it Herald, what does it offer;
 *   <li>{@code websocket}: a raw upgrade written by hand, so the real status line and headers are
 *       seen whatever answers, then a ping frame whose pong must come back;
 *   <li>{@code sse}: {@code GET /connection/sse}; the first event must arrive promptly, and so must
 *       the answer to a ping sent by {@code POST /connection/send} (a proxy that buffers responses
 *       holds them back);
 *   <li>{@code long-polling}: {@code POST /connection/poll}, a ping, then a poll that must return
 *       its pong.
 * </ol>
 *
 * Every request carries the {@code Origin} a page of the examined site would send (or the one given
 * in the options), so Origin checks and Host rewriting are examined too. No credentials are needed:
 * the probes use only what Herald answers before {@code connect}.
 *
 * <p>The doctor is independent of any command-line parsing: {@link #examine(URI, Options)} returns
 * a {@link Report} with the results, a verdict and the exit code.
 */
public final class Doctor {
  /** The probe names, in the order they run and are reported. */
  public static final String INFO = "info";

  public static final String WEBSOCKET = "websocket";
  public static final String SSE = "sse";
  public static final String LONG_POLLING = "long-polling";

  /**
   * Run only with an {@code --origin} other than the site's own: can a page on that origin import
   * the browser client ({@code /herald/herald.js}, fetched in CORS mode)?
   */
  public static final String MODULE = "module";

  private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  private static final String SUBPROTOCOL = "herald.v1.json";
  private static final byte[] PING = "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How the doctor talks to the server.
   *
   * @param origin the Origin header to send; null for the examined site's own origin (what a page
   *     served from it sends)
   * @param connectTimeout TCP and TLS connection setup
   * @param responseTimeout waiting for an ordinary answer
   * @param streamTimeout waiting for streamed data (SSE events, WebSocket frames): a proxy that
   *     buffers shows as data that does not arrive within this time
   * @param sslContext for https; null for the JVM's default trust store
   */
  public record Options(
      String origin,
      Duration connectTimeout,
      Duration responseTimeout,
      Duration streamTimeout,
      SSLContext sslContext) {
    public Options {
      Objects.requireNonNull(connectTimeout, "connectTimeout");
      Objects.requireNonNull(responseTimeout, "responseTimeout");
      Objects.requireNonNull(streamTimeout, "streamTimeout");
    }

    /** The site's own origin, 5 s to connect, 10 s for answers, 5 s for streamed data. */
    public static Options defaults() {
      return new Options(
          null, Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5), null);
    }

    public Options withOrigin(String o) {
      return new Options(o, connectTimeout, responseTimeout, streamTimeout, sslContext);
    }

    public Options withSslContext(SSLContext c) {
      return new Options(origin, connectTimeout, responseTimeout, streamTimeout, c);
    }

    public Options withStreamTimeout(Duration d) {
      return new Options(origin, connectTimeout, responseTimeout, d, sslContext);
    }

    public Options withResponseTimeout(Duration d) {
      return new Options(origin, connectTimeout, d, streamTimeout, sslContext);
    }

    String originFor(Target t) {
      return origin != null ? origin : t.origin();
    }
  }

  private final Target target;
  private final Options options;
  private final SecureRandom random = new SecureRandom();

  // Paths, possibly updated from /connection/info.
  private String wsPath = "/connection/websocket";
  private String ssePath = "/connection/sse";
  private String pollPath = "/connection/poll";

  /** The info answer's head: tells which proxy is in front when a later probe gets no answer. */
  private Head infoHead;

  /** The upgrade was refused because the server runs with websocket.enabled=false. */
  private boolean websocketDisabled;

  private Doctor(Target target, Options options) {
    this.target = target;
    this.options = options;
  }

  /**
   * Examines the Herald server at {@code url} (the public base URL, e.g. {@code
   * https://herald.example.com/}; the probes use {@code <url>/connection/...}).
   *
   * @throws IllegalArgumentException when the URL is not an absolute http(s) URL
   */
  public static Report examine(URI url, Options options) {
    return new Doctor(Target.of(url), options).run();
  }

  public static Report examine(URI url) {
    return examine(url, Options.defaults());
  }

  private Report run() {
    List<ProbeResult> results = new ArrayList<>();
    Finding unreachable = null;
    ProbeResult info;
    try {
      info = info();
    } catch (Unreachable u) {
      unreachable = u.finding;
      info = ProbeResult.fail(INFO, u.finding);
    }
    results.add(info);
    if (unreachable != null) {
      for (String p : List.of(WEBSOCKET, SSE, LONG_POLLING)) {
        results.add(
            new ProbeResult(
                p, Status.SKIP, "not run: the server cannot be reached (see above).", List.of()));
      }
    } else {
      results.add(guard(WEBSOCKET, this::websocket));
      results.add(guard(SSE, this::sse));
      results.add(guard(LONG_POLLING, this::longPolling));
    }
    boolean ws = results.get(1).ok();
    boolean sse = results.get(2).ok();
    boolean poll = results.get(3).ok();
    int exit;
    String verdict;
    if (ws) {
      exit = 0;
      verdict =
          "WebSocket works: clients will use it."
              + (sse && poll
                  ? " The fallbacks work too."
                  : " Clients whose network blocks WebSocket would need the fallbacks; fix what"
                      + " failed above.");
    } else if (sse || poll) {
      exit = 1;
      String via =
          sse && poll
              ? "Server-Sent Events (and long-polling)"
              : sse ? "Server-Sent Events" : "long-polling";
      verdict =
          "Herald is reachable only through a fallback: clients will use "
              + via
              + " and stay live, with more overhead than WebSocket."
              + (websocketDisabled
                  ? " WebSocket is turned off in the server's configuration."
                  : " Fix the WebSocket problem above.");
    } else {
      exit = 2;
      verdict =
          "No transport works: clients will not get live updates. Fix the problems above (see"
              + " docs/troubleshooting.md).";
    }
    if (foreignOrigin()) {
      ProbeResult module =
          unreachable != null
              ? new ProbeResult(
                  MODULE, Status.SKIP, "not run: the server cannot be reached.", List.of())
              : guard(MODULE, this::module);
      results.add(module);
      if (module.status() == Status.FAIL) {
        exit = Math.max(exit, 1);
        verdict +=
            " Pages on "
                + options.originFor(target)
                + " cannot import herald.js from this server (see module above).";
      }
    }
    return new Report(target.display(), results, verdict, exit);
  }

  private boolean foreignOrigin() {
    return !options.originFor(target).equals(target.origin());
  }

  // ====================================================================== module

  /** The module fetch a page on another origin makes: a GET in CORS mode, with its Origin. */
  private ProbeResult module() throws Unreachable {
    String origin = options.originFor(target);
    String path = "/herald/herald.js";
    Exchange x = exchange("GET", path, List.<String[]>of(h("Accept", "*/*")), null);
    if (x.failure != null) {
      return ProbeResult.fail(MODULE, x.failure);
    }
    Head h = x.head;
    if (h.status() != 200) {
      return ProbeResult.fail(
          MODULE, Explain.status(h, x.body, target, options, "The module request GET " + path));
    }
    String allowed = h.header("Access-Control-Allow-Origin");
    if (allowed == null || !(allowed.equals("*") || allowed.equalsIgnoreCase(origin))) {
      return ProbeResult.fail(
          MODULE,
          new Finding(
              "GET "
                  + target.path(path)
                  + " answered 200"
                  + Explain.by(h)
                  + (allowed == null
                      ? " without Access-Control-Allow-Origin"
                      : " with Access-Control-Allow-Origin '" + allowed + "'")
                  + ": a page on "
                  + origin
                  + " cannot import it (browsers fetch module scripts in CORS mode and block"
                  + " the answer).",
              List.of(
                  "add the origin in Herald's configuration: server.allowed-origins=" + origin,
                  "if a proxy or CDN serves /herald/, make it pass the Access-Control-* headers"
                      + " and Vary: Origin")));
    }
    return ProbeResult.ok(
        MODULE,
        "A page on "
            + origin
            + " can import "
            + target.path(path)
            + " (200 with Access-Control-Allow-Origin"
            + Explain.through(h)
            + ").");
  }

  private interface ProbeBody {
    ProbeResult run() throws Unreachable;
  }

  private ProbeResult guard(String name, ProbeBody body) {
    try {
      return body.run();
    } catch (Unreachable u) {
      return ProbeResult.fail(name, u.finding);
    }
  }

  /** The server could not be reached at all. */
  private static final class Unreachable extends Exception {
    final Finding finding;

    Unreachable(Finding finding) {
      super(finding.text(), null, false, false);
      this.finding = finding;
    }
  }

  // ====================================================================== info

  private ProbeResult info() throws Unreachable {
    long start = System.nanoTime();
    Exchange x =
        exchange(
            "GET", "/connection/info", List.<String[]>of(h("Accept", "application/json")), null);
    if (x.failure != null) {
      if (x.failure.connectionLevel()) {
        throw new Unreachable(x.failure);
      }
      return ProbeResult.fail(INFO, x.failure);
    }
    Head h = x.head;
    infoHead = h;
    if (h.status() != 200) {
      return ProbeResult.fail(INFO, Explain.status(h, x.body, target, options, "The info request"));
    }
    JsonNode info = null;
    try {
      info = JSON.readTree(x.body);
    } catch (IOException e) {
      // not JSON
    }
    if (info == null || !info.isObject() || !info.has("protocol")) {
      return ProbeResult.fail(
          INFO,
          new Finding(
              "The info request got 200 "
                  + (h.mediaType().isEmpty() ? "(no content type)" : h.mediaType())
                  + Explain.by(h)
                  + " but not Herald's answer: "
                  + target.path("/connection/")
                  + " does not lead to Herald (a page of the site or of the proxy answers).",
              List.of("route everything under /connection/ to Herald")));
    }
    wsPath = path(info.path("websocket"), wsPath);
    ssePath = path(info.path("sse"), ssePath);
    pollPath = path(info.path("longPolling"), pollPath);
    List<String> offers = new ArrayList<>();
    List<String> off = new ArrayList<>();
    (enabled(info.path("websocket")) ? offers : off).add("WebSocket");
    (enabled(info.path("sse")) ? offers : off).add("SSE");
    (enabled(info.path("longPolling")) ? offers : off).add("long-polling");
    return ProbeResult.ok(
        INFO,
        "Herald answers in "
            + ms(start)
            + " ms"
            + Explain.through(h)
            + " (node "
            + info.path("node").asText("?")
            + ", protocol "
            + info.path("protocol").asText("?")
            + "); it offers "
            + (offers.isEmpty() ? "nothing" : String.join(", ", offers))
            + (off.isEmpty() ? "" : " (disabled: " + String.join(", ", off) + ")")
            + ".");
  }

  private static boolean enabled(JsonNode transport) {
    return transport.path("enabled").asBoolean(true);
  }

  private static String path(JsonNode transport, String fallback) {
    String p = transport.path("path").asText("");
    return p.startsWith("/") ? p : fallback;
  }

  // ====================================================================== websocket

  private ProbeResult websocket() throws Unreachable {
    long start = System.nanoTime();
    Wire w = open();
    try (w) {
      byte[] nonce = new byte[16];
      random.nextBytes(nonce);
      String key = Base64.getEncoder().encodeToString(nonce);
      w.deadlineIn(options.responseTimeout().toMillis());
      Head h;
      try {
        w.request(
            "GET",
            target.path(wsPath),
            target,
            List.of(
                h("Upgrade", "websocket"),
                h("Connection", "Upgrade"),
                h("Sec-WebSocket-Key", key),
                h("Sec-WebSocket-Version", "13"),
                h("Sec-WebSocket-Protocol", SUBPROTOCOL),
                h("Origin", options.originFor(target)),
                h("User-Agent", userAgent())),
            null);
        h = w.readHead();
      } catch (IOException e) {
        return ProbeResult.fail(
            WEBSOCKET,
            Explain.noAnswer(
                e, target, "The upgrade request", options.responseTimeout().toMillis()));
      }
      if (h.status() != 101) {
        websocketDisabled = "websocket-disabled".equals(h.heraldError());
        w.deadlineIn(Math.min(2000, Math.max(1, w.remainingMillis())));
        String body = w.bodyText(h, 4096);
        return ProbeResult.fail(WEBSOCKET, Explain.upgradeRefused(h, body, target, options));
      }
      long handshakeMs = ms(start);
      if (!accept(key).equals(h.header("Sec-WebSocket-Accept"))) {
        return ProbeResult.fail(
            WEBSOCKET,
            new Finding(
                "The upgrade was answered 101"
                    + Explain.by(h)
                    + " but with a wrong Sec-WebSocket-Accept: something in between answers"
                    + " upgrades by itself instead of passing them to Herald; browsers refuse"
                    + " such a connection.",
                List.of("make the proxy pass WebSocket upgrades through to Herald")));
      }
      if (!SUBPROTOCOL.equals(h.header("Sec-WebSocket-Protocol"))) {
        return ProbeResult.fail(
            WEBSOCKET,
            new Finding(
                "The upgrade was answered 101"
                    + Explain.by(h)
                    + " without selecting the subprotocol "
                    + SUBPROTOCOL
                    + " (Herald always selects it): something in between drops the"
                    + " Sec-WebSocket-Protocol header, and browsers close such a connection.",
                List.of("make the proxy pass Sec-WebSocket-Protocol in both directions")));
      }
      long pingStart = System.nanoTime();
      String outcome;
      try {
        w.write(frame(0x1, PING));
        w.deadlineIn(options.streamTimeout().toMillis());
        outcome = awaitPong(w);
      } catch (SocketTimeoutException e) {
        return ProbeResult.fail(
            WEBSOCKET,
            new Finding(
                "The upgrade succeeded (101"
                    + Explain.by(h)
                    + ") but the answer to a ping did not come back within "
                    + Explain.seconds(options.streamTimeout().toMillis())
                    + ": something in between accepted the upgrade but does not pass WebSocket"
                    + " frames (or buffers them).",
                List.of(
                    "check the WebSocket support of the proxies in between; some proxies and"
                        + " antivirus products answer 101 and then hold the data")));
      } catch (IOException e) {
        return ProbeResult.fail(
            WEBSOCKET,
            new Finding(
                "The upgrade succeeded (101"
                    + Explain.by(h)
                    + ") but the connection broke right after it: "
                    + e.getMessage()
                    + ".",
                List.of("check the WebSocket support and error log of the proxies in between")));
      }
      if (outcome != null) {
        return ProbeResult.fail(WEBSOCKET, new Finding(outcome, List.of()));
      }
      try {
        w.write(closeFrame());
      } catch (IOException e) {
        // the result is known
      }
      return ProbeResult.ok(
          WEBSOCKET,
          "Upgraded (101, subprotocol "
              + SUBPROTOCOL
              + ") in "
              + handshakeMs
              + " ms"
              + Explain.through(h)
              + "; a ping frame's pong came back in "
              + ms(pingStart)
              + " ms.");
    }
  }

  /** Reads frames until a pong message; returns null then, or what went wrong instead. */
  private String awaitPong(Wire w) throws IOException {
    InputStream in = w.input();
    while (true) {
      int b0 = in.read();
      int b1 = in.read();
      if (b0 < 0 || b1 < 0) {
        return "The upgrade succeeded but the connection was closed before the answer to a ping"
            + " came back: something in between ends WebSocket connections.";
      }
      int opcode = b0 & 0x0F;
      long len = b1 & 0x7F;
      if (len == 126) {
        len = (readByte(in) << 8) | readByte(in);
      } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) {
          len = (len << 8) | readByte(in);
        }
      }
      byte[] mask = null;
      if ((b1 & 0x80) != 0) {
        mask = in.readNBytes(4);
      }
      if (len > 1 << 20) {
        return "The server sent a WebSocket frame of " + len + " bytes in answer to a ping.";
      }
      byte[] payload = in.readNBytes((int) len);
      if (payload.length < len) {
        throw new EOFException("the connection ended in the middle of a frame");
      }
      if (mask != null) {
        for (int i = 0; i < payload.length; i++) {
          payload[i] ^= mask[i % 4];
        }
      }
      String text = new String(payload, StandardCharsets.UTF_8);
      if (opcode == 0x8) {
        int code = payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005;
        return "The upgrade succeeded but the server closed the WebSocket with code "
            + code
            + (payload.length > 2 ? " ('" + text.substring(2) + "')" : "")
            + " before answering a ping.";
      }
      if (opcode == 0x9) {
        w.write(frame(0xA, payload));
      } else if (opcode == 0x1 && text.contains("\"pong\"")) {
        return null;
      }
    }
  }

  private static int readByte(InputStream in) throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("the connection ended in the middle of a frame");
    }
    return b;
  }

  /** A masked client frame. */
  private byte[] frame(int opcode, byte[] payload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 8);
    out.write(0x80 | opcode);
    if (payload.length < 126) {
      out.write(0x80 | payload.length);
    } else {
      out.write(0x80 | 126);
      out.write(payload.length >>> 8);
      out.write(payload.length & 0xFF);
    }
    byte[] mask = new byte[4];
    random.nextBytes(mask);
    out.writeBytes(mask);
    for (int i = 0; i < payload.length; i++) {
      out.write(payload[i] ^ mask[i % 4]);
    }
    return out.toByteArray();
  }

  private byte[] closeFrame() {
    return frame(0x8, new byte[] {(byte) 0x03, (byte) 0xE8});
  }

  private static String accept(String key) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      return Base64.getEncoder()
          .encodeToString(sha1.digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ====================================================================== SSE

  private ProbeResult sse() throws Unreachable {
    long start = System.nanoTime();
    long wait = options.streamTimeout().toMillis();
    Wire w = open();
    try (w) {
      w.deadlineIn(wait);
      Head h;
      try {
        w.request(
            "GET",
            target.path(ssePath),
            target,
            List.of(
                h("Accept", "text/event-stream"),
                h("Cache-Control", "no-cache"),
                h("Origin", options.originFor(target)),
                h("User-Agent", userAgent())),
            null);
        h = w.readHead();
      } catch (SocketTimeoutException e) {
        return ProbeResult.fail(
            SSE,
            Explain.buffered(
                infoHead,
                "The stream request got no answer within "
                    + Explain.seconds(wait)
                    + ", although the other requests are answered at once"
                    + (infoHead == null ? "" : Explain.by(infoHead))
                    + ": something in between"
                    + " holds the response back until it has collected enough of it (response"
                    + " buffering)."));
      } catch (IOException e) {
        return ProbeResult.fail(SSE, Explain.noAnswer(e, target, "The stream request", wait));
      }
      if (h.status() != 200) {
        w.deadlineIn(Math.min(2000, Math.max(1, w.remainingMillis())));
        return ProbeResult.fail(
            SSE, Explain.status(h, w.bodyText(h, 4096), target, options, "The stream request"));
      }
      if (!h.mediaType().equals("text/event-stream")) {
        return ProbeResult.fail(
            SSE,
            new Finding(
                "The stream request got 200 "
                    + (h.mediaType().isEmpty() ? "(no content type)" : h.mediaType())
                    + Explain.by(h)
                    + " instead of text/event-stream: the server that answered is not Herald.",
                List.of("route everything under /connection/ to Herald")));
      }
      long headMs = ms(start);
      Events events = new Events(w.body(h));
      String session;
      try {
        session = events.awaitSession();
      } catch (SocketTimeoutException e) {
        return ProbeResult.fail(
            SSE,
            Explain.buffered(
                h,
                "The stream was answered 200 text/event-stream"
                    + Explain.by(h)
                    + " after "
                    + headMs
                    + " ms, but its first event (2 KiB of padding and the session event) did not"
                    + " arrive within "
                    + Explain.seconds(wait)
                    + ": something in between buffers the response."));
      } catch (IOException e) {
        return ProbeResult.fail(
            SSE,
            new Finding(
                "The stream was answered 200 text/event-stream"
                    + Explain.by(h)
                    + " but ended before its first event ("
                    + e.getMessage()
                    + ").",
                List.of("check the error logs of the proxy and of Herald")));
      }
      long firstMs = ms(start);
      long pingStart = System.nanoTime();
      Finding sendFailure = sendPing(session, "The command POST of the SSE session");
      if (sendFailure != null) {
        return ProbeResult.fail(SSE, sendFailure);
      }
      w.deadlineIn(wait);
      try {
        events.awaitPong();
      } catch (SocketTimeoutException e) {
        return ProbeResult.fail(
            SSE,
            Explain.buffered(
                h,
                "The stream's first event arrived after "
                    + firstMs
                    + " ms, but a small event after it (the answer to a ping sent by POST) did not"
                    + " arrive within "
                    + Explain.seconds(wait)
                    + ": something in between buffers the response (the first event got through"
                    + " thanks to its 2 KiB of padding)."));
      } catch (IOException e) {
        return ProbeResult.fail(
            SSE,
            new Finding(
                "The stream ended before the answer to a ping came back (" + e.getMessage() + ").",
                List.of("check the error logs of the proxy and of Herald")));
      }
      String encoding = h.header("Content-Encoding");
      return ProbeResult.ok(
          SSE,
          "Stream opened (200 text/event-stream)"
              + Explain.through(h)
              + "; the first event arrived after "
              + firstMs
              + " ms, and the answer to a command sent by POST came back on the stream in "
              + ms(pingStart)
              + " ms: events are not buffered."
              + (encoding == null
                  ? ""
                  : " Note: the stream is compressed (Content-Encoding: "
                      + encoding
                      + "), which makes some proxies buffer it."));
    }
  }

  /** Reads Server-Sent Events: only what the probe needs (event name and data lines). */
  private static final class Events {
    private final InputStream in;

    Events(InputStream in) {
      this.in = in;
    }

    /** The session id from the {@code session} event. */
    String awaitSession() throws IOException {
      while (true) {
        String[] e = next();
        if ("session".equals(e[0])) {
          JsonNode n = JSON.readTree(e[1]);
          String id = n.path("session").asText("");
          if (id.isEmpty()) {
            throw new IOException("the session event names no session");
          }
          return id;
        }
      }
    }

    void awaitPong() throws IOException {
      while (true) {
        String[] e = next();
        if ("message".equals(e[0]) && e[1].contains("\"type\":\"pong\"")) {
          return;
        }
      }
    }

    /** {event name, data}; throws EOFException at the end of the stream. */
    private String[] next() throws IOException {
      String name = "message";
      StringBuilder data = null;
      while (true) {
        String raw = Wire.readLine(in);
        if (raw == null) {
          throw new EOFException("the stream ended");
        }
        String line = new String(raw.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        if (line.isEmpty()) {
          if (data != null) {
            return new String[] {name, data.toString()};
          }
          name = "message";
          continue;
        }
        if (line.startsWith(":")) {
          continue;
        }
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
          value = value.substring(1);
        }
        if (field.equals("event")) {
          name = value;
        } else if (field.equals("data")) {
          data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
        }
      }
    }
  }

  // ====================================================================== long-polling

  private ProbeResult longPolling() throws Unreachable {
    Exchange open =
        exchange("POST", pollPath, List.<String[]>of(h("Accept", "application/json")), new byte[0]);
    if (open.failure != null) {
      return ProbeResult.fail(LONG_POLLING, open.failure);
    }
    if (open.head.status() != 200) {
      return ProbeResult.fail(
          LONG_POLLING,
          Explain.status(open.head, open.body, target, options, "The long-poll request"));
    }
    String session = "";
    try {
      session = JSON.readTree(open.body).path("session").asText("");
    } catch (IOException e) {
      // handled below
    }
    if (session.isEmpty()) {
      return ProbeResult.fail(
          LONG_POLLING,
          new Finding(
              "The long-poll request got 200 "
                  + (open.head.mediaType().isEmpty() ? "(no content type)" : open.head.mediaType())
                  + Explain.by(open.head)
                  + " but not Herald's answer: the server that answered is not Herald.",
              List.of("route everything under /connection/ to Herald")));
    }
    long start = System.nanoTime();
    Finding sendFailure = sendPing(session, "The command POST of the long-polling session");
    if (sendFailure != null) {
      return ProbeResult.fail(LONG_POLLING, sendFailure);
    }
    Exchange poll =
        exchange(
            "GET",
            pollPath + "/" + session + "?ack=0",
            List.<String[]>of(h("Accept", "text/plain")),
            null);
    if (poll.failure != null) {
      return ProbeResult.fail(LONG_POLLING, poll.failure);
    }
    if (poll.head.status() != 200 || !poll.body.contains("\"type\":\"pong\"")) {
      if (poll.head.status() == 200 || poll.head.status() == 204) {
        return ProbeResult.fail(
            LONG_POLLING,
            new Finding(
                "The poll came back "
                    + poll.head.status()
                    + Explain.by(poll.head)
                    + " without the answer to the ping sent before it: the poll and the command"
                    + " did not reach the same session.",
                List.of("with several Herald nodes, use sticky sessions (docs/deployment.md)")));
      }
      return ProbeResult.fail(
          LONG_POLLING, Explain.status(poll.head, poll.body, target, options, "The poll"));
    }
    return ProbeResult.ok(
        LONG_POLLING,
        "Session opened"
            + Explain.through(open.head)
            + "; a command sent by POST was answered in the next poll after "
            + ms(start)
            + " ms.");
  }

  // ====================================================================== shared

  /** Sends a ping into a session; null when Herald took it (204). */
  private Finding sendPing(String session, String what) throws Unreachable {
    Exchange x =
        exchange(
            "POST",
            "/connection/send/" + session,
            List.<String[]>of(h("Content-Type", "text/plain; charset=utf-8")),
            PING);
    if (x.failure != null) {
      return x.failure;
    }
    if (x.head.status() != 204) {
      return Explain.status(x.head, x.body, target, options, what);
    }
    return null;
  }

  /** A request and its complete answer, or why there is none. */
  private record Exchange(Head head, String body, Finding failure) {}

  private Exchange exchange(String method, String path, List<String[]> headers, byte[] body)
      throws Unreachable {
    Wire w = open();
    try (w) {
      List<String[]> all = new ArrayList<>(headers);
      all.add(h("Origin", options.originFor(target)));
      all.add(h("User-Agent", userAgent()));
      all.add(h("Connection", "close"));
      long wait = options.responseTimeout().toMillis();
      w.deadlineIn(wait);
      Head h;
      try {
        w.request(method, target.path(path), target, all, body);
        h = w.readHead();
      } catch (IOException e) {
        return new Exchange(
            null, "", Explain.noAnswer(e, target, "The request " + method + " " + path, wait));
      }
      return new Exchange(h, w.bodyText(h, 65_536), null);
    }
  }

  private Wire open() throws Unreachable {
    try {
      return Wire.connect(target, options);
    } catch (IOException e) {
      throw new Unreachable(Explain.connect(e, target, options));
    }
  }

  private static String[] h(String name, String value) {
    return new String[] {name, value};
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000L;
  }

  private static String userAgent() {
    String v = Doctor.class.getPackage().getImplementationVersion();
    return "herald-doctor/" + (v == null ? "dev" : v);
  }
}
