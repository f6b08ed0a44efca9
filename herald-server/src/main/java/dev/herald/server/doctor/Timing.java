package dev.herald.server.doctor;

import dev.herald.server.doctor.Explain.Proxy;
import dev.herald.server.doctor.Wire.Head;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Explains what time does to connections on the way: events held back (Nagle-like batching),
 * streams buffered and then cut by a read timeout, idle connections cut before Herald's next ping,
 * held long-polls cut before Herald's hold ends. Every explanation names the Herald setting
 * involved and the directive to change for nginx and HAProxy. Pure: the probes measure, this
 * decides.
 */
final class Timing {
  private Timing() {}

  /**
   * What the doctor knows of the server's timing.
   *
   * @param heartbeatMillis how often Herald pings a connected client ({@code heartbeat.interval})
   * @param heartbeatSaid whether the server said so (in {@code /connection/info}); otherwise it is
   *     the default
   * @param pollHoldMillis how long Herald holds a poll with nothing to deliver ({@code
   *     longpoll.timeout}, from {@code /connection/info})
   */
  record ServerTiming(long heartbeatMillis, boolean heartbeatSaid, long pollHoldMillis) {
    static final long DEFAULT_HEARTBEAT_MILLIS = 25_000;
    static final long DEFAULT_POLL_HOLD_MILLIS = 25_000;

    String heartbeat() {
      return measured(heartbeatMillis)
          + " (heartbeat.interval"
          + (heartbeatSaid ? "" : ", its default")
          + ")";
    }

    String pollHold() {
      return measured(pollHoldMillis) + " (longpoll.timeout)";
    }

    /** A proxy timeout that leaves room above both: 75 s, or three times the longer of them. */
    long recommendedProxySeconds() {
      long longest = Math.max(heartbeatMillis, pollHoldMillis);
      return Math.max(75, (3 * longest + 999) / 1000);
    }
  }

  /** A verdict on a hold: a problem (with fixes) or a sentence saying what held. */
  record IdleVerdict(boolean problem, String text, List<String> fixes) {
    IdleVerdict {
      fixes = List.copyOf(fixes);
    }
  }

  // ====================================================================== delayed events

  /** The stream's small events arrive late: {@code observed} says what was seen first. */
  static Finding delayed(Head h, String observed, EventDelay d) {
    Proxy p = Explain.proxy(h);
    return new Finding(
        observed
            + " But each small event after it came about "
            + d.medianLag()
            + " ms late (median of "
            + d.samples()
            + " events, each measured from the answer to the POST that caused it, which Herald"
            + " sends after the event; round trip "
            + d.medianRoundTrip()
            + " ms): something in between"
            + Explain.by(h)
            + " holds small writes back to merge them with later ones (Nagle-like batching;"
            + " HAProxy in mode http does this, about 200 ms per write, unless option"
            + " http-no-delay is set). Browsers on Server-Sent Events get every update that much"
            + " late.",
        noDelay(p));
  }

  static List<String> noDelay(Proxy p) {
    String haproxy =
        "for HAProxy: option http-no-delay in the backend that serves Herald (or in defaults)";
    String nginx =
        "for nginx: proxy_buffering off; in the location that proxies to Herald, and"
            + " tcp_nodelay on; (its default)";
    return switch (p) {
      case HAPROXY -> List.of(haproxy);
      case NGINX -> List.of(nginx);
      case APACHE -> List.of("for Apache httpd: flushpackets=on on the ProxyPass for /connection/");
      default ->
          List.of(
              haproxy,
              nginx,
              "any other proxy or load balancer: turn off response buffering and write coalescing"
                  + " (Nagle's algorithm; TCP_NODELAY on) for /connection/sse");
    };
  }

  // ====================================================================== buffered, then cut

