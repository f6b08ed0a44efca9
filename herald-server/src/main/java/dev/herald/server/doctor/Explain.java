package dev.herald.server.doctor;

import dev.herald.server.doctor.Wire.Head;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.cert.CertificateExpiredException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * Turns what the probes observed into plain words and fixes. Knows the usual suspects: proxies that
 * drop the hop-by-hop Upgrade and Connection headers, rewrite Host, buffer streamed responses, time
 * out, or point at the wrong place; and Herald's own refusals ({@code X-Herald-Error}).
 */
final class Explain {
  private Explain() {}

  /** The kind of server that answered, from {@code Server} and {@code Via}. */
  enum Proxy {
    NGINX,
    APACHE,
    HAPROXY,
    CLOUDFLARE,
    AWS,
    OTHER,
    /** No Server or Via header: Herald itself, or a proxy that does not announce itself. */
    UNKNOWN
  }

  /**
   * The proxy that sent an answer, also from its body: HAProxy names itself in no header, but its
   * own error pages are recognisable.
   */
  static Proxy proxy(Head h, String body) {
    Proxy p = proxy(h);
    if (p == Proxy.UNKNOWN && body != null && body.contains("The server didn't respond in time")) {
      return Proxy.HAPROXY;
    }
    return p;
  }

  static Proxy proxy(Head h) {
    if (h == null) {
      return Proxy.UNKNOWN;
    }
    String s = (nz(h.header("Server")) + " " + nz(h.header("Via"))).toLowerCase(Locale.ROOT);
    if (s.isBlank()) {
      return Proxy.UNKNOWN;
    }
    if (s.contains("nginx") || s.contains("openresty")) {
      return Proxy.NGINX;
    }
    if (s.contains("apache")) {
      return Proxy.APACHE;
    }
    if (s.contains("haproxy")) {
      return Proxy.HAPROXY;
    }
    if (s.contains("cloudflare")) {
      return Proxy.CLOUDFLARE;
    }
    if (s.contains("awselb") || s.contains("amazon")) {
      return Proxy.AWS;
    }
    return Proxy.OTHER;
  }

  /** " with 'Server: nginx/1.22'" or "" when the answer does not say who sent it. */
  static String by(Head h) {
    String server = h.header("Server");
    String via = h.header("Via");
    if (server != null && via != null) {
      return " with 'Server: " + server + "' and 'Via: " + via + "'";
    }
    if (server != null) {
      return " with 'Server: " + server + "'";
    }
    if (via != null) {
      return " with 'Via: " + via + "'";
    }
    return "";
  }

  /** " through 'Server: nginx/1.22'" or "", for answers that worked. */
  static String through(Head h) {
    String server = h.header("Server");
    String via = h.header("Via");
    if (server == null && via == null) {
      return "";
    }
    return " through '" + (server != null ? "Server: " + server : "Via: " + via) + "'";
  }

  // ====================================================================== connection-level

  /** The connection (TCP, TLS) could not be opened. */
  static Finding connect(IOException e, Target t, Doctor.Options o) {
    String where = t.connectHost() + ":" + t.port();
    if (e instanceof UnknownHostException) {
      return new Finding(
          "The host name '" + t.connectHost() + "' does not resolve (DNS lookup failed).",
          List.of("check the host name in the URL and its DNS record"),
          true);
    }
    if (e instanceof ConnectException
        && nz(e.getMessage()).toLowerCase(Locale.ROOT).contains("refused")) {
      return new Finding(
          "Connection refused at "
              + where
              + ": nothing listens there (Herald, or the proxy in front of it, is not running or"
              + " listens on another port or address).",
          List.of(
              "start Herald (or the proxy), or correct the port in the URL",
              "Herald listens on server.host, 127.0.0.1 by default: for connections from other"
                  + " machines or containers set server.host=0.0.0.0"),
          true);
    }
    if (e instanceof SocketTimeoutException || e instanceof NoRouteToHostException) {
      return new Finding(
          "No TCP connection to "
              + where
              + " within "
              + seconds(o.connectTimeout().toMillis())
              + ": a firewall drops the packets, or the host is down or unreachable.",
          List.of("open the port in the firewall or security group, and check the host is up"),
          true);
    }
    if (e instanceof SSLException || hasCause(e, SSLException.class)) {
      return tls(e, t);
    }
    return new Finding(
        "Cannot connect to " + where + ": " + describe(e) + ".",
        List.of("check the URL and the network path to the server"),
        true);
  }

