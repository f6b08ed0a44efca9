package dev.herald.server.http;

import dev.herald.core.hub.ConnectionContext;
import io.vertx.core.http.HttpServerRequest;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Which peers are reverse proxies whose forwarding headers are believed, and the client address and
 * scheme that follow from a request (setting {@code server.trusted-proxies}, also read by the
 * reference app).
 *
 * <p>When the TCP peer is not a trusted proxy, forwarding headers are ignored: the client is the
 * peer, and a client cannot pick the address it is counted under. When it is, the client is the
 * right-most {@code X-Forwarded-For} hop that is not itself a trusted proxy (each proxy appends the
 * address it received the request from, so hops to the right of the first untrusted one were
 * written by trusted proxies and everything to its left may be forged); without {@code
 * X-Forwarded-For} the {@code for=} parameters of {@code Forwarded} (RFC 7239) are read the same
 * way. A hop that is not an IP address (a forged value, {@code unknown}, an obfuscated name) ends
 * the walk: the last trusted address before it is used. The scheme comes from the nearest trusted
 * proxy: the last {@code X-Forwarded-Proto} value, else the last {@code proto=} of {@code
 * Forwarded}.
 *
 * <p>Entries are IPv4 or IPv6 addresses or CIDR blocks ({@code 10.0.0.0/8}, {@code fd00::/8}); host
 * names are refused (no DNS lookups). IPv4-mapped IPv6 peers ({@code ::ffff:10.1.2.3}) match IPv4
 * entries. Immutable and thread-safe.
 */
public final class TrustedProxies {
  private static final TrustedProxies NONE = new TrustedProxies(List.of(), List.of());
  // Handshake headers handed to the hub (and from there to the authenticator).
  private static final String[] CONTEXT_HEADERS = {
    "cookie", "user-agent", "origin", "x-forwarded-for", "x-real-ip"
  };

  private final List<byte[]> networks;
  private final List<Integer> prefixes;

  private TrustedProxies(List<byte[]> networks, List<Integer> prefixes) {
    this.networks = networks;
    this.prefixes = prefixes;
  }

  /** Trusts nobody: forwarding headers are always ignored. */
  public static TrustedProxies none() {
    return NONE;
  }

  /**
   * Parses addresses and CIDR blocks; blank entries are skipped.
   *
   * @throws IllegalArgumentException naming every entry that is not an IP address or CIDR block
   */
  public static TrustedProxies parse(List<String> entries) {
    List<byte[]> networks = new ArrayList<>();
    List<Integer> prefixes = new ArrayList<>();
    List<String> bad = new ArrayList<>();
    for (String raw : entries) {
      String e = raw.trim();
      if (e.isEmpty()) {
        continue;
      }
      int slash = e.indexOf('/');
      byte[] address = literal(slash < 0 ? e : e.substring(0, slash));
      int prefix = address == null ? -1 : address.length * 8;
      if (address != null && slash >= 0) {
        prefix = prefix(e.substring(slash + 1), address.length * 8);
      }
      if (address == null || prefix < 0) {
        bad.add("'" + e + "'");
        continue;
      }
      networks.add(address);
      prefixes.add(prefix);
    }
    if (!bad.isEmpty()) {
      throw new IllegalArgumentException(
          String.join(", ", bad)
              + " not an IP address or CIDR block such as 127.0.0.1, 10.0.0.0/8 or fd00::/8");
    }
    return networks.isEmpty() ? NONE : new TrustedProxies(List.copyOf(networks), prefixes);
  }

  /** Parses a comma-separated list, as found in a properties file. */
  public static TrustedProxies parse(String commaSeparated) {
    return parse(List.of(commaSeparated.split(",")));
  }

  public boolean isEmpty() {
    return networks.isEmpty();
  }

  /** Whether {@code address} (an IP literal) is one of the trusted proxies. */
  public boolean trusts(String address) {
    byte[] a = literal(address);
    if (a == null) {
      return false;
    }
    for (int i = 0; i < networks.size(); i++) {
      if (matches(networks.get(i), prefixes.get(i), a)) {
        return true;
      }
    }
    return false;
  }

  /** The address the request is counted under: see the class description. */
  public String clientAddress(HttpServerRequest req) {
    String peer = req.remoteAddress() == null ? "unknown" : req.remoteAddress().hostAddress();
    if (isEmpty()) {
      return peer;
    }
    return clientAddress(peer, req.headers().getAll("X-Forwarded-For"), forwarded(req));
  }

  /**
   * What a transport hands the hub for a new session: the handshake headers the authenticator may
   * read, and the client address every per-address limit counts.
   */
  public ConnectionContext connectionContext(HttpServerRequest req) {
    String peer = req.remoteAddress() == null ? "unknown" : req.remoteAddress().hostAddress();
    return connectionContext(peer, req.headers()::getAll);
  }

  /**
   * As {@link #connectionContext(HttpServerRequest)} for a request read outside Vert.x: the peer's
   * address and a lookup of every value of a header by name.
   */
  public ConnectionContext connectionContext(
      String peer, java.util.function.Function<String, List<String>> headerValues) {
    Map<String, String> headers = new HashMap<>();
    for (String h : CONTEXT_HEADERS) {
      List<String> v = headerValues.apply(h);
      if (v != null && !v.isEmpty()) {
        headers.put(h, v.get(0));
      }
    }
    String client =
        isEmpty()
            ? peer
            : clientAddress(
                peer, headerValues.apply("X-Forwarded-For"), headerValues.apply("Forwarded"));
    return new ConnectionContext(headers, client);
  }

