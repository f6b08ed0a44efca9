package dev.herald.server.config;

import dev.herald.server.http.TrustedProxies;
import java.util.List;

/**
 * Reverse proxies in front of the server ({@code server.trusted-proxies}): only requests whose TCP
 * peer is one of them have their {@code X-Forwarded-For} / {@code Forwarded} / {@code
 * X-Forwarded-Proto} headers believed. See {@link TrustedProxies}.
 *
 * @param trustedProxies IPv4/IPv6 addresses and CIDR blocks; empty trusts nobody
 */
public record ProxySettings(List<String> trustedProxies) {
  public ProxySettings {
    trustedProxies = List.copyOf(trustedProxies);
    TrustedProxies.parse(trustedProxies); // validates
  }

  public static ProxySettings none() {
    return new ProxySettings(List.of());
  }

  /** The resolver for these proxies. */
  public TrustedProxies resolver() {
    return TrustedProxies.parse(trustedProxies);
  }
}