  /**
   * The stream was answered but ended without any event: buffered (Herald's first event is sent at
   * once) and then cut, by a read timeout when it took long enough.
   */
  static Finding streamLost(Head h, long headMillis, long endMillis, ServerTiming t) {
    Proxy p = Explain.proxy(h);
    StringBuilder b =
        new StringBuilder("The stream was answered 200 text/event-stream")
            .append(Explain.by(h))
            .append(" after ")
            .append(headMillis)
            .append(" ms, but it ended ")
            .append(endMillis)
            .append(" ms after the request without delivering a single event, although Herald")
            .append(" sends its first event (2 KiB of padding and the session) at once: something")
            .append(" in between holds the response back (response buffering)");
    if (endMillis >= 1000) {
      b.append(" and cut it when Herald had been quiet for about ")
          .append(measured(endMillis))
          .append(" (a read timeout shorter than Herald's heartbeat.interval, ")
          .append(measured(t.heartbeatMillis()))
          .append(")");
    }
    b.append('.');
    if (p == Proxy.NGINX) {
      b.append(" nginx buffers it although Herald's answer says X-Accel-Buffering: no, so its")
          .append(" configuration ignores that header (proxy_ignore_headers X-Accel-Buffering).");
    }
    List<String> fixes = new ArrayList<>(Explain.unbuffer(p));
    if (endMillis >= 1000) {
      fixes.add(raiseTimeout(p, Doctor.SSE, t));
    } else {
      fixes.add("check the error log of the proxy in front of Herald");
    }
    return new Finding(b.toString(), fixes);
  }

  // ====================================================================== idle connections

  /**
   * The verdict on a connection held idle.
   *
   * @param transport {@link Doctor#WEBSOCKET}, {@link Doctor#SSE} or {@link Doctor#LONG_POLLING}
   * @param p the proxy that answered (for the directive to name)
   * @param connected whether the doctor's session connected (with the credentials given), so Herald
   *     pinged it as it pings every client
   */
  static IdleVerdict idle(
      String transport,
      IdleOutcome o,
      Proxy p,
      ServerTiming t,
      long idleMillis,
      boolean connected) {
    boolean polls = transport.equals(Doctor.LONG_POLLING);
    String what = transport.equals(Doctor.SSE) ? "the stream" : "it";
    return switch (o.end()) {
      case HELD -> new IdleVerdict(false, heldText(polls, what, o, t, idleMillis), List.of());
      case CLOSED ->
          new IdleVerdict(
              false,
              (polls ? "Held idle, the session" : "Held without traffic, " + what)
                  + " stayed open "
                  + measured(o.heldMillis())
                  + ", until Herald closed it ("
                  + o.closeCode()
                  + (o.closeReason().isEmpty() ? "" : " " + o.closeReason())
                  + ")"
                  + (o.closeCode() == 4004
                      ? ": without --token or --cookie the doctor's session does not connect, and"
                          + " Herald ends such a session after connect.timeout."
                      : "."),
              List.of());
      case REFUSED ->
          new IdleVerdict(
              false,
              "The idle check could not connect with the credentials given: " + o.detail() + ".",
              List.of(
                  "give the doctor a token or session cookie that Herald accepts, as a browser's"
                      + " (--token TOKEN or --cookie NAME=VALUE)"));
      case CUT -> polls ? pollCut(o, p, t, connected) : connectionCut(transport, what, o, p, t);
    };
  }

  private static String heldText(
      boolean polls, String what, IdleOutcome o, ServerTiming t, long idleMillis) {
    String pinged =
        o.pings() > 0 ? "; Herald's pings, every " + t.heartbeat() + ", kept it busy" : "";
    if (!polls) {
      return "Held without traffic, "
          + what
          + " stayed open "
          + measured(idleMillis)
          + pinged
          + ".";
    }
    if (o.emptyPolls() > 0) {
      return "Polls with nothing to deliver were held up to "
          + measured(o.longestEmptyPollMillis())
          + " and came back 204 when Herald's hold ended ("
          + measured(t.pollHoldMillis())
          + ", longpoll.timeout), as they should"
          + pinged
          + ".";
    }
    if (o.pings() > 0) {
      return "Held idle "
          + measured(idleMillis)
          + ", the session's polls were each answered by one of Herald's pings (every "
          + measured(t.heartbeatMillis())
          + ", heartbeat.interval) before anything in between cut them.";
    }
    return "A poll with nothing to deliver stayed open "
        + measured(idleMillis)
        + " without an answer, as it should: Herald holds it up to "
        + t.pollHold()
        + ".";
  }

  private static IdleVerdict connectionCut(
      String transport, String what, IdleOutcome o, Proxy p, ServerTiming t) {
    long cut = o.silentMillis();
    String seen =
        "Held without traffic, "
            + what
            + " was cut after "
            + measured(cut)
            + " ("
            + o.detail()
            + ", not closed by Herald): something in between ends connections that are quiet for"
            + " that long";
    if (outlasts(cut, t.heartbeatMillis())) {
      return new IdleVerdict(
          false,
          seen
              + "; connected clients are not affected: Herald pings them every "
              + t.heartbeat()
              + ", sooner than that.",
          List.of());
    }
    return new IdleVerdict(
        true,
        seen
            + ". Herald pings every "
            + t.heartbeat()
            + ", so clients on "
            + (transport.equals(Doctor.SSE) ? "Server-Sent Events" : "WebSocket")
            + " lose their connection whenever nothing else passes for "
            + measured(cut)
            + ", and reconnect (recovering what they missed).",
        List.of(
            raiseTimeout(p, transport, t),
            "or, if that timeout cannot be raised, lower heartbeat.interval below "
                + measured(cut)
                + " in Herald's configuration (e.g. heartbeat.interval="
                + survivingSeconds(cut)
                + "s)"));
  }

