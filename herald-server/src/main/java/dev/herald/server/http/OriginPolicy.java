package dev.herald.server.http;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides whether a browser request from an {@code Origin} may open a connection. Same-origin
 * requests (Origin's host and port equal the Host header) are always allowed; other origins only
 * when listed, or when the list contains {@code *}. Requests without an Origin header come from
 * non-browser clients, which cannot be driven by a hostile page, and are allowed.
 */
public final class OriginPolicy {
  private final boolean any;
  private final Set<String> allowed;

  public OriginPolicy(List<String> allowedOrigins) {
    this.any = allowedOrigins.contains("*");
    this.allowed = allowedOrigins.stream().map(OriginPolicy::normalize).collect(Collectors.toSet());
  }

  public boolean allows(String origin, String host) {
    if (origin == null || any) {
      return true;
    }
    String o = normalize(origin);
    if (allowed.contains(o)) {
      return true;
    }
    if (host == null || o.equals("null")) {
      return false;
    }
    try {
      URI uri = URI.create(o);
      String authority = uri.getRawAuthority();
      if (authority == null) {
        return false;
      }
      return withDefaultPort(authority, uri.getScheme())
          .equals(withDefaultPort(host.toLowerCase(Locale.ROOT), uri.getScheme()));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static String withDefaultPort(String authority, String scheme) {
    if (authority.lastIndexOf(':') > authority.lastIndexOf(']')) {
      return authority;
    }
    return authority + (":https".equals(":" + scheme) ? ":443" : ":80");
  }

  private static String normalize(String origin) {
    String o = origin.trim().toLowerCase(Locale.ROOT);
    return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
  }
}