  private static Finding tls(IOException e, Target t) {
    String m = allMessages(e).toLowerCase(Locale.ROOT);
    String where = t.connectHost() + ":" + t.port();
    if (hasCause(e, CertificateExpiredException.class) || m.contains("validity check failed")) {
      return new Finding(
          "TLS failed: the server's certificate has expired.",
          List.of("renew the certificate and reload the server that terminates TLS"),
          true);
    }
    if (m.contains("pkix path") || m.contains("unable to find valid certification path")) {
      return new Finding(
          "TLS failed: the server's certificate is not trusted (self-signed, issued by a private"
              + " CA, or the server does not send the intermediate certificates).",
          List.of(
              "serve the full certificate chain (nginx: ssl_certificate with the fullchain file)",
              "for a private CA: browsers need to trust it, and so does the doctor (it uses Java's"
                  + " trust store: java -Djavax.net.ssl.trustStore=FILE -jar herald.jar doctor ...)"),
          true);
    }
    if (m.contains("subject alternative") || m.contains("no name matching")) {
      return new Finding(
          "TLS failed: the server's certificate is not valid for '" + t.connectHost() + "'.",
          List.of(
              "use a certificate whose subjectAltName includes "
                  + t.connectHost()
                  + ", or the host name it was issued for (check server_name/SNI on the proxy)"),
          true);
    }
    if (m.contains("unrecognized ssl message")
        || m.contains("plaintext connection")
        || m.contains("unsupported or unrecognized")) {
      return new Finding(
          "TLS failed: " + where + " does not speak TLS (an https:// URL for a plain-HTTP port).",
          List.of("use http:// for this port, or the port where TLS is served (usually 443)"),
          true);
    }
    return new Finding(
        "TLS failed at " + where + ": " + describe(e) + ".",
        List.of(
            "check that the server offers TLS 1.2 or 1.3 and a certificate for this host name"
                + " (SNI)"),
        true);
  }

  /** The request went out but no complete answer came back. */
  static Finding noAnswer(IOException e, Target t, String what, long waitedMillis) {
    if (e instanceof SocketTimeoutException) {
      return new Finding(
          what
              + " got no answer within "
              + seconds(waitedMillis)
              + ": the server accepted the connection but did not respond.",
          List.of(
              "check the logs of the proxy and of Herald; a proxy whose upstream is unreachable"
                  + " waits for its own timeout before answering 504"));
    }
    if (e instanceof EOFException) {
      return new Finding(
          what
              + " got no answer: the connection was closed without one (a proxy, load balancer or"
              + " firewall dropped the request).",
          List.of("check the error log of the proxy in front of Herald"));
    }
    String m = nz(e.getMessage());
    if (m.startsWith("not an HTTP answer")) {
      if (!t.tls() && m.contains("\u0015\u0003")) {
        return new Finding(
            what + " got a TLS alert instead of HTTP: this port expects TLS.",
            List.of("use https:// for this port"),
            true);
      }
      return new Finding(
          what + " got something that is not HTTP (" + m + "): another service listens here.",
          List.of("check the port in the URL"),
          true);
    }
    if (e instanceof SocketException && m.toLowerCase(Locale.ROOT).contains("reset")) {
      return new Finding(
          what + " was answered with a connection reset (a proxy or firewall refused it).",
          List.of("check the proxy's error log and any firewall or WAF rules for /connection/"));
    }
    if (e instanceof SSLException) {
      return tls(e, t);
    }
    return new Finding(what + " failed: " + describe(e) + ".", List.of());
  }

  // ====================================================================== HTTP answers

