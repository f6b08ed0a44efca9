package dev.herald.app.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.admin.AdminAudit;
import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.LogCapture;
import dev.herald.app.testing.TestApp;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.Keys;

/**
 * The admin console in two real headless Chromium browsers: carol (admin) finds bob's live
 * connection with the keyboard, sees its channels by the app's names (the project's name,
 * "Notifications of Bob"), disconnects it, and bob's page shows that it is reconnecting, then is
 * live again without a reload. Every step carol takes is in the audit log.
 */
class AdminConsoleBrowserIT {
  private static final Path MODULE =
      Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
  private static final Path FAILURES = MODULE.resolve("target/browser-it");

  private TestApp app;
  private LogCapture audit;
  private final List<Browser> browsers = new ArrayList<>();

  @RegisterExtension
  final AfterTestExecutionCallback dumpOnFailure =
      ctx -> {
        if (ctx.getExecutionException().isPresent()) {
          browsers.forEach(b -> b.dump(FAILURES, ctx.getRequiredTestMethod().getName()));
        }
      };

  @BeforeEach
  void start() throws IOException {
    Map<String, String> config = TestApp.config(TestApp.Db.H2);
    try (ServerSocket s = new ServerSocket(0)) {
      config.put("server.port", String.valueOf(s.getLocalPort()));
    }
    config.put("server.host", "127.0.0.1");
    app = TestApp.start(TestApp.Db.H2, config, ContentPublisher.alwaysSucceeds());
    audit = LogCapture.of(AdminAudit.LOGGER);
  }

  @AfterEach
  void stop() {
    browsers.forEach(Browser::close);
    audit.close();
    app.close();
  }

  private Browser signedIn(String user, String hash) {
    Browser b = Browser.start(user, app.baseUrl());
    browsers.add(b);
    b.logIn();
    b.open(hash);
    return b;
  }

  @Test
  void anAdminFindsAUsersLiveConnectionSeesItsChannelsByNameAndDisconnectsIt() {
    ApiClient alice = app.login("alice");
    JsonNode project =
        alice
            .post("/api/projects", "{\"name\":\"Spring campaign\",\"members\":[\"bob\"]}")
            .expect(201)
            .json();
    long p = project.get("id").asLong();

    Browser bob = signedIn("bob", "#/projects/" + p);
    bob.waitFor("bob's project page", "document.querySelector('#project-title')");
    bob.markPage();
    // Every state the connection indicator passes through from here on (a reconnect after 4007
    // is fast: polling the indicator could miss it).
    bob.js(
        "window.__states = [];"
            + "const el = document.querySelector('#connection');"
            + "new MutationObserver(() => window.__states.push(el.dataset.state))"
            + ".observe(el, { attributes: true, attributeFilter: ['data-state'] });");

    Browser carol = signedIn("carol", "#/admin");
    carol.waitFor("the nodes table", "document.querySelector('#adm-node-list tr[data-node]')");
    // Keyboard only: Tab to the user field, type, Enter.
    carol.js("document.querySelector('a.skip').focus();");
    carol.tabTo("#adm-user", 20);
    carol.type("Bob");
    carol.press(Keys.ENTER);
    carol.waitFor(
        "bob's connection listed with its channels by name",
        "(() => { const rows = document.querySelectorAll('#adm-connections tr[data-connection]');"
            + " if (rows.length !== 1) return false;"
            + " const names = [...rows[0].querySelectorAll('button[data-channel]')]"
            + ".map((b) => b.textContent);"
            + " return names.includes('Spring campaign') && names.includes('Notifications of Bob'); })()");
    String connection =
        carol.text(
            "return document.querySelector('#adm-connections tr[data-connection]')"
                + ".dataset.connection;");
    assertThat(connection).startsWith("c-");
    assertThat(
            carol.text(
                "return document.querySelector('#adm-connections tr[data-connection]')"
                    + ".textContent;"))
        .contains("WebSocket")
        .contains(app.app().herald().config().hub().node())
        .doesNotContain("project:" + p + "Spring");
    assertThat(
            carol.text(
                "return document.querySelector(`#adm-connections button[data-channel='project:"
                    + p
                    + "']`).textContent;"))
        .isEqualTo("Spring campaign");

    // The channel opens in the channel view: bob is present there.
    carol.clickButton("#adm-connections", "Spring campaign");
    carol.waitFor(
        "the channel view with bob present",
        "document.querySelector('#adm-channel-title')?.textContent.startsWith('Spring campaign')"
            + " && document.querySelector('#adm-presence')?.textContent.includes('Bob')");

    carol.screenshot(MODULE.resolve("target/screenshots/admin-console.png"));

    // Disconnect with the keyboard.
    carol.js("document.querySelector('#adm-user').focus();");
    carol.tabTo("#adm-connections tr[data-connection] button.danger", 30);
    carol.press(Keys.ENTER);
    carol.waitFor(
        "the console says it disconnected the connection",
        "document.querySelector('#adm-user-status').textContent.includes(arguments[0])",
        "Disconnected " + connection);

    bob.waitFor(
        "bob's page showed it was reconnecting, then is live again",
        "window.__states.some((s) => s === 'reconnecting' || s === 'connecting')"
            + " && document.querySelector('#connection').dataset.state === 'live'");
    bob.assertNotReloaded();
    assertThat(bob.pageErrors()).isEmpty();
    assertThat(carol.pageErrors()).isEmpty();

    // The reconnected page is a new connection, which the console finds again.
    carol.waitFor(
        "bob's new connection listed",
        "(() => { document.querySelector('#adm-find button[type=submit]').click();"
            + " const rows = [...document.querySelectorAll('#adm-connections tr[data-connection]')];"
            + " return rows.length === 1 && rows[0].dataset.connection !== arguments[0]; })()",
        connection);

    List<JsonNode> lines = audit.lines();
    assertThat(lines)
        .anySatisfy(
            l -> {
              JsonNode kv = l.path("kvp");
              assertThat(kv.path("admin").asText()).isEqualTo("carol");
              assertThat(kv.path("action").asText()).isEqualTo("disconnect_connection");
              assertThat(kv.path("target").asText()).isEqualTo(connection);
              assertThat(kv.path("user").asText()).isEqualTo("bob");
              assertThat(kv.path("outcome").asText()).isEqualTo("ok");
            })
        .anySatisfy(
            l -> {
              assertThat(l.path("kvp").path("action").asText()).isEqualTo("find_connections");
              assertThat(l.path("kvp").path("target").asText()).isEqualTo("bob");
            })
        .anySatisfy(
            l -> assertThat(l.path("kvp").path("action").asText()).isEqualTo("view_channel"));
  }
}
