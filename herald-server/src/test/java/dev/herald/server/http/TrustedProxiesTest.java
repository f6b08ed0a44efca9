package dev.herald.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrustedProxiesTest {
  private static final List<String> NONE = List.of();
  private final TrustedProxies proxies =
      TrustedProxies.parse(List.of("127.0.0.1", "10.0.0.0/8", "fd00::/8", "::1"));

  private String client(String peer, String xff) {
    return proxies.clientAddress(peer, xff == null ? NONE : List.of(xff), NONE);
  }

  @Test
  void headersFromAnUntrustedPeerAreIgnored() {
    assertThat(client("203.0.113.9", "198.51.100.1")).isEqualTo("203.0.113.9");
    assertThat(proxies.clientAddress("203.0.113.9", NONE, List.of("for=198.51.100.1")))
        .isEqualTo("203.0.113.9");
    assertThat(proxies.forwardedHttps("203.0.113.9", List.of("https"), NONE)).isFalse();
    assertThat(TrustedProxies.none().clientAddress("127.0.0.1", List.of("198.51.100.1"), NONE))
        .isEqualTo("127.0.0.1");
  }

  @Test
  void aTrustedPeerForwardsTheRightMostUntrustedHop() {
    assertThat(client("127.0.0.1", "198.51.100.1")).isEqualTo("198.51.100.1");
    // the client prepended a forged hop; the proxy appended the real one
    assertThat(client("127.0.0.1", "1.2.3.4, 198.51.100.1")).isEqualTo("198.51.100.1");
    // two proxies (10.1.2.3 is trusted by CIDR): the hop before them is the client
    assertThat(client("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3")).isEqualTo("198.51.100.1");
    // several header lines read as one list
    assertThat(
            proxies.clientAddress("127.0.0.1", List.of("6.6.6.6", "198.51.100.1, 10.9.9.9"), NONE))
        .isEqualTo("198.51.100.1");
    // without a header: the peer itself
    assertThat(client("10.0.0.5", null)).isEqualTo("10.0.0.5");
  }

  @Test
  void everyHopTrustedGivesTheLeftMostAndGarbageStopsTheWalk() {
    assertThat(client("127.0.0.1", "10.0.0.7, 10.0.0.8")).isEqualTo("10.0.0.7");
    assertThat(client("127.0.0.1", "evil.example, 10.0.0.8")).isEqualTo("10.0.0.8");
    assertThat(client("127.0.0.1", "unknown")).isEqualTo("127.0.0.1");
    assertThat(client("127.0.0.1", "")).isEqualTo("127.0.0.1");
    // an empty last hop (a trailing comma) is not an address either: nothing before it counts
    assertThat(client("127.0.0.1", "198.51.100.1,")).isEqualTo("127.0.0.1");
    assertThat(proxies.clientAddress("127.0.0.1", NONE, List.of("for=198.51.100.1,")))
        .isEqualTo("127.0.0.1");
    assertThat(proxies.forwardedHttps("127.0.0.1", List.of("https,"), NONE)).isFalse();
  }

  @Test
  void ipv6PeersHopsAndCidrs() {
    assertThat(client("fd12::1", "2001:db8::17")).isEqualTo("2001:db8:0:0:0:0:0:17");
    assertThat(client("0:0:0:0:0:0:0:1", "[2001:db8::17]:4711")).isEqualTo("2001:db8:0:0:0:0:0:17");
    assertThat(client("fe80::1", "198.51.100.1")).isEqualTo("fe80::1");
    // an IPv4-mapped IPv6 peer matches the IPv4 entry
    assertThat(client("::ffff:127.0.0.1", "198.51.100.1")).isEqualTo("198.51.100.1");
    assertThat(client("127.0.0.1", "198.51.100.1:5555")).isEqualTo("198.51.100.1");
    assertThat(proxies.trusts("10.255.255.255")).isTrue();
    assertThat(proxies.trusts("11.0.0.0")).isFalse();
    TrustedProxies narrow = TrustedProxies.parse("192.168.1.128/25");
    assertThat(narrow.trusts("192.168.1.200")).isTrue();
    assertThat(narrow.trusts("192.168.1.127")).isFalse();
    assertThat(TrustedProxies.parse("0.0.0.0/0").trusts("8.8.8.8")).isTrue();
  }

  @Test
  void forwardedHeaderIsReadWhenXForwardedForIsAbsent() {
    assertThat(
            proxies.clientAddress(
                "127.0.0.1",
                NONE,
                List.of("for=6.6.6.6, for=198.51.100.1;proto=https;by=10.0.0.1")))
        .isEqualTo("198.51.100.1");
    assertThat(
            proxies.clientAddress("127.0.0.1", NONE, List.of("For=\"[2001:db8:cafe::17]:4711\"")))
        .isEqualTo("2001:db8:cafe:0:0:0:0:17"); // normalised as Java prints addresses
    assertThat(proxies.clientAddress("127.0.0.1", NONE, List.of("for=_hidden")))
        .isEqualTo("127.0.0.1");
    // X-Forwarded-For wins when both are present
    assertThat(proxies.clientAddress("127.0.0.1", List.of("198.51.100.2"), List.of("for=1.1.1.1")))
        .isEqualTo("198.51.100.2");
  }

  @Test
  void schemeComesFromTheNearestTrustedProxy() {
    assertThat(proxies.forwardedHttps("127.0.0.1", List.of("https"), NONE)).isTrue();
    assertThat(proxies.forwardedHttps("127.0.0.1", List.of("HTTPS"), NONE)).isTrue();
    assertThat(proxies.forwardedHttps("127.0.0.1", List.of("https, http"), NONE)).isFalse();
    assertThat(proxies.forwardedHttps("127.0.0.1", NONE, List.of("for=1.2.3.4;proto=https")))
        .isTrue();
    assertThat(proxies.forwardedHttps("127.0.0.1", NONE, NONE)).isFalse();
  }

  @Test
  void invalidEntriesAreAllNamedAndNamesAreNeverResolved() {
    assertThatThrownBy(
            () ->
                TrustedProxies.parse(
                    List.of("localhost", "10.0.0.0/33", "1.2.3", "fd00::/129", "10.0.0.1/x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'localhost'")
        .hasMessageContaining("'10.0.0.0/33'")
        .hasMessageContaining("'1.2.3'")
        .hasMessageContaining("'fd00::/129'")
        .hasMessageContaining("'10.0.0.1/x'");
    assertThat(TrustedProxies.parse(" , ").isEmpty()).isTrue();
    assertThat(proxies.trusts("localhost")).isFalse();
  }
}