  /**
   * The client address for a peer and the values of its {@code X-Forwarded-For} and {@code
   * Forwarded} header lines (in the order received).
   */
  public String clientAddress(String peer, List<String> xForwardedFor, List<String> forwarded) {
    if (!trusts(peer)) {
      return peer;
    }
    List<String> hops = new ArrayList<>();
    if (!xForwardedFor.isEmpty()) {
      for (String line : xForwardedFor) {
        for (String hop : line.split(",", -1)) {
          hops.add(hop.trim());
        }
      }
    } else {
      for (List<String[]> element : elements(forwarded)) {
        String forHop = param(element, "for");
        hops.add(forHop == null ? "" : forHop);
      }
    }
    String client = peer;
    for (int i = hops.size() - 1; i >= 0; i--) {
      String hop = hopAddress(hops.get(i));
      if (hop == null) {
        return client; // not an address: nothing left of it can be believed
      }
      client = hop;
      if (!trusts(hop)) {
        return hop;
      }
    }
    return client;
  }

  /**
   * Whether the client reached the server over TLS: the request came over TLS itself, or from a
   * trusted proxy saying {@code https}.
   */
  public boolean secure(HttpServerRequest req) {
    if (req.isSSL()) {
      return true;
    }
    String peer = req.remoteAddress() == null ? null : req.remoteAddress().hostAddress();
    return peer != null
        && !isEmpty()
        && forwardedHttps(peer, req.headers().getAll("X-Forwarded-Proto"), forwarded(req));
  }

  /** Whether a trusted peer's nearest forwarding header says the client used {@code https}. */
  public boolean forwardedHttps(String peer, List<String> xForwardedProto, List<String> forwarded) {
    if (!trusts(peer)) {
      return false;
    }
    String proto = null;
    if (!xForwardedProto.isEmpty()) {
      String[] values = xForwardedProto.get(xForwardedProto.size() - 1).split(",", -1);
      proto = values[values.length - 1].trim();
    } else {
      List<List<String[]>> elements = elements(forwarded);
      if (!elements.isEmpty()) {
        proto = param(elements.get(elements.size() - 1), "proto");
      }
    }
    return "https".equalsIgnoreCase(proto);
  }

  private static List<String> forwarded(HttpServerRequest req) {
    return req.headers().getAll("Forwarded");
  }

  // Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::17]:4711" -> elements of key=value
  // pairs. Quoted values here never contain commas or semicolons in practice (addresses, ports,
  // schemes); a value that does only yields a hop that is not an address.
  private static List<List<String[]>> elements(List<String> lines) {
    List<List<String[]>> out = new ArrayList<>();
    for (String line : lines) {
      for (String element : line.split(",", -1)) {
        List<String[]> pairs = new ArrayList<>();
        for (String pair : element.split(";", -1)) {
          int eq = pair.indexOf('=');
          if (eq > 0) {
            String value = pair.substring(eq + 1).trim();
            if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
              value = value.substring(1, value.length() - 1);
            }
            pairs.add(new String[] {pair.substring(0, eq).trim().toLowerCase(Locale.ROOT), value});
          }
        }
        out.add(pairs);
      }
    }
    return out;
  }

  private static @Nullable String param(List<String[]> element, String name) {
    for (String[] p : element) {
      if (p[0].equals(name)) {
        return p[1];
      }
    }
    return null;
  }

  /**
   * An IP literal from a hop: {@code 1.2.3.4}, {@code 1.2.3.4:80}, {@code [::1]:80}, {@code ::1}.
   */
  private static @Nullable String hopAddress(String hop) {
    String h = hop;
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      if (close < 0) {
        return null;
      }
      h = h.substring(1, close);
    } else if (h.indexOf(':') >= 0 && h.indexOf(':') == h.lastIndexOf(':')) {
      h = h.substring(0, h.indexOf(':')); // IPv4 with a port
    }
    byte[] a = literal(h);
    if (a == null) {
      return null;
    }
    try {
      return InetAddress.getByAddress(a).getHostAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /** The bytes of an IPv4 or IPv6 literal, or null; never resolves a name. */
  private static byte @Nullable [] literal(String s) {
    if (s.isEmpty() || s.length() > 45) {
      return null;
    }
    boolean v6 = s.indexOf(':') >= 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok =
          (c >= '0' && c <= '9')
              || c == '.'
              || (v6 && (c == ':' || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
      if (!ok) {
        return null;
      }
    }
    if (!v6 && !s.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      return null; // InetAddress would accept forms such as "10.1" or "167772161"
    }
    try {
      return InetAddress.getByName(s).getAddress(); // a literal: no lookup
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static int prefix(String s, int max) {
    if (!s.matches("\\d{1,3}")) {
      return -1;
    }
    int p = Integer.parseInt(s);
    return p <= max ? p : -1;
  }

  private static boolean matches(byte[] network, int prefix, byte[] address) {
    if (network.length != address.length) {
      return false;
    }
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (network[i] != address[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = 0xff << (8 - rest) & 0xff;
    return (network[full] & mask) == (address[full] & mask);
  }
}
