package dev.herald.app.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.app.App;
import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.testing.TestApp;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.WindowType;

/**
 * The connection indicator and banner of the reference app in headless Chromium, and what the page
 * does when the user's session ends: logging out in one tab (or on the server) sends every other
 * tab to the login form instead of leaving a stale page with a retry that cannot work.
 */
class LiveIndicatorIT {
  private Map<String, String> config;
  private TestApp app;
  private final List<Browser> browsers = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    config = TestApp.config(TestApp.Db.H2);
    try (ServerSocket s = new ServerSocket(0)) {
      config.put("server.port", String.valueOf(s.getLocalPort()));
    }
    config.put("server.host", "127.0.0.1");
    // After the restart below the pages come back within a few seconds.
    config.put("shutdown.retry-min", "3s");
    config.put("shutdown.retry-max", "4s");
    app = TestApp.start(TestApp.Db.H2, config, ContentPublisher.alwaysSucceeds());
  }

  @AfterEach
  void stop() {
    for (Browser b : browsers) {
      b.close();
    }
    if (app != null) {
      app.close();
    }
  }

  private Browser signedIn(String user) {
    Browser b = Browser.start(user, app.baseUrl());
    browsers.add(b);
    b.logIn();
    return b;
  }

  @Test
  void loggingOutInOneTabSendsTheOtherTabsToTheLoginPage() {
    Browser alice = signedIn("alice");
    String first = alice.driver.getWindowHandle();
    alice.driver.switchTo().newWindow(WindowType.TAB);
    String second = alice.driver.getWindowHandle();
    alice.open("#/projects");
    alice.waitSignedIn(); // the same session cookie
    alice.waitLive();
    alice.markPage();

    alice.driver.switchTo().window(first);
    alice.click("#logout");
    alice.visible("#login-user");

    alice.driver.switchTo().window(second);
    alice.waitFor(
        "the login form in the other tab",
        "document.querySelector('#login-user') && location.hash === '#/login'"
            + " && document.querySelector('#session-controls').hidden"
            + " && document.querySelector('#banner').hidden");
    alice.assertNotReloaded();
  }

  @Test
  void aSessionEndedOnTheServerSendsThePageToTheLoginPage() {
    Browser alice = signedIn("alice");
    alice.markPage();
    // The session ends without this page's code taking part (another device logging out with the
    // same session, or an expiry): the server closes the live connection (4501), and the page
    // finds the session gone.
    alice.js(
        "fetch('/api/me').then((r) => r.json()).then((me) => fetch('/api/logout',"
            + " { method: 'POST', headers: { 'X-CSRF-Token': me.csrfToken,"
            + " 'Content-Type': 'application/json' }, body: '{}' }));");
    alice.waitFor(
        "the login form after the server ended the session",
        "document.querySelector('#login-user') && location.hash === '#/login'"
            + " && document.querySelector('#banner').hidden");
    alice.assertNotReloaded();
  }

  @Test
  void whileTheServerIsAwayTheBannerSpeaksPlainlyTicksAndKeepsDiagnosticsBehindDetails() {
    Browser bob = signedIn("bob");
    bob.markPage();
    app.close();
    app = null;
    bob.waitFor(
        "the banner in plain words with a countdown",
        "!document.querySelector('#banner').hidden"
            + " && document.querySelector('#banner .banner-message').textContent"
            + " === 'Connection lost — we are reconnecting; changes made meanwhile will appear.'"
            + " && /^Next try in \\d+ s\\.$/.test(document.querySelector('#banner .countdown').textContent)");
    String countdown = bob.text("return document.querySelector('#banner .countdown').textContent");
    bob.waitFor(
        "the countdown ticks",
        "document.querySelector('#banner .countdown').textContent !== arguments[0]",
        countdown);
    // Diagnostics only on request.
    assertThat(bob.text("return String(document.querySelector('#banner-details').hidden)"))
        .isEqualTo("true");
    bob.clickButton("#banner", "Details");
    bob.waitFor(
        "details shown",
        "!document.querySelector('#banner-details').hidden"
            + " && /Reason: /.test(document.querySelector('#banner-details').textContent)");
    // The indicator stays in view on a long page scrolled down.
    bob.js("document.body.style.minHeight = '6000px'; window.scrollTo(0, 5000);");
    bob.waitFor(
        "indicator and banner in view while scrolled",
        "window.scrollY > 1000"
            + " && document.querySelector('#connection').getBoundingClientRect().top >= 0"
            + " && document.querySelector('#connection').getBoundingClientRect().bottom"
            + " <= window.innerHeight"
            + " && document.querySelector('#banner').getBoundingClientRect().top >= 0");
    assertThat(bob.connectionState()).isNotEqualTo("live");

    app = TestApp.wrap(App.start(App.Options.of(config)), TestApp.Db.H2);
    bob.waitLive();
    bob.assertNotReloaded();
  }
}