  /** The WebSocket upgrade was answered with something else than 101. */
  static Finding upgradeRefused(Head h, String body, Target t, Doctor.Options o) {
    String error = h.heraldError();
    Proxy p = proxy(h);
    if ("upgrade-missing".equals(error)) {
      String through =
          p == Proxy.UNKNOWN
              ? "something in between (a proxy that does not name itself) drops them"
              : "the proxy in front of Herald" + by(h) + " does not forward them";
      return new Finding(
          "The upgrade request reached Herald without its Upgrade and Connection headers (400,"
              + " X-Herald-Error: upgrade-missing): "
              + through
              + ".",
          forwardUpgrade(p));
    }
    if (error == null && h.status() == 200) {
      return new Finding(
          "The upgrade request reached a server that answered 200 "
              + (h.mediaType().isEmpty() ? "(no content type)" : h.mediaType())
              + by(h)
              + " instead of 101 Switching Protocols: a proxy is not forwarding the Upgrade and"
              + " Connection headers (or serves a page of its own at this path).",
          forwardUpgrade(p));
    }
    if ("subprotocol-unsupported".equals(error)) {
      return new Finding(
          "Herald refused the offered subprotocol (400 subprotocol-unsupported): something in"
              + " between changed the Sec-WebSocket-Protocol header.",
          List.of("make the proxy pass Sec-WebSocket-Protocol unchanged"));
    }
    return status(h, body, t, o, "The upgrade request");
  }

  /** A refusal or unexpected answer of any probe; {@code what} starts the sentence. */
  static Finding status(Head h, String body, Target t, Doctor.Options o, String what) {
    String error = h.heraldError();
    Proxy p = proxy(h);
    int s = h.status();
    if (error != null) {
      return heraldRefusal(h, body, t, o, what, error, p);
    }
    String answered = what + " got " + s + " " + h.reason() + by(h);
    if (s >= 300 && s < 400) {
      String location = h.header("Location");
      return new Finding(
          answered
              + (location == null ? "" : " to " + location)
              + ": it is redirected, and clients do not follow redirects for WebSocket and"
              + " long-polling.",
          List.of(
              location == null
                  ? "give clients the final URL"
                  : "give clients (and the doctor) the URL the redirect points to"));
    }
    if (s == 400
        && body.toLowerCase(Locale.ROOT).contains("plain http request was sent to https")) {
      return new Finding(
          what + " got 400" + by(h) + ": the URL says http:// but the port expects TLS.",
          List.of("use https:// in the URL"),
          true);
    }
    if (s == 401 || s == 407) {
      return new Finding(
          answered
              + ", not from Herald (no X-Herald-Error): an authentication wall (basic auth, SSO"
              + " proxy) sits in front of Herald.",
          List.of(
              "exempt /connection/ from the authentication in front (Herald authenticates each"
                  + " connection itself, with the token or cookie in connect)"));
    }
    if (s == 403) {
      return new Finding(
          answered
              + ", not from Herald (no X-Herald-Error): a firewall, WAF or access rule in front"
              + " refuses it.",
          List.of(
              "allow /connection/ in the proxy's access rules and WAF (rules often block WebSocket"
                  + " upgrades and text/event-stream)"));
    }
    if (s == 404) {
      return new Finding(
          answered
              + " and no X-Herald-Error: "
              + t.path("/connection/")
              + " does not lead to Herald.",
          List.of(
              "route everything under /connection/ to Herald (nginx: location /connection/ {"
                  + " proxy_pass http://herald; ... }, see deploy/nginx/herald.conf)",
              "if Herald is mounted under a path prefix, put it in the URL given to the doctor"));
    }
    if (s == 405 || s == 501) {
      return new Finding(
          answered + ": the server that answered does not accept this request; it is not Herald.",
          List.of("route everything under /connection/ to Herald, for GET and POST"));
    }
    if (s == 429) {
      return new Finding(
          answered + ": a rate limit in front of Herald refused it.",
          List.of(
              "exempt /connection/ from request rate limits, or raise them (long-polling makes a"
                  + " request every few seconds per client)"));
    }
    if (s == 502) {
      return new Finding(
          answered
              + ": the proxy could not reach Herald (Herald is down, or the proxy points at"
              + " the wrong address or port).",
          List.of(
              "check that Herald runs and that the proxy's upstream address and port are right"
                  + " (nginx: proxy_pass / upstream)",
              "Herald listens on server.host, 127.0.0.1 by default: a proxy on another machine or in"
                  + " another container needs server.host=0.0.0.0"));
    }
    if (s == 503) {
      return new Finding(
          answered + ": the proxy has no healthy Herald behind it.",
          List.of("check the proxy's health checks and that Herald runs"));
    }
    if (s == 504) {
      return new Finding(
          answered + ": the proxy gave up waiting for Herald.",
          List.of(
              "check that the proxy's upstream address is right (a firewall that drops packets"
                  + " looks like this)",
              "the proxy's read timeout must be above longpoll.timeout (25 s) and"
                  + " heartbeat.interval (25 s); nginx: proxy_read_timeout 75s;"));
    }
    String first = firstLine(body);
    return new Finding(
        answered + (first.isEmpty() ? "" : " ('" + first + "'") + (first.isEmpty() ? "." : "')."),
        List.of("check the logs of the proxy and of Herald"));
  }

