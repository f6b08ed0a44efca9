package dev.herald.app.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.App;
import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.TestApp;
import dev.herald.app.users.Role;
import dev.herald.server.it.RawClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.Keys;

/**
 * End-to-end tests of the reference app's UI in real headless Chromium (issue 5, point 5): two
 * users, alice and bob, each in their own browser, work on the same project. Everything either of
 * them (or the REST API) changes must appear in the other's page without a reload; the server
 * restarts and both pages recover by themselves.
 *
 * <p>The tests run in order and share the two browsers, like one working session. The app runs on
 * H2 (the database matrix is covered by the API tests) on a fixed free port, so it can be restarted
 * on the same port and database. Screenshots of the key screens go to {@code target/screenshots}
 * (or, with {@code -Dherald.screenshots=docs/screenshots}, to those linked from the README); on a
 * failure, screenshots, HTML and console logs of both browsers go to {@code target/browser-it}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BrowserIT {
  private static final Path MODULE =
      Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
  // target/screenshots by default; -Dherald.screenshots=docs/screenshots refreshes the README's.
  private static final Path SCREENSHOTS =
      MODULE
          .resolve(
              System.getProperty("herald.screenshots") == null
                  ? "target/screenshots"
                  : "../" + System.getProperty("herald.screenshots"))
          .normalize();
  private static final Path FAILURES = MODULE.resolve("target/browser-it");
  private static final String EVIL_NAME =
      "<img src=x onerror=window.__xss=5>Mal<script>window.__xss=6</script>";

  private Map<String, String> config;
  private TestApp app;
  private ApiClient aliceApi;
  private Browser alice;
  private Browser bob;
  private long projectId;
  private long homeId;
  private long bannerId;

  /** Set by the first failure: the later steps build on the earlier ones, so they are skipped. */
  private String failed;

  @RegisterExtension
  final AfterTestExecutionCallback dumpOnFailure =
      ctx -> {
        if (ctx.getExecutionException().isPresent()) {
          if (failed == null) {
            failed = ctx.getRequiredTestMethod().getName();
          }
          String name = ctx.getRequiredTestMethod().getName();
          for (Browser b : new Browser[] {alice, bob}) {
            if (b != null) {
              b.dump(FAILURES, name);
            }
          }
        }
      };

  @BeforeAll
  void start() throws IOException {
    config = TestApp.config(TestApp.Db.H2);
    try (ServerSocket s = new ServerSocket(0)) {
      config.put("server.port", String.valueOf(s.getLocalPort()));
    }
    config.put("server.host", "127.0.0.1");
    // At shutdown the server tells clients to come back after 8 to 9 s: the restart is done by
    // then, so a change made right after it is certainly made before the pages reconnect.
    config.put("shutdown.retry-min", "8s");
    config.put("shutdown.retry-max", "9s");
    app = TestApp.start(TestApp.Db.H2, config, ContentPublisher.alwaysSucceeds());
    // A user whose display name is markup that would run script (checked in test 6).
    app.app().users().create("mal", EVIL_NAME, Role.EDITOR, "pw-mal");
    aliceApi = app.login("alice");
    JsonNode p =
        aliceApi
            .post(
                "/api/projects",
                "{\"name\":\"Spring sale\",\"description\":\"Landing page and banners\","
                    + "\"members\":[\"bob\",\"dave\"]}")
            .expect(201)
            .json();
    projectId = p.get("id").asLong();
    homeId = addItem("page/12", 3, "Home page", "page");
    bannerId = addItem("media/7", 1, "Hero banner", "media");
    alice = Browser.start("alice", app.baseUrl());
    bob = Browser.start("bob", app.baseUrl());
  }

  @BeforeEach
  void skipAfterAFailure() {
    assumeTrue(failed == null, "skipped: it builds on " + failed + ", which failed");
  }

  @AfterAll
  void stop() {
    Browser.closeAll(alice, bob, app);
  }

  private long addItem(String ref, int version, String title, String type) {
    return aliceApi
        .post(
            "/api/projects/" + projectId + "/items",
            "{\"contentRef\":\""
                + ref
                + "\",\"contentVersion\":"
                + version
                + ",\"title\":\""
                + title
                + "\",\"type\":\""
                + type
                + "\"}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  private void comment(String message) {
    aliceApi
        .post("/api/projects/" + projectId + "/activities", "{\"message\":\"" + message + "\"}")
        .expect(201);
  }

  private Path shot(String name) {
    return SCREENSHOTS.resolve(name + ".png");
  }

  private static String projectLink(long id) {
    return "#main a.project-name[href='#/projects/" + id + "']";
  }

  private void waitProjectLoaded(Browser b) {
    b.waitFor(
        "project page loaded",
        "document.querySelector('#project-title')"
            + " && document.querySelectorAll('table.items tbody tr').length >= 2");
  }

  // ------------------------------------------------------------------ 1. log in, open

  @Test
  @Order(1)
  void bothLogInThroughTheFormAndOpenTheSameProject() {
    // alice uses only the keyboard: the form is reachable with Tab from the top of the page.
    alice.open("");
    alice.visible("#login-user");
    alice.screenshot(shot("login"));
    // The user name field has the focus on arrival, and is the first stop after the header.
    assertThat(alice.focused()).startsWith("input#login-user");
    alice.js("document.querySelector('a.skip').focus();");
    alice.tabTo("#login-user", 3);
    alice.type("alice");
    alice.press(Keys.TAB);
    assertThat(alice.focused()).startsWith("input#login-password");
    alice.type("pw-alice");
    alice.press(Keys.TAB);
    assertThat(alice.focused()).startsWith("button").contains("Log in");
    alice.press(Keys.ENTER);
    alice.visible(projectLink(projectId));
    alice.markPage();
    alice.waitLive();
    assertThat(alice.text("return document.querySelector('#me').textContent")).isEqualTo("Alice");
    alice.screenshot(shot("projects"));

    // bob first mistypes his password: a message, and the form stays usable.
    bob.open("");
    bob.submitLogin("wrong");
    bob.waitFor(
        "login error shown",
        "document.querySelector('form.login .error:not([hidden])')"
            + "?.textContent.includes('Wrong user name or password')");
    bob.find("#login-password").clear();
    bob.find("#login-password").sendKeys("pw-bob", Keys.ENTER);
    bob.waitSignedIn();
    bob.visible(projectLink(projectId));
    bob.markPage();
    bob.waitLive();
  }

  // ------------------------------------------------------------------ 2. presence

  @Test
  @Order(2)
  void presenceShowsWhoIsHereAndWhoEditsWhichItem() {
    alice.click(projectLink(projectId));
    bob.click(projectLink(projectId));
    waitProjectLoaded(alice);
    waitProjectLoaded(bob);
    alice.waitFor(
        "bob under 'Also here'",
        "document.querySelector('.presence')?.textContent.includes('Also here')"
            + " && document.querySelector(\".presence li.person[data-user='bob']\")");
    bob.waitFor(
        "alice under 'Also here'",
        "document.querySelector(\".presence li.person[data-user='alice']\")");
    assertThat(alice.text("return document.querySelector('.presence').textContent"))
        .contains("Bob")
        .doesNotContain("editing");

    // bob tabs from the Home page row into the Hero banner row.
    bob.js(
        "[...document.querySelectorAll(`tr[data-item='${arguments[0]}'] button`)].pop().focus();",
        homeId);
    alice.waitFor(
        "'editing Home page' next to bob",
        "document.querySelector(\".presence li.person[data-user='bob']\")"
            + "?.textContent.includes('editing Home page')");
    bob.press(Keys.TAB);
    assertThat(bob.focused()).isEqualTo("button \"Mark ready\"");
    alice.waitFor(
        "'editing Hero banner' next to bob",
        "document.querySelector(\".presence li.person[data-user='bob']\")"
            + "?.textContent.includes('editing Hero banner')"
            + " && !document.querySelector('.presence').textContent.includes('Home page')"
            + " && document.querySelector(`tr[data-item='${arguments[0]}']`)"
            + ".classList.contains('being-edited')",
        bannerId);
    alice.screenshot(shot("project-presence"));

    // Focus leaves the row: the 'editing' note goes away.
    bob.js("document.activeElement.blur();");
    alice.waitFor(
        "bob no longer editing",
        "!document.querySelector(\".presence li.person[data-user='bob']\")"
            + "?.textContent.includes('editing')");
  }

  // ------------------------------------------------------------------ 3. mention, bell

  @Test
  @Order(3)
  void aMentionReachesTheOtherPageAndTheBell() {
    int before = bob.badge();
    alice.click("#comment-text");
    alice.type("Please check the headline copy, @bo");
    alice.waitFor(
        "mention suggestions with bob",
        "[...document.querySelectorAll('.mention-list:not([hidden]) [role=option]')]"
            + ".some((o) => o.textContent.includes('@bob'))");
    // Down/up arrows move through the suggestions; Enter picks the active one.
    alice.press(Keys.ENTER);
    alice.type("thanks!");
    assertThat(alice.text("return document.querySelector('#comment-text').value"))
        .isEqualTo("Please check the headline copy, @bob thanks!");
    alice.clickButton(".comment-form", "Post comment");
    alice.waitFor(
        "comment box emptied after posting",
        "document.querySelector('#comment-text').value === ''");

    bob.waitForEntry("Please check the headline copy");
    String entry = bob.entrySelector("Please check the headline copy");
    assertThat(
            bob.text(
                "return document.querySelector(arguments[0] + ' .mention').textContent", entry))
        .isEqualTo("Bob");
    bob.waitBadge(before + 1);
    bob.assertNotReloaded();
    bob.screenshot(shot("comment-mention"));

    // bob starts a comment of his own, then opens the bell: the panel lists the notification.
    bob.click("#comment-text");
    bob.type("Draft: the headline is fine by me");
    bob.js("window.scrollTo(0, 0);");
    bob.click("#bell");
    bob.waitFor("panel open", "!document.querySelector('#notifications').hidden");
    bob.waitFor(
        "mention notification listed",
        "[...document.querySelectorAll('#notification-list li.unread')]"
            + ".some((li) => li.textContent.includes('Alice mentioned you in Spring sale'))");
    assertThat(bob.text("return document.querySelector('#bell').getAttribute('aria-expanded')"))
        .isEqualTo("true");
    bob.screenshot(shot("bell-panel"));

    // Following its link marks it read, closes the panel and shows the comment, on the same
    // page: the draft is still there.
    bob.click("#notification-list li.unread a");
    bob.waitBadge(before);
    bob.waitFor(
        "panel closed after following the link", "document.querySelector('#notifications').hidden");
    bob.waitFor(
        "the link's comment in view",
        "location.hash === `#/projects/${arguments[0]}${arguments[1]}`"
            + " && (() => { const r = document.querySelector(arguments[1])"
            + ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()",
        projectId,
        entry);
    assertThat(bob.text("return document.querySelector('#comment-text').value"))
        .isEqualTo("Draft: the headline is fine by me");
    bob.assertNotReloaded();
    bob.js("document.querySelector('#comment-text').value = ''; window.scrollTo(0, 0);");

    // A second mention: 'Mark read' lowers the badge.
    comment("@bob one more thing: the banner alt text");
    bob.waitBadge(before + 1);
    bob.click("#bell");
    bob.waitFor(
        "second notification listed",
        "[...document.querySelectorAll('#notification-list li.unread')]"
            + ".some((li) => li.textContent.includes('alt text'))");
    bob.clickButton("#notification-list li.unread", "Mark read");
    bob.waitBadge(before);
    bob.waitFor(
        "that notification no longer unread",
        "![...document.querySelectorAll('#notification-list li.unread')]"
            + ".some((li) => li.textContent.includes('alt text'))");

    // A third arrives while the panel is open; 'Mark all as read' clears the badge.
    comment("@bob and the price tag on the banner");
    bob.waitBadge(before + 1);
    bob.waitFor(
        "third notification listed live",
        "[...document.querySelectorAll('#notification-list li.unread')]"
            + ".some((li) => li.textContent.includes('price tag'))");
    bob.click("#read-all");
    bob.waitBadge(0);
    bob.waitFor(
        "all listed notifications read",
        "document.querySelectorAll('#notification-list li.unread').length === 0");
    bob.press(Keys.ESCAPE);
    bob.waitFor("panel closed", "document.querySelector('#notifications').hidden");
  }

  // ------------------------------------------------------------------ 4. status, publish

  @Test
  @Order(4)
  void statusChangesAndPublishingShowUpInTheOtherPage() {
    alice.clickButton("tr[data-item='" + homeId + "']", "Mark ready");
    bob.waitItemStatus(homeId, "ready");
    assertThat(
            bob.text(
                "return document.querySelector(`tr[data-item='${arguments[0]}']`).textContent",
                homeId))
        .contains("Ready to publish")
        .contains("Alice");
    bob.waitFor(
        "counts: 1 ready",
        "document.querySelector('.project-header .counts').textContent.includes('1 ready')");

    alice.click("#publish");
    alice.clickButton("dialog.ask[open]", "Publish"); // the confirmation (EditorsIT tests it)
    bob.waitItemStatus(homeId, "published");
    bob.waitFor(
        "project header: 1 published, active",
        "document.querySelector('.project-header .counts').textContent.includes('1 published')"
            + " && document.querySelector('#project-title .status').dataset.status === 'active'");
    bob.waitForEntry("Alice published 1 item");
    // A published item cannot be marked ready, rejected or removed any more.
    assertThat(
            bob.js(
                "return document.querySelectorAll(`tr[data-item='${arguments[0]}'] button`)"
                    + ".length",
                homeId))
        .isEqualTo(0L);
    bob.assertNotReloaded();
  }

  // ------------------------------------------------------------------ 5. typing, scrolling

  @Test
  @Order(5)
  void aHalfTypedCommentAndTheScrollPositionSurviveIncomingChanges() {
    for (int i = 1; i <= 10; i++) {
      comment("Older note " + i + " about the layout");
    }
    bob.waitForEntry("Older note 10 ");
    bob.click("#comment-text");
    bob.type("Half-typed thought about the ");
    // bob scrolls down to read older notes; note 4 is at the top of his window.
    String anchor = bob.entrySelector("Older note 4 ");
    bob.js("document.querySelector(arguments[0]).scrollIntoView({block: 'start'});", anchor);
    double top = rectTop(bob, anchor);
    double scrollY = ((Number) bob.js("return window.scrollY;")).doubleValue();
    assertThat(scrollY).as("bob's page is scrolled").isGreaterThan(100);

    // alice posts several comments: three typed in her page, two through the API.
    for (int i = 1; i <= 3; i++) {
      alice.click("#comment-text");
      alice.type("Fresh comment " + i + " from alice");
      alice.clickButton(".comment-form", "Post comment");
      alice.waitFor("comment box emptied", "document.querySelector('#comment-text').value === ''");
    }
    comment("Fresh comment 4 from the API");
    comment("Fresh comment 5 from the API");
    for (int i = 1; i <= 3; i++) {
      bob.waitForEntry("Fresh comment " + i + " from alice");
    }
    bob.waitForEntry("Fresh comment 5 from the API");

    assertThat(bob.text("return document.querySelector('#comment-text').value"))
        .isEqualTo("Half-typed thought about the ");
    assertThat(bob.focused()).startsWith("textarea#comment-text");
    assertThat(rectTop(bob, anchor))
        .as("what bob was reading stays where it was on his screen")
        .isCloseTo(top, offset(2.0));
    assertThat(((Number) bob.js("return window.scrollY;")).doubleValue())
        .isGreaterThanOrEqualTo(scrollY);
    // He goes on typing where he left off.
    bob.type("hero image.");
    assertThat(bob.text("return document.querySelector('#comment-text').value"))
        .isEqualTo("Half-typed thought about the hero image.");
    bob.js("document.querySelector('#comment-text').value = ''; window.scrollTo(0, 0);");
    bob.assertNotReloaded();
  }

  private static double rectTop(Browser b, String css) {
    return ((Number)
            b.js("return document.querySelector(arguments[0]).getBoundingClientRect().top;", css))
        .doubleValue();
  }

  // ------------------------------------------------------------------ 6. no HTML injection

  @Test
  @Order(6)
  void userTextIsShownAsTextNeverAsHtml() {
    String evilComment = "<img src=x onerror=\"window.__xss=1\"> @bob";
    String evilTitle = "<script>window.__xss=2</script>Teaser <b>bold</b>";
    alice.click("#comment-text");
    alice.type(evilComment);
    alice.waitFor("mention list open", "document.querySelector('.mention-list:not([hidden])')");
    alice.press(Keys.ESCAPE);
    alice.clickButton(".comment-form", "Post comment");
    alice.click("#item-title");
    alice.type(evilTitle);
    alice.click("#item-ref");
    alice.type("block/666");
    alice.clickButton("form.add-item", "Add item");

    String evilProject = "<script>window.__xss=3</script>Launch <img src=x onerror=window.__xss=4>";
    long evilId =
        aliceApi
            .post(
                "/api/projects",
                "{\"name\":\"<script>window.__xss=3</script>Launch "
                    + "<img src=x onerror=window.__xss=4>\",\"members\":[\"bob\"]}")
            .expect(201)
            .json()
            .get("id")
            .asLong();

    bob.waitForEntry("<img src=x onerror");
    assertThat(
            bob.text(
                "return document.querySelector(arguments[0] + ' .message').textContent",
                bob.entrySelector("<img src=x onerror")))
        .isEqualTo("<img src=x onerror=\"window.__xss=1\"> Bob");
    // The mention's notification shows the same text in bob's bell panel (with his name).
    bob.click("#bell");
    bob.waitFor(
        "notification with the markup as text",
        "[...document.querySelectorAll('#notification-list li .text')]"
            + ".some((t) => t.textContent === arguments[0])",
        evilComment.replace("@bob", "Bob"));
    bob.press(Keys.ESCAPE);
    bob.waitFor(
        "item with the script title",
        "[...document.querySelectorAll('table.items tbody th')]"
            + ".some((th) => th.textContent.startsWith(arguments[0]))",
        evilTitle);
    // The projects list shows the new project's name as text.
    bob.click("a.brand");
    bob.visible(projectLink(evilId));
    assertThat(
            bob.text(
                "return document.querySelector(arguments[0]).textContent", projectLink(evilId)))
        .isEqualTo(evilProject);
    bob.click(projectLink(evilId));
    bob.waitFor(
        "project title as text",
        "document.querySelector('#project-title')?.textContent.startsWith(arguments[0])",
        evilProject);
    for (Browser b : List.of(alice, bob)) {
      assertThat(b.js("return typeof window.__xss;")).as(b.user + ": __xss").isEqualTo("undefined");
      assertThat(b.js("return document.body.querySelectorAll('img, script, b').length"))
          .as(b.user + ": elements from user text")
          .isEqualTo(0L);
    }
    bob.click("a.brand");
    bob.click(projectLink(projectId));
    waitProjectLoaded(bob);
    bob.assertNotReloaded();
    namesRepliesPresenceAndMentionsAreShownAsText();
  }

  /**
   * The rest of the user-controlled text the UI renders: a display name (as comment author, in
   * presence and in the mention list) and a reply, each carrying markup that would run script.
   */
  private void namesRepliesPresenceAndMentionsAreShownAsText() {
    String evilReply = "<svg onload=window.__xss=7>re</svg><script>window.__xss=8</script>";
    aliceApi.post("/api/projects/" + projectId + "/members", "{\"userId\":\"mal\"}").expect(200);
    ApiClient mal = app.login("mal");
    long activity =
        mal.post(
                "/api/projects/" + projectId + "/activities",
                "{\"message\":\"hello from mal-marker\"}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    aliceApi
        .post("/api/activities/" + activity + "/replies", json(Map.of("message", evilReply)))
        .expect(201);
    // Mal is present on the project page (presence shows the display name from the session).
    try (RawClient malSocket =
        RawClient.open(
            app.wsUri(),
            Map.of("Cookie", "herald_session=" + mal.sessionCookie()),
            "herald.v1.json")) {
      assertThat(malSocket.request("{\"type\":\"connect\"}").has("result")).isTrue();
      assertThat(
              malSocket
                  .request("{\"type\":\"subscribe\",\"channel\":\"project:" + projectId + "\"}")
                  .has("result"))
          .isTrue();
      bob.waitFor(
          "mal's display name in presence, as text",
          "[...document.querySelectorAll('.presence li.person')]"
              + ".some((li) => li.textContent.includes(arguments[0]))",
          EVIL_NAME);
    }
    bob.waitForEntry("hello from mal-marker");
    assertThat(
            bob.text(
                "return document.querySelector(arguments[0]).textContent",
                bob.entrySelector("hello from mal-marker")))
        .contains(EVIL_NAME);
    bob.waitFor(
        "reply as text",
        "[...document.querySelectorAll('.replies li.reply')]"
            + ".some((li) => li.textContent.includes(arguments[0]))",
        evilReply);
    // The mention list offers mal under the display name, as text.
    bob.click("#comment-text");
    bob.type("@ma");
    bob.waitFor(
        "mention option with the display name as text",
        "[...document.querySelectorAll('.mention-list:not([hidden]) li strong')]"
            + ".some((s) => s.textContent === arguments[0])",
        EVIL_NAME);
    bob.press(Keys.ESCAPE);
    bob.js("document.querySelector('#comment-text').value = ''");
    // Leave the project as the later tests (and screenshots) expect it.
    mal.delete("/api/activities/" + activity).expect(204);
    aliceApi.delete("/api/projects/" + projectId + "/members/mal").expect(200);
    for (Browser b : List.of(alice, bob)) {
      assertThat(b.js("return typeof window.__xss;")).as(b.user + ": __xss").isEqualTo("undefined");
      assertThat(
              b.js("return document.body.querySelectorAll('img, script, b, svg[onload]').length"))
          .as(b.user + ": elements from user text")
          .isEqualTo(0L);
    }
  }

  private static String json(Map<String, String> m) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ 7. server restart

  @Test
  @Order(7)
  void bothPagesRecoverFromAServerRestartWithoutReload() {
    alice.waitLive();
    bob.waitLive();
    bob.waitFor(
        "alice present again",
        "document.querySelector(\".presence li.person[data-user='alice']\")");
    int badge = bob.badge();
    for (Browser b : List.of(alice, bob)) {
      b.js("performance.clearResourceTimings(); performance.setResourceTimingBufferSize(1000);");
    }

    // Graceful stop: Herald closes the connections with 4001 and a suggested retry delay.
    app.close();
    app = null;
    for (Browser b : List.of(alice, bob)) {
      b.waitFor(
          "reconnecting indicator and banner",
          "['reconnecting', 'connecting'].includes("
              + "document.querySelector('#connection').dataset.state)"
              + " && !document.querySelector('#banner').hidden"
              + " && /reconnecting/.test(document.querySelector('#banner').textContent)");
    }
    bob.screenshot(shot("reconnecting"));

    // A new app on the same database and port (its hub has a new epoch: no history to replay).
    app = TestApp.wrap(App.start(App.Options.of(config)), TestApp.Db.H2);
    // A change right after the restart, before the pages are back (they wait 8 to 9 s): sessions
    // live in the database, so alice's API session still works.
    comment("Posted right after the restart, @bob");
    for (Browser b : List.of(alice, bob)) {
      assertThat(b.connectionState()).as(b.user + " not back yet").isNotEqualTo("live");
    }
    for (Browser b : List.of(alice, bob)) {
      b.waitLive();
    }
    aliceApi.post("/api/projects/" + projectId + "/items/" + bannerId + "/ready", null).expect(200);
    comment("Posted once both pages were back");
    for (Browser b : List.of(alice, bob)) {
      b.waitForEntry("Posted right after the restart");
      b.waitForEntry("Posted once both pages were back");
      b.waitItemStatus(bannerId, "ready");
      b.assertNotReloaded();
      // The missed change came from the app's changes API (the new hub has no history of it).
      assertThat(
              b.js(
                  "return performance.getEntriesByType('resource')"
                      + ".filter((e) => e.name.includes(arguments[0])).length",
                  "/api/projects/" + projectId + "/changes?since="))
          .as(b.user + ": resync through /changes")
          .isNotEqualTo(0L);
    }
    // So did bob's notifications (the bell resyncs the same way).
    assertThat(
            bob.js(
                "return performance.getEntriesByType('resource')"
                    + ".filter((e) => e.name.includes('/api/notifications/changes?since=')).length"))
        .isNotEqualTo(0L);
    bob.waitBadge(badge + 2); // the mention, and the status change of the banner
    bob.waitFor(
        "alice present after the restart",
        "document.querySelector(\".presence li.person[data-user='alice']\")");
    alice.waitFor(
        "bob present after the restart",
        "document.querySelector(\".presence li.person[data-user='bob']\")");
  }

  // ------------------------------------------------------------------ 8. keyboard

  @Test
  @Order(8)
  void mainActionsAndTheBellWorkWithTheKeyboard() {
    alice.js("window.scrollTo(0, 0); document.querySelector('a.skip').focus();");
    StringBuilder stops = new StringBuilder();
    for (int i = 0; i < 80; i++) {
      alice.press(Keys.TAB);
      stops.append(alice.focused()).append('\n');
    }
    assertThat(stops.toString())
        .contains("button#bell")
        .contains("button#publish")
        .contains("button \"Mark ready\"")
        .contains("button \"Reject\"")
        .contains("textarea#comment-text")
        .contains("button \"Post comment\"")
        .contains("button \"Add item\"");

    alice.js("document.querySelector('a.skip').focus();");
    alice.tabTo("#bell", 8);
    alice.press(Keys.ENTER);
    alice.waitFor(
        "panel open with focus inside",
        "!document.querySelector('#notifications').hidden"
            + " && document.querySelector('#notifications').contains(document.activeElement)"
            + " && document.querySelector('#bell').getAttribute('aria-expanded') === 'true'");
    alice.press(Keys.ESCAPE);
    alice.waitFor(
        "panel closed, focus back on the bell",
        "document.querySelector('#notifications').hidden"
            + " && document.activeElement === document.querySelector('#bell')"
            + " && document.querySelector('#bell').getAttribute('aria-expanded') === 'false'");
  }

  // ------------------------------------------------------------------ 9. phone width

  @Test
  @Order(9)
  void thePhoneWidthHasNoHorizontalScrollAndAUsableBell() {
    bob.driver.executeCdpCommand(
        "Emulation.setDeviceMetricsOverride",
        Map.of("width", 390, "height", 844, "deviceScaleFactor", 2, "mobile", true));
    try {
      bob.js("window.scrollTo(0, 0);");
      waitProjectLoaded(bob);
      // Wait for the layout at the new size (the header wraps onto two lines).
      bob.waitFor("phone layout", "document.documentElement.clientWidth <= 390");
      assertThat(
              bob.text(
                  "const d = document.documentElement;"
                      + " const wide = [...document.querySelectorAll('body *')].filter((e) =>"
                      + " e.getBoundingClientRect().right > 391).slice(0, 8).map((e) =>"
                      + " e.tagName + '.' + e.className + ' ' + Math.round("
                      + "e.getBoundingClientRect().right));"
                      + " return `innerWidth=${innerWidth} clientWidth=${d.clientWidth}"
                      + " scrollWidth=${d.scrollWidth} wider: ${wide.join(', ')}`;"))
          .as("no horizontal scroll at 390 px")
          .isEqualTo("innerWidth=390 clientWidth=390 scrollWidth=390 wider: ");
      bob.waitFor("toasts gone", "!document.querySelector('#toasts')?.children.length");
      bob.screenshot(shot("phone"));

      bob.click("#bell");
      bob.waitFor("panel open", "!document.querySelector('#notifications').hidden");
      assertThat(
              bob.text(
                  "const r = document.querySelector('#notifications').getBoundingClientRect();"
                      + " return r.left >= 0 && r.right <= innerWidth && r.width > 300"
                      + " ? 'fits' : `left ${r.left}, right ${r.right}, width ${r.width}`;"))
          .as("the panel fits the screen")
          .isEqualTo("fits");
      assertThat(bob.js("return document.documentElement.scrollWidth;")).isEqualTo(390L);
      bob.screenshot(shot("phone-bell"));
      bob.clickButton("#notifications", "Mark all as read");
      bob.waitBadge(0);
      bob.press(Keys.ESCAPE);
      bob.waitFor("panel closed", "document.querySelector('#notifications').hidden");
    } finally {
      bob.driver.executeCdpCommand("Emulation.clearDeviceMetricsOverride", Map.of());
    }
  }

  // ------------------------------------------------------------------ 10. no WebSocket

  @Test
  @Order(10)
  void withoutALiveConnectionAPageStillLoadsSaysSoAndCatchesUpLater() {
    // Nothing live gets through to bob (a proxy in the way): his WebSocket connects to a closed
    // port while the flag is set, and the HTTP fallback transports under /connection/ are
    // blocked. He opens the page afresh: it must load anyway and say that it is not live.
    bob.driver.executeCdpCommand(
        "Page.addScriptToEvaluateOnNewDocument",
        Map.of(
            "source",
            "const RealWebSocket = window.WebSocket;"
                + "window.WebSocket = class extends RealWebSocket {"
                + " constructor(url, protocols) {"
                + "  super(localStorage.getItem('blockWebSocket') ? 'ws://127.0.0.1:9/' : url,"
                + "   protocols); } };"));
    bob.driver.executeCdpCommand("Network.enable", Map.of());
    bob.driver.executeCdpCommand(
        "Network.setBlockedURLs", Map.of("urls", List.of("*/connection/*")));
    bob.js("localStorage.setItem('blockWebSocket', '1');");
    try {
      bob.driver.navigate().refresh();
      waitProjectLoaded(bob);
      bob.waitFor(
          "notifications loaded",
          "document.querySelector('#bell').getAttribute('aria-label')?.startsWith('Notifications,')");
      bob.waitFor(
          "banner: not live",
          "!document.querySelector('#banner').hidden"
              + " && document.querySelector('#connection').dataset.state !== 'live'");
      bob.markPage();
      comment("Posted while bob had no WebSocket");
    } finally {
      bob.js("localStorage.removeItem('blockWebSocket');");
      bob.driver.executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of()));
    }
    // A visible page retries at least every 1.5 s by itself, so it may be live before the click.
    bob.js(
        "[...document.querySelectorAll('#banner button')]"
            + ".find((b) => b.textContent === 'Retry now')?.click();");
    bob.waitLive();
    bob.waitForEntry("Posted while bob had no WebSocket");
    assertThat(
            bob.js(
                "return performance.getEntriesByType('resource')"
                    + ".filter((e) => e.name.includes(arguments[0])).length",
                "/api/projects/" + projectId + "/changes?since="))
        .as("caught up through /changes once subscribed")
        .isNotEqualTo(0L);
    bob.assertNotReloaded();
  }

  // ------------------------------------------------------------------ no script errors

  @Test
  @Order(11)
  void noPageHadAnUncaughtError() {
    for (Browser b : List.of(alice, bob)) {
      assertThat(b.pageErrors()).as(b.user + ": uncaught errors").isEmpty();
    }
  }

  // ------------------------------------------------------------------ revoked access

  @Test
  @Order(12)
  void aMemberRemovedWhileViewingTheProjectIsToldAndLeavesThePage() {
    bob.open("#/projects/" + projectId);
    waitProjectLoaded(bob);
    bob.waitLive();
    // Presence is drawn once the project subscription is live on the server.
    bob.waitFor("project subscription live", "document.querySelector('section.presence span')");
    bob.markPage();

    aliceApi.delete("/api/projects/" + projectId + "/members/bob").expect(200);

    bob.waitFor(
        "told that access ended, back on the project list",
        "[...document.querySelectorAll('#toasts .toast.error')]"
            + ".some((t) => t.textContent.includes('You no longer have access to this project'))"
            + " && location.hash === '#/projects'");
    bob.waitFor(
        "the project is no longer listed",
        "(document.querySelector('#main ul.project-list li')"
            + " || document.querySelector('#main p.empty')?.hidden === false)"
            + " && !document.querySelector(arguments[0])",
        projectLink(projectId));
    bob.assertNotReloaded();
    assertThat(bob.pageErrors()).as("bob: uncaught errors").isEmpty();
  }
}
