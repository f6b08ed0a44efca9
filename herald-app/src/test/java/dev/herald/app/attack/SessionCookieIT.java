package dev.herald.app.attack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.testing.TestApp;
import dev.herald.server.config.ConfigException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The session cookie's attributes: always HttpOnly and SameSite=Lax; Secure by {@code
 * app.session.cookie-secure}, where {@code auto} believes {@code X-Forwarded-Proto} only from
 * {@code server.trusted-proxies} (or its older name {@code app.trusted-proxies}); the login
 * throttle counts the forwarded client address from the same proxies.
 */
class SessionCookieIT {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private static TestApp start(Map<String, String> extra) {
    Map<String, String> cfg = TestApp.config(TestApp.Db.H2);
    cfg.putAll(extra);
    return TestApp.start(TestApp.Db.H2, cfg, ContentPublisher.alwaysSucceeds());
  }

  /** Logs alice in, optionally claiming HTTPS through X-Forwarded-Proto; returns Set-Cookie. */
  private static String loginCookie(TestApp app, boolean forwardedHttps) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(app.baseUrl() + "/api/login"))
            .timeout(Duration.ofSeconds(20))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"username\":\"alice\",\"password\":\"pw-alice\"}"));
    if (forwardedHttps) {
      b.header("X-Forwarded-Proto", "https");
    }
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    String cookie =
        r.headers().allValues("Set-Cookie").stream()
            .filter(c -> c.startsWith("herald_session="))
            .findFirst()
            .orElseThrow();
    assertThat(cookie).containsIgnoringCase("HttpOnly").contains("SameSite=Lax");
    // The device cookie follows the same Secure rule.
    String device =
        r.headers().allValues("Set-Cookie").stream()
            .filter(c -> c.startsWith("herald_device="))
            .findFirst()
            .orElseThrow();
    assertThat(device)
        .containsIgnoringCase("HttpOnly")
        .contains("SameSite=Strict")
        .contains("Path=/api/login");
    assertThat(device.contains("; Secure")).isEqualTo(cookie.contains("; Secure"));
    return cookie;
  }

  @Test
  void autoTrustsForwardedProtoOnlyFromConfiguredProxies() throws Exception {
    try (TestApp direct = start(Map.of())) {
      assertThat(loginCookie(direct, false)).doesNotContain("Secure");
      assertThat(loginCookie(direct, true))
          .as("spoofed header from a client")
          .doesNotContain("Secure");
    }
    try (TestApp behindProxy = start(Map.of("app.trusted-proxies", "127.0.0.1"))) {
      assertThat(loginCookie(behindProxy, false)).doesNotContain("Secure");
      assertThat(loginCookie(behindProxy, true)).contains("Secure");
    }
  }

  @Test
  void alwaysAndNeverOverrideTheRequest() throws Exception {
    try (TestApp always = start(Map.of("app.session.cookie-secure", "always"))) {
      assertThat(loginCookie(always, false)).contains("Secure");
    }
    try (TestApp never =
        start(Map.of("app.session.cookie-secure", "never", "app.trusted-proxies", "127.0.0.1"))) {
      assertThat(loginCookie(never, true)).doesNotContain("Secure");
    }
  }

  private static int failedLogin(TestApp app, String user, String forwardedFor) throws Exception {
    HttpRequest r =
        HttpRequest.newBuilder(URI.create(app.baseUrl() + "/api/login"))
            .timeout(Duration.ofSeconds(20))
            .header("Content-Type", "application/json")
            .header("X-Forwarded-For", forwardedFor)
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"username\":\"" + user + "\",\"password\":\"wrong\"}"))
            .build();
    return HTTP.send(r, HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @Test
  void serverTrustedProxiesGovernTheCookieAndTheThrottlesClientAddress() throws Exception {
    try (TestApp behindProxy =
        start(
            Map.of(
                "server.trusted-proxies", "127.0.0.0/8",
                "app.login.max-failures-per-address", "3"))) {
      assertThat(loginCookie(behindProxy, true)).contains("Secure");
      for (int i = 0; i < 3; i++) {
        assertThat(failedLogin(behindProxy, "nobody-" + i, "198.51.100.1")).isEqualTo(401);
      }
      assertThat(failedLogin(behindProxy, "nobody-x", "198.51.100.1")).isEqualTo(429);
      // another client behind the same proxy is not held back by the first one's failures
      assertThat(failedLogin(behindProxy, "nobody-x", "198.51.100.2")).isEqualTo(401);
    }
  }

  @Test
  void anInvalidTrustedProxyIsAConfigurationError() {
    assertThat(
            org.assertj.core.api.Assertions.catchThrowableOfType(
                ConfigException.class,
                () -> start(Map.of("app.trusted-proxies", "proxy.internal"))))
        .hasMessageContaining("app.trusted-proxies: 'proxy.internal' not an IP address");
  }
}
