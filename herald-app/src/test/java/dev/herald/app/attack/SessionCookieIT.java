package dev.herald.app.attack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.testing.TestApp;
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
 * {@code app.trusted-proxies}.
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
}