  private static IdleVerdict pollCut(IdleOutcome o, Proxy p, ServerTiming t, boolean connected) {
    long cut = o.silentMillis();
    Head answer = o.answer();
    String how =
        answer == null
            ? " (" + o.detail() + ")"
            : " with "
                + answer.status()
                + " "
                + answer.reason()
                + Explain.by(answer)
                + (answer.heraldError() == null
                    ? ""
                    : " (X-Herald-Error: " + answer.heraldError() + ")");
    String seen = "A poll with nothing to deliver was cut after " + measured(cut) + how;
    if (!connected && outlasts(cut, t.heartbeatMillis())) {
      return new IdleVerdict(
          false,
          seen
              + "; connected clients are not affected: their polls end sooner, at each of"
              + " Herald's pings (every "
              + t.heartbeat()
              + ").",
          List.of());
    }
    return new IdleVerdict(
        true,
        seen
            + ": Herald holds such a poll for up to "
            + t.pollHold()
            + (t.heartbeatMillis() < t.pollHoldMillis()
                ? ", or until its next ping to a connected client, every " + t.heartbeat() + ","
                : "")
            + " and then answers 204, but the proxy's read timeout is shorter. herald.js takes"
            + " the "
            + (answer == null ? "dropped poll" : String.valueOf(answer.status()))
            + " for a failure and opens a new session each time.",
        List.of(
            raiseTimeout(p, Doctor.LONG_POLLING, t),
            "or, if that timeout cannot be raised, lower longpoll.timeout below "
                + measured(cut)
                + " in Herald's configuration (e.g. longpoll.timeout="
                + survivingSeconds(cut)
                + "s)"));
  }

  /** The proxy directive that sets the timeout which cut {@code transport}'s connection. */
  static String raiseTimeout(Proxy p, String transport, ServerTiming t) {
    long s = t.recommendedProxySeconds();
    boolean ws = transport.equals(Doctor.WEBSOCKET);
    String above =
        ws || transport.equals(Doctor.SSE)
            ? "above heartbeat.interval, " + measured(t.heartbeatMillis())
            : "above longpoll.timeout, " + measured(t.pollHoldMillis());
    String nginx =
        "proxy_read_timeout "
            + s
            + "s; and proxy_send_timeout "
            + s
            + "s; in the location that"
            + " proxies to Herald";
    String haproxy =
        ws
            ? "timeout tunnel 1h (WebSocket connections after the upgrade)"
            : "timeout server " + s + "s and timeout client " + s + "s";
    return switch (p) {
      case NGINX ->
          "for nginx: "
              + nginx
              + " (nginx ends a proxied request, or an upgraded connection, after this long"
              + " without data from Herald; "
              + above
              + ")";
      case HAPROXY -> "for HAProxy: " + haproxy + " (" + above + ")";
      case APACHE -> "for Apache httpd: timeout=" + s + " on the ProxyPass for /connection/";
      default ->
          "raise the idle or read timeout of the proxy in between "
              + above
              + " (nginx: "
              + nginx
              + "; HAProxy: "
              + haproxy
              + "; load balancers: their idle timeout, see docs/deployment.md)";
    };
  }

  // ====================================================================== numbers

  /**
   * Whether a connection cut after {@code cutMillis} of silence outlasts a ping (or answer) every
   * {@code intervalMillis}, with a margin for the ping's way through the network.
   */
  static boolean outlasts(long cutMillis, long intervalMillis) {
    return cutMillis >= intervalMillis + Math.max(500, intervalMillis / 10);
  }

  /** A whole number of seconds safely below a timeout of {@code cutMillis}: two thirds of it. */
  static long survivingSeconds(long cutMillis) {
    return Math.max(1, cutMillis * 2 / 3 / 1000);
  }

  /** A measured time, "2.0 s". */
  static String measured(long millis) {
    return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
  }
}
