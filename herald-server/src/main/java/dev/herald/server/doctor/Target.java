package dev.herald.server.doctor;

import java.net.URI;
import java.util.Locale;

/**
 * The server the doctor examines, taken from the public URL a browser would use: scheme, host,
 * port, a path prefix (Herald may be mounted under a path by the proxy) and the origin a page of
 * that site would send.
 *
 * @param tls whether the URL is https (or wss)
 * @param host host name or address as written in the URL (IPv6 with brackets)
 * @param port port, the scheme's default when the URL has none
 * @param basePath path prefix without a trailing slash ("" for the root)
 */
record Target(boolean tls, String host, int port, String basePath) {
  static Target of(URI url) {
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    boolean tls =
        switch (scheme) {
          case "https", "wss" -> true;
          case "http", "ws" -> false;
          default ->
              throw new IllegalArgumentException(
                  "the URL must start with https:// or http:// (got '" + url + "')");
        };
    if (url.getHost() == null || url.getHost().isEmpty()) {
      throw new IllegalArgumentException("the URL has no host: '" + url + "'");
    }
    if (url.getRawUserInfo() != null) {
      throw new IllegalArgumentException("the URL must not contain credentials");
    }
    String path = url.getRawPath() == null ? "" : url.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    int port = url.getPort() >= 0 ? url.getPort() : tls ? 443 : 80;
    return new Target(tls, url.getHost(), port, path);
  }

  /** The host to connect to (IPv6 literals without brackets). */
  String connectHost() {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /** The Host header a browser sends: the port only when it is not the scheme's default. */
  String hostHeader() {
    return host + (port == (tls ? 443 : 80) ? "" : ":" + port);
  }

  /** The origin of a page on this site. */
  String origin() {
    return (tls ? "https" : "http") + "://" + hostHeader();
  }

  /** A path under the base path, e.g. {@code /connection/sse}. */
  String path(String path) {
    return basePath + path;
  }

  /** The URL of a path, for messages. */
  String url(String path) {
    return origin() + path(path);
  }

  /** The base URL as given, normalised. */
  String display() {
    return origin() + basePath + "/";
  }
}