  private static Finding heraldRefusal(
      Head h, String body, Target t, Doctor.Options o, String what, String error, Proxy p) {
    String code = h.status() + " " + error;
    switch (error) {
      case "origin-not-allowed" -> {
        String origin = o.originFor(t);
        boolean own = origin.equals(t.origin());
        List<String> fixes = new ArrayList<>();
        if (own) {
          fixes.add(hostFix(p));
        }
        fixes.add(
            (own ? "or list" : "list")
                + " the origin in Herald's configuration: server.allowed-origins="
                + origin);
        return new Finding(
            "Herald refused the Origin '"
                + origin
                + "' ("
                + code
                + (p == Proxy.UNKNOWN ? "" : ", passed on by the proxy" + by(h))
                + "). "
                + (own
                    ? "That is this site's own origin, as a browser on it sends: Herald compares it"
                        + " with the Host header it receives, so a proxy in between rewrites Host"
                        + " (nginx does unless told otherwise)."
                    : "It is not this site's origin and not in server.allowed-origins."),
            fixes);
      }
      case "websocket-disabled", "sse-disabled", "longpoll-disabled" -> {
        String key =
            switch (error) {
              case "websocket-disabled" -> "websocket.enabled";
              case "sse-disabled" -> "sse.enabled";
              default -> "longpoll.enabled";
            };
        return new Finding(
            "The transport is disabled on the server ("
                + code
                + ", "
                + key
                + "=false): clients skip it and use the others.",
            List.of("set " + key + "=true if this transport should work"));
      }
      case "shutting-down" -> {
        return new Finding(
            "Herald is shutting down (" + code + "): run the doctor again once it has restarted.",
            List.of());
      }
      case "too-many-connections", "too-many-sessions" -> {
        boolean perAddress = error.equals("too-many-connections");
        return new Finding(
            "Herald refused a new session ("
                + code
                + "): "
                + (perAddress
                    ? "this address holds limits.connections-per-address sessions already."
                        + " Behind a reverse proxy every client has the proxy's address, so the"
                        + " limit counts all of them together."
                    : "this node holds limits.http-sessions SSE and long-polling sessions"
                        + " already."),
            List.of(
                perAddress
                    ? "behind a proxy, raise limits.connections-per-address (or set 0) and limit"
                        + " clients at the proxy; otherwise close connections this client left open"
                    : "raise limits.http-sessions, or add nodes"));
      }
      case "session-unknown" -> {
        return new Finding(
            what
                + " got "
                + code
                + ": the session opened a moment before is unknown, so this request reached"
                + " another Herald node than the one that opened it.",
            List.of(
                "with several Herald nodes, send all requests of a client to the same node until"
                    + " the cluster routes them (sticky sessions: nginx ip_hash or hash"
                    + " $remote_addr consistent; HAProxy balance source or a cookie), see"
                    + " docs/deployment.md"));
      }
      default -> {
        String first = firstLine(body);
        return new Finding(
            what + " was refused by Herald (" + code + (first.isEmpty() ? "" : ": " + first) + ").",
            List.of());
      }
    }
  }

