package dev.herald.server.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.server.config.ConfigLoader;
import dev.herald.server.doctor.Explain.Proxy;
import dev.herald.server.doctor.ProbeResult.Status;
import dev.herald.server.doctor.Timing.IdleVerdict;
import dev.herald.server.doctor.Timing.ServerTiming;
import dev.herald.server.doctor.Wire.Head;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * Examines the path from a client to a Herald server through whatever sits in between (proxies,
 * load balancers, CDNs) and explains in plain words what works and what does not:
 *
 * <ol>
 *   <li>{@code info}: {@code GET /connection/info}, is it Herald, what does it offer;
 *   <li>{@code websocket}: a raw upgrade written by hand, so the real status line and headers are
 *       seen whatever answers, then a ping frame whose pong must come back;
 *   <li>{@code sse}: {@code GET /connection/sse}; the first event must arrive promptly, and so must
 *       the answers to pings sent by {@code POST /connection/send} (a proxy that buffers responses
 *       holds them back; one that merges small writes delays each of them, see {@link EventDelay});
 *   <li>{@code long-polling}: {@code POST /connection/poll}, a ping, then a poll that must return
 *       its pong.
 * </ol>
 *
 * Then every transport that worked is held idle for {@link Options#idle()} ({@link IdleCheck}): the
 * WebSocket and the stream without traffic, the long-polling session with a poll that has nothing
 * to deliver, so proxy read and idle timeouts shorter than Herald's heartbeat or poll hold show,
 * with the directive to raise.
 *
 * <p>Every request carries the {@code Origin} a page of the examined site would send (or the one
 * given in the options), so Origin checks and Host rewriting are examined too. No credentials are
 * needed: the probes use only what Herald answers before {@code connect}. Given a token or a
 * session cookie, the idle holds connect, and Herald pings them as it pings every client.
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

  private static final String SUBPROTOCOL = "herald.v1.json";

  /** The longest idle hold the doctor accepts. */
  public static final Duration MAX_IDLE = Duration.ofHours(1);

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
   * @param idle how long each transport that worked is then held idle (0: not at all), at most
   *     {@link #MAX_IDLE}
   * @param token a token Herald accepts in {@code connect} (as a browser's), so idle holds connect;
   *     null for none
   * @param cookie a {@code Cookie} header value sent with every request (a session cookie that
   *     authenticates, as a browser's), so idle holds connect; null for none
   */
  public record Options(
      @Nullable String origin,
      Duration connectTimeout,
      Duration responseTimeout,
      Duration streamTimeout,
      @Nullable SSLContext sslContext,
      Duration idle,
      @Nullable String token,
      @Nullable String cookie) {
    public Options {
      Objects.requireNonNull(connectTimeout, "connectTimeout");
      Objects.requireNonNull(responseTimeout, "responseTimeout");
      Objects.requireNonNull(streamTimeout, "streamTimeout");
      Objects.requireNonNull(idle, "idle");
      if (idle.isNegative() || idle.compareTo(MAX_IDLE) > 0) {
        throw new IllegalArgumentException(
            "the idle time must be between 0 and " + MAX_IDLE.toHours() + " h (got " + idle + ")");
      }
    }

    /**
     * The site's own origin, 5 s to connect, 10 s for answers, 5 s for streamed data, 5 s of idle
     * hold, no credentials.
     */
    public static Options defaults() {
      return new Options(
          null,
          Duration.ofSeconds(5),
          Duration.ofSeconds(10),
          Duration.ofSeconds(5),
          null,
          Duration.ofSeconds(5),
          null,
          null);
    }

    public Options withOrigin(String o) {
      return new Options(
          o, connectTimeout, responseTimeout, streamTimeout, sslContext, idle, token, cookie);
    }

    public Options withSslContext(SSLContext c) {
      return new Options(
          origin, connectTimeout, responseTimeout, streamTimeout, c, idle, token, cookie);
    }

    public Options withStreamTimeout(Duration d) {
      return new Options(
          origin, connectTimeout, responseTimeout, d, sslContext, idle, token, cookie);
    }

    public Options withResponseTimeout(Duration d) {
      return new Options(origin, connectTimeout, d, streamTimeout, sslContext, idle, token, cookie);
    }

    public Options withIdle(Duration d) {
      return new Options(
          origin, connectTimeout, responseTimeout, streamTimeout, sslContext, d, token, cookie);
    }

    public Options withToken(String t) {
      return new Options(
          origin, connectTimeout, responseTimeout, streamTimeout, sslContext, idle, t, cookie);
    }

    public Options withCookie(String c) {
      return new Options(
          origin, connectTimeout, responseTimeout, streamTimeout, sslContext, idle, token, c);
    }

    /**
     * Parses an idle time given on the command line: {@code 60s}, {@code 2m}, {@code 500ms}, or a
     * bare number of seconds.
     *
     * @throws IllegalArgumentException when it is not a duration between 0 and {@link #MAX_IDLE}
     */
    public static Duration parseIdle(String text) {
      String t = text.trim();
      Duration d;
      try {
        d = ConfigLoader.parseDuration(t.matches("\\d+") ? t + "s" : t);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "--idle needs a duration such as 60s or 2m (got '" + text + "')", e);
      }
      if (d.compareTo(MAX_IDLE) > 0) {
        throw new IllegalArgumentException(
            "--idle is at most " + MAX_IDLE.toHours() + " h (got '" + text + "')");
      }
      return d;
    }

    String originFor(Target t) {
      return origin != null ? origin : t.origin();
    }

    /** Never prints the credentials. */
    @Override
    public String toString() {
      return "Options[origin="
          + origin
          + ", connectTimeout="
          + connectTimeout
          + ", responseTimeout="
          + responseTimeout
          + ", streamTimeout="
          + streamTimeout
          + ", idle="
          + idle
          + ", token="
          + (token == null ? "none" : "(given)")
          + ", cookie="
          + (cookie == null ? "none" : "(given)")
          + "]";
    }
  }

  /** An answer to a request: its head and (up to 64 KiB of) its body. */
  record Answer(Head head, String body) {}

  /** The requests an {@link IdleCheck} makes, with the doctor's headers. */
  interface Http {
    /**
     * One request on a connection of its own; {@code body} is sent as text/plain when not null.
     * Throws {@link SocketTimeoutException} when no complete answer came within {@code waitMillis}.
     */
    Answer call(String method, String path, @Nullable String body, long waitMillis)
        throws IOException;

    /** The long-polling path (from {@code /connection/info}). */
    String pollPath();

    /** Ends a long-polling session (DELETE), ignoring any failure. */
    void endPoll(String session);
  }

  private final Target target;
  private final Options options;
  private final SecureRandom random = new SecureRandom();
  private final Requests requests = new Requests();
  private final IdleCheck idle;

  // Paths, possibly updated from /connection/info.
  private String wsPath = "/connection/websocket";
  private String ssePath = "/connection/sse";
  private String pollPath = "/connection/poll";

  /** Herald's timing, from /connection/info when it says. */
  private ServerTiming timing =
      new ServerTiming(
          ServerTiming.DEFAULT_HEARTBEAT_MILLIS, false, ServerTiming.DEFAULT_POLL_HOLD_MILLIS);

  /** The info answer's head: tells which proxy is in front when a later probe gets no answer. */
  private @Nullable Head infoHead; // once the info request was answered

  /** The upgrade was refused because the server runs with websocket.enabled=false. */
  private boolean websocketDisabled;

  /** A connection a probe handed to the idle check, and the answer that opened it. */
  private record Hold(CompletableFuture<IdleOutcome> outcome, Head opened) {}

  // Each set once its transport worked and is held idle.
  private @Nullable Hold wsHold;
  private @Nullable Hold sseHold;
  private @Nullable Hold pollHold;

  private Doctor(Target target, Options options) {
    this.target = target;
    this.options = options;
    this.idle = new IdleCheck(requests, options);
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
      ProbeResult ws = guard(WEBSOCKET, this::websocket);
      ProbeResult sse = guard(SSE, this::sse);
      ProbeResult poll = guard(LONG_POLLING, this::longPolling);
      Proxy named = proxyNamedByHolds();
      results.add(afterIdle(ws, wsHold, named));
      results.add(afterIdle(sse, sseHold, named));
      results.add(afterIdle(poll, pollHold, named));
    }
    return verdict(results, unreachable != null);
  }

  private Report verdict(List<ProbeResult> results, boolean unreachable) {
    ProbeResult ws = results.get(1);
    ProbeResult sse = results.get(2);
    ProbeResult poll = results.get(3);
    boolean warned = results.stream().anyMatch(r -> r.status() == Status.WARN);
    int exit;
    String verdict;
    if (ws.works()) {
      exit = 0;
      verdict =
          (ws.ok()
                  ? "WebSocket works: clients will use it."
                  : "WebSocket works, with the problem above: clients will use it.")
              + (sse.works() && poll.works()
                  ? " The fallbacks work too"
                      + (sse.ok() && poll.ok() ? "." : ", with the problems above.")
                  : " Clients whose network blocks WebSocket would need the fallbacks; fix what"
                      + " failed above.");
    } else if (sse.works() || poll.works()) {
      exit = 1;
      String via =
          sse.works() && poll.works()
              ? "Server-Sent Events (and long-polling)"
              : sse.works() ? "Server-Sent Events" : "long-polling";
      verdict =
          "Herald is reachable only through a fallback: clients will use "
              + via
              + (warned
                  ? " and stay live, but with the problems above and more overhead than WebSocket."
                  : " and stay live, with more overhead than WebSocket.")
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
          unreachable
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
    return new Report(target.display(), results, verdict + idleHint(results), exit);
  }

  /**
   * When the holds were shorter than Herald's heartbeat and nothing cut them: a proxy timeout
   * between the two would not have shown, so say how to check it.
   */
  private String idleHint(List<ProbeResult> results) {
    long held = options.idle().toMillis();
    boolean anyHeld = wsHold != null || sseHold != null || pollHold != null;
    boolean anyWarned = results.stream().anyMatch(r -> r.status() == Status.WARN);
    if (!anyHeld || anyWarned || Timing.outlasts(held, timing.heartbeatMillis())) {
      return "";
    }
    long suggest = (timing.heartbeatMillis() + 5_000 + 999) / 1000;
    return " Idle connections were held "
        + Timing.measured(held)
        + "; Herald pings every "
        + timing.heartbeat()
        + ": run with --idle "
        + suggest
        + "s"
        + (idle.connects() ? "" : " and --token or --cookie (so the sessions may stay)")
        + " to check that the proxies let such a pause pass.";
  }

  /**
   * The proxy that one of the holds' answers names (HAProxy names itself only in its error pages,
   * such as the 504 that ends a held poll), so the other holds' fixes can name it too.
   */
  private Proxy proxyNamedByHolds() {
    Proxy named = Proxy.UNKNOWN;
    for (Hold hold : new Hold[] {wsHold, sseHold, pollHold}) {
      if (hold != null) {
        IdleOutcome o = await(hold.outcome());
        if (o.answer() != null) {
          Proxy p = Explain.proxy(o.answer(), o.answerBody());
          named = p == Proxy.UNKNOWN ? named : p;
        }
      }
    }
    return named;
  }

  /**
   * Adds what the idle hold of a transport showed to its probe's result; {@code named} is the proxy
   * the holds' answers named, for a transport whose own answers name none.
   */
  private ProbeResult afterIdle(ProbeResult r, @Nullable Hold hold, Proxy named) {
    if (hold == null) {
      return r;
    }
    IdleOutcome o = await(hold.outcome());
    Proxy p = Explain.proxy(hold.opened());
    if (o.answer() != null) {
      Proxy answered = Explain.proxy(o.answer(), o.answerBody());
      p = answered == Proxy.UNKNOWN ? p : answered;
    }
    p = p == Proxy.UNKNOWN ? named : p;
    IdleVerdict v =
        Timing.idle(r.probe(), o, p, timing, options.idle().toMillis(), idle.connects());
    List<String> fixes = new ArrayList<>(r.fixes());
    fixes.addAll(v.fixes());
    Status status = v.problem() && r.status() == Status.OK ? Status.WARN : r.status();
    return new ProbeResult(r.probe(), status, r.finding() + " " + v.text(), fixes);
  }

  private IdleOutcome await(CompletableFuture<IdleOutcome> f) {
    // Every wait of a hold has its deadline; this bound only guards against a mistake.
    long bound = options.idle().toMillis() + 4 * options.responseTimeout().toMillis() + 5_000;
    try {
      return f.get(bound, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return IdleOutcome.refused(0, "interrupted");
    } catch (ExecutionException | TimeoutException e) {
      return IdleOutcome.refused(0, "the idle check failed: " + e);
    }
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
    Head h = x.head();
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
    Head h = x.head();
    infoHead = h;
    if (h.status() != 200) {
      return ProbeResult.fail(INFO, Explain.status(h, x.body, target, options, "The info request"));
    }
    JsonNode info = Messages.parse(x.body);
    if (!info.isObject() || !info.has("protocol")) {
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
    long heartbeat = info.path("heartbeat").path("intervalMs").asLong(0);
    long hold = info.path("longPolling").path("timeoutMs").asLong(0);
    timing =
        new ServerTiming(
            heartbeat > 0 ? heartbeat : timing.heartbeatMillis(),
            heartbeat > 0,
            hold > 0 ? hold : timing.pollHoldMillis());
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
    boolean handedOver = false;
    try {
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
            common(
                List.of(
                    h("Upgrade", "websocket"),
                    h("Connection", "Upgrade"),
                    h("Sec-WebSocket-Key", key),
                    h("Sec-WebSocket-Version", "13"),
                    h("Sec-WebSocket-Protocol", SUBPROTOCOL))),
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
      if (!WebSocketFrames.accept(key).equals(h.header("Sec-WebSocket-Accept"))) {
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
        w.write(WebSocketFrames.masked(WebSocketFrames.TEXT, Messages.PING_BYTES, random));
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
      long pongMs = ms(pingStart);
      if (options.idle().isZero()) {
        try {
          w.write(WebSocketFrames.close(random));
        } catch (IOException e) {
          // the result is known
        }
      } else {
        wsHold = new Hold(idle.webSocket(w, System.nanoTime()), h);
        handedOver = true;
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
              + pongMs
              + " ms.");
    } finally {
      if (!handedOver) {
        w.close();
      }
    }
  }

  /** Reads frames until a pong message; returns null then, or what went wrong instead. */
  private @Nullable String awaitPong(Wire w) throws IOException {
    while (true) {
      WebSocketFrames.Frame f;
      try {
        f = WebSocketFrames.read(w.input());
      } catch (java.io.EOFException e) {
        return "The upgrade succeeded but the connection was closed before the answer to a ping"
            + " came back: something in between ends WebSocket connections.";
      }
      if (f.opcode() == WebSocketFrames.CLOSE) {
        return "The upgrade succeeded but the server closed the WebSocket with code "
            + f.closeCode()
            + (f.closeReason().isEmpty() ? "" : " ('" + f.closeReason() + "')")
            + " before answering a ping.";
      }
      if (f.opcode() == WebSocketFrames.PING) {
        w.write(WebSocketFrames.masked(WebSocketFrames.PONG, f.payload(), random));
      } else if (f.opcode() == WebSocketFrames.TEXT && Messages.contains(f.text(), "pong")) {
        return null;
      }
    }
  }

  // ====================================================================== SSE

  private ProbeResult sse() throws Unreachable {
    long start = System.nanoTime();
    long wait = options.streamTimeout().toMillis();
    Wire w = open();
    boolean handedOver = false;
    try {
      w.deadlineIn(wait);
      Head h;
      try {
        w.request(
            "GET",
            target.path(ssePath),
            target,
            common(List.of(h("Accept", "text/event-stream"), h("Cache-Control", "no-cache"))),
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
      SseEvents events = new SseEvents(w.body(h));
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
        return ProbeResult.fail(SSE, Timing.streamLost(h, headMs, ms(start), timing));
      }
      long firstMs = ms(start);
      List<Long> lags = new ArrayList<>();
      List<Long> roundTrips = new ArrayList<>();
      for (int i = 0; i < EventDelay.SAMPLES; i++) {
        long sent = System.nanoTime();
        Finding sendFailure = sendPing(session, "The command POST of the SSE session");
        if (sendFailure != null) {
          return ProbeResult.fail(SSE, sendFailure);
        }
        long answered = System.nanoTime();
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
                      + " ms, but a small event after it (the answer to a ping sent by POST) did"
                      + " not arrive within "
                      + Explain.seconds(wait)
                      + ": something in between buffers the response (the first event got"
                      + " through thanks to its 2 KiB of padding)."));
        } catch (IOException e) {
          return ProbeResult.fail(
              SSE,
              new Finding(
                  "The stream ended before the answer to a ping came back ("
                      + e.getMessage()
                      + ").",
                  List.of("check the error logs of the proxy and of Herald")));
        }
        long arrived = System.nanoTime();
        lags.add(Math.max(0, (arrived - answered) / 1_000_000L));
        roundTrips.add((arrived - sent) / 1_000_000L);
      }
      EventDelay delay = new EventDelay(lags, roundTrips);
      if (!options.idle().isZero()) {
        sseHold = new Hold(idle.stream(w, events, session, System.nanoTime()), h);
        handedOver = true;
      }
      String opened =
          "Stream opened (200 text/event-stream)"
              + Explain.through(h)
              + "; the first event arrived after "
              + firstMs
              + " ms.";
      if (delay.delayed()) {
        return ProbeResult.warn(SSE, Timing.delayed(h, opened, delay));
      }
      String encoding = h.header("Content-Encoding");
      return ProbeResult.ok(
          SSE,
          opened
              + " The answers to "
              + delay.samples()
              + " commands sent by POST came back on the stream in "
              + delay.medianRoundTrip()
              + " ms, "
              + delay.medianLag()
              + " ms after each command's own answer (medians): events are not buffered."
              + (encoding == null
                  ? ""
                  : " Note: the stream is compressed (Content-Encoding: "
                      + encoding
                      + "), which makes some proxies buffer it."));
    } finally {
      if (!handedOver) {
        w.close();
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
    if (open.head().status() != 200) {
      return ProbeResult.fail(
          LONG_POLLING,
          Explain.status(open.head(), open.body, target, options, "The long-poll request"));
    }
    String session = Messages.parse(open.body).path("session").asText("");
    if (session.isEmpty()) {
      return ProbeResult.fail(
          LONG_POLLING,
          new Finding(
              "The long-poll request got 200 "
                  + (open.head().mediaType().isEmpty()
                      ? "(no content type)"
                      : open.head().mediaType())
                  + Explain.by(open.head())
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
    if (poll.head().status() != 200 || !poll.body.contains("\"type\":\"pong\"")) {
      if (poll.head().status() == 200 || poll.head().status() == 204) {
        return ProbeResult.fail(
            LONG_POLLING,
            new Finding(
                "The poll came back "
                    + poll.head().status()
                    + Explain.by(poll.head())
                    + " without the answer to the ping sent before it: the poll and the command"
                    + " did not reach the same session.",
                List.of("with several Herald nodes, use sticky sessions (docs/deployment.md)")));
      }
      return ProbeResult.fail(
          LONG_POLLING, Explain.status(poll.head(), poll.body, target, options, "The poll"));
    }
    long roundTrip = ms(start);
    String batch = poll.head().header("X-Herald-Batch");
    long ack = 0;
    try {
      ack = batch == null ? 0 : Long.parseLong(batch.trim());
    } catch (NumberFormatException e) {
      // polls again without acknowledging: the pong comes again, which does no harm
    }
    if (options.idle().isZero()) {
      requests.endPoll(session);
    } else {
      pollHold = new Hold(idle.polls(session, ack), open.head());
    }
    return ProbeResult.ok(
        LONG_POLLING,
        "Session opened"
            + Explain.through(open.head())
            + "; a command sent by POST was answered in the next poll after "
            + roundTrip
            + " ms.");
  }

  // ====================================================================== shared

  /** Sends a ping into a session; null when Herald took it (204). */
  private @Nullable Finding sendPing(String session, String what) throws Unreachable {
    Exchange x =
        exchange(
            "POST",
            "/connection/send/" + session,
            List.<String[]>of(h("Content-Type", "text/plain; charset=utf-8")),
            Messages.PING_BYTES);
    if (x.failure != null) {
      return x.failure;
    }
    if (x.head().status() != 204) {
      return Explain.status(x.head(), x.body, target, options, what);
    }
    return null;
  }

  /** A request and its complete answer, or why there is none. */
  private record Exchange(@Nullable Head answer, String body, @Nullable Finding failure) {
    /** The answer's head: there is one whenever there is no failure. */
    Head head() {
      return Objects.requireNonNull(answer, "an exchange without a failure has an answer");
    }
  }

  private Exchange exchange(
      String method, String path, List<String[]> headers, byte @Nullable [] body)
      throws Unreachable {
    long wait = options.responseTimeout().toMillis();
    try {
      Answer a = fetch(method, path, headers, body, wait);
      return new Exchange(a.head(), a.body(), null);
    } catch (IOException e) {
      return new Exchange(
          null, "", Explain.noAnswer(e, target, "The request " + method + " " + path, wait));
    }
  }

  /** One request on a connection of its own, with the doctor's headers; the answer within wait. */
  private Answer fetch(
      String method, String path, List<String[]> headers, byte @Nullable [] body, long waitMillis)
      throws IOException, Unreachable {
    Wire w = open();
    try (w) {
      List<String[]> all = new ArrayList<>(common(headers));
      all.add(h("Connection", "close"));
      w.deadlineIn(waitMillis);
      w.request(method, target.path(path), target, all, body);
      Head h = w.readHead();
      return new Answer(h, w.bodyText(h, 65_536));
    }
  }

  /**
   * {@code headers} plus those every request of the doctor carries (Origin, User-Agent, Cookie).
   */
  private List<String[]> common(List<String[]> headers) {
    List<String[]> all = new ArrayList<>(headers);
    all.add(h("Origin", options.originFor(target)));
    all.add(h("User-Agent", userAgent()));
    String cookie = options.cookie();
    if (cookie != null) {
      all.add(h("Cookie", cookie));
    }
    return all;
  }

  /** The requests of the idle holds. */
  private final class Requests implements Http {
    @Override
    public Answer call(String method, String path, @Nullable String body, long waitMillis)
        throws IOException {
      List<String[]> headers =
          body == null
              ? List.<String[]>of(h("Accept", "text/plain"))
              : List.<String[]>of(h("Content-Type", "text/plain; charset=utf-8"));
      try {
        return fetch(
            method,
            path,
            headers,
            body == null ? null : body.getBytes(StandardCharsets.UTF_8),
            Math.max(1, waitMillis));
      } catch (Unreachable u) {
        throw new IOException(u.finding.text());
      }
    }

    @Override
    public String pollPath() {
      return pollPath;
    }

    @Override
    public void endPoll(String session) {
      try {
        call("DELETE", pollPath + "/" + session, null, options.responseTimeout().toMillis());
      } catch (IOException e) {
        // the session expires by itself
      }
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

  static String userAgent() {
    String v = Doctor.class.getPackage().getImplementationVersion();
    return "herald-doctor/" + (v == null ? "dev" : v);
  }
}