  /** The SSE response arrived (or not) but its events did not, within the wait. */
  static Finding buffered(@Nullable Head h, String observed) {
    Proxy p = h == null ? Proxy.UNKNOWN : proxy(h);
    return new Finding(observed, unbuffer(p));
  }

  // ====================================================================== fixes

  static List<String> forwardUpgrade(Proxy p) {
    return switch (p) {
      case NGINX ->
          List.of(
              "for nginx, in the location that proxies to Herald: proxy_http_version 1.1;"
                  + " proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection"
                  + " \"upgrade\"; (tested example: deploy/nginx/herald.conf)");
      case APACHE ->
          List.of(
              "for Apache httpd 2.4.47+: ProxyPass /connection/ http://HERALD:8080/connection/"
                  + " upgrade=websocket (older versions: mod_proxy_wstunnel), see"
                  + " docs/deployment.md");
      case HAPROXY ->
          List.of(
              "HAProxy passes upgrades by itself in mode http: look for rules that remove Upgrade"
                  + " or Connection, and set timeout tunnel (docs/deployment.md)");
      case CLOUDFLARE -> List.of("Cloudflare: turn on WebSockets in the zone's Network settings");
      case AWS ->
          List.of(
              "AWS: an Application Load Balancer passes WebSocket; a Classic Load Balancer needs"
                  + " TCP/SSL listeners instead of HTTP/HTTPS");
      default ->
          List.of(
              "every proxy between browsers and Herald must forward the Upgrade and Connection"
                  + " headers (hop-by-hop headers are dropped unless configured) and talk HTTP/1.1"
                  + " to Herald; cloud load balancers need WebSocket support turned on"
                  + " (docs/deployment.md)");
    };
  }

  static List<String> unbuffer(Proxy p) {
    return switch (p) {
      case NGINX ->
          List.of(
              "for nginx: proxy_buffering off; in the location that proxies to Herald, and"
                  + " remove X-Accel-Buffering from proxy_ignore_headers (Herald sends"
                  + " X-Accel-Buffering: no, which nginx honours unless that directive lists it);"
                  + " no gzip for text/event-stream");
      case APACHE ->
          List.of(
              "for Apache httpd: flushpackets=on on the ProxyPass for /connection/, and no"
                  + " mod_deflate for text/event-stream");
      case HAPROXY ->
          List.of(
              "for HAProxy: option http-no-delay in the backend, and no compression for"
                  + " text/event-stream");
      default ->
          List.of(
              "turn off response buffering and compression for /connection/sse in every proxy,"
                  + " CDN and scanner in between (nginx: proxy_buffering off; HAProxy: option"
                  + " http-no-delay; Apache: flushpackets=on); until then clients fall back to"
                  + " long-polling");
    };
  }

  static String hostFix(Proxy p) {
    return switch (p) {
      case NGINX ->
          "for nginx: proxy_set_header Host $http_host; (by default nginx sends the upstream's"
              + " address as Host)";
      case APACHE -> "for Apache httpd: ProxyPreserveHost On";
      default -> "make the proxy pass the browser's Host header to Herald unchanged";
    };
  }

  // ====================================================================== helpers

  static String seconds(long millis) {
    return millis % 1000 == 0 ? (millis / 1000) + " s" : String.format("%.1f s", millis / 1000.0);
  }

  static String firstLine(String body) {
    if (body == null) {
      return "";
    }
    String b = body.strip();
    if (b.startsWith("<")) {
      String text = b.replaceAll("(?s)<[^>]*>", " ");
      return Wire.clip(text, 100);
    }
    int nl = b.indexOf('\n');
    return Wire.clip(nl < 0 ? b : b.substring(0, nl), 160);
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  private static String allMessages(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = e; c != null; c = c.getCause()) {
      b.append(c.getClass().getName()).append(": ").append(nz(c.getMessage())).append(" | ");
    }
    return b.toString();
  }

  private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }

  private static String nz(@Nullable String s) {
    return s == null ? "" : s;
  }
}
