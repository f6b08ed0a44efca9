package dev.herald.app.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.TestApp;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.interactions.Actions;

/**
 * Layout and access in headless Chromium: axe-core finds no serious or critical violation on any
 * page of the app; others' changes are announced politely and one's own are not; a long title does
 * not squeeze the items table; Ctrl+Enter posts; the mention list says why a non-member is not
 * offered; tap targets are at least 24 px at phone width; the feed pages back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessibilityIT {
  private static final Path FAILURES =
      Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
          .resolve("target/browser-it");
  private static final ObjectMapper JSON = new ObjectMapper();

  private TestApp app;
  private ApiClient aliceApi;
  private ApiClient bobApi;
  private long projectId;
  private long itemId;
  private final List<Browser> browsers = new ArrayList<>();
  private String axe;

  @RegisterExtension
  final AfterTestExecutionCallback dumpOnFailure =
      ctx -> {
        if (ctx.getExecutionException().isPresent()) {
          for (Browser b : browsers) {
            b.dump(FAILURES, "a11y-" + ctx.getRequiredTestMethod().getName());
          }
        }
      };

  @BeforeAll
  void start() throws IOException {
    try (InputStream in = AccessibilityIT.class.getResourceAsStream("/axe.min.js")) {
      assertThat(in).as("axe.min.js from com.deque.html.axe-core:selenium").isNotNull();
      axe = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    app =
        TestApp.start(
            TestApp.Db.H2, TestApp.config(TestApp.Db.H2), ContentPublisher.alwaysSucceeds());
    aliceApi = app.login("alice");
    bobApi = app.login("bob");
    projectId =
        aliceApi
            .post(
                "/api/projects",
                "{\"name\":\"Access\",\"description\":\"Pages for axe\",\"members\":[\"bob\"]}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    itemId = addItem("page/1", "Home page");
    addItem("block/2", "Teaser");
    long ready = addItem("media/3", "Hero banner");
    aliceApi.post("/api/projects/" + projectId + "/items/" + ready + "/ready", "{}").expect(200);
    long rejected = addItem("page/4", "Old page");
    aliceApi
        .post(
            "/api/projects/" + projectId + "/items/" + rejected + "/reject",
            "{\"reason\":\"The page is out of date\"}")
        .expect(200);
    long post =
        bobApi
            .post(
                "/api/projects/" + projectId + "/activities",
                "{\"message\":\"@alice the hero is too big\",\"itemId\":" + itemId + "}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    aliceApi.post("/api/activities/" + post + "/replies", "{\"message\":\"Fixed it\"}").expect(201);
    // A scheduled project: its pill in the list has the warning colours.
    long scheduled =
        aliceApi
            .post("/api/projects", "{\"name\":\"Later\"}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    long later = aliceApi.addItem(scheduled, "page/9", "Later");
    aliceApi.post("/api/projects/" + scheduled + "/items/" + later + "/ready", "{}").expect(200);
    aliceApi
        .post(
            "/api/projects/" + scheduled + "/schedule",
            "{\"at\":\"" + OffsetDateTime.now(ZoneOffset.UTC).plusDays(30) + "\"}")
        .expect(200);
  }

  @AfterEach
  void closeBrowsers() {
    for (Browser b : browsers) {
      b.close();
    }
    browsers.clear();
  }

  @AfterAll
  void stop() {
    if (app != null) {
      app.close();
    }
  }

  private long addItem(String ref, String title) {
    return aliceApi.addItem(projectId, ref, title);
  }

  private Browser browser(String user) {
    Browser b = Browser.start(user, app.baseUrl());
    browsers.add(b);
    return b;
  }

  private Browser signedIn(String user) {
    Browser b = browser(user);
    b.open("");
    b.submitLogin("pw-" + user);
    b.waitSignedIn();
    b.waitLive();
    return b;
  }

  private void openProject(Browser b, String anchor) {
    b.open("#/projects/" + projectId + anchor);
    b.waitFor(
        "project page loaded",
        "document.querySelector('#project-title')"
            + " && document.querySelectorAll('table.items tbody tr').length >= 4"
            + " && document.querySelector('.feed .entry')");
  }

  /** axe-core's violations on the page as it is now: [{id, impact, help, nodes}]. */
  private JsonNode axe(Browser b) {
    b.js(axe);
    Object out =
        b.driver.executeAsyncScript(
            "const done = arguments[arguments.length - 1];"
                + " axe.run(document, { resultTypes: ['violations'] })"
                + ".then((r) => done(JSON.stringify(r.violations.map((v) => ({ id: v.id,"
                + " impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) =>"
                + " n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' ')"
                + ".slice(0, 200)) }))))).catch((e) => done('ERROR ' + e));");
    String json = String.valueOf(out);
    assertThat(json).doesNotStartWith("ERROR");
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs axe on the page as it is; records its serious and critical violations under page. */
  private void check(Browser b, String page, Map<String, List<String>> serious) {
    JsonNode violations = axe(b);
    List<String> found = new ArrayList<>();
    for (JsonNode v : violations) {
      String impact = v.path("impact").asText();
      if (impact.equals("serious") || impact.equals("critical")) {
        found.add(
            impact
                + " "
                + v.get("id").asText()
                + " ("
                + v.get("help").asText()
                + "): "
                + v.get("nodes"));
      }
    }
    serious.put(page, found);
    System.out.printf(
        "axe %s: %d violations, %d serious or critical: %s%n",
        page, violations.size(), found.size(), violations);
  }

  @Test
  void axeFindsNoSeriousViolationOnAnyPage() {
    Map<String, List<String>> serious = new java.util.LinkedHashMap<>();
    Browser alice = browser("alice");
    alice.open("");
    alice.visible("#login-user");
    check(alice, "login", serious);
    // The login form with an error shown.
    alice.submitLogin("wrong");
    alice.waitFor("login error", "document.querySelector('form.login .error:not([hidden])')");
    check(alice, "login (error)", serious);
    alice.find("#login-password").clear();
    alice.find("#login-password").sendKeys("pw-alice", Keys.ENTER);
    alice.waitSignedIn();
    alice.waitFor("projects listed", "document.querySelector('#main a.project-name')");
    check(alice, "projects", serious);

    openProject(alice, "");
    alice.waitFor("presence shown", "document.querySelector('.presence span')");
    check(alice, "project", serious);

    // An item: its row, its comment thread and the reply form open.
    openProject(alice, "#item-" + itemId);
    alice.clickButton(".feed .entry .reply-area", "Reply");
    check(alice, "item", serious);

    alice.click("#bell");
    alice.waitFor(
        "notifications listed",
        "!document.querySelector('#notifications').hidden"
            + " && document.querySelector('#notification-list li')");
    check(alice, "notifications", serious);

    Browser carol = signedIn("carol");
    carol.open("#/admin");
    carol.waitFor("admin console loaded", "document.querySelector('#main table.admin-table')");
    check(carol, "admin", serious);
    serious.forEach(
        (page, found) ->
            assertThat(found)
                .as("serious or critical axe violations on the %s page", page)
                .isEmpty());
  }

  @Test
  void othersChangesAreAnnouncedPolitelyOwnChangesAreNot() {
    Browser alice = signedIn("alice");
    openProject(alice, "");
    assertThat(alice.js("return document.querySelectorAll('[aria-live=assertive]').length"))
        .isEqualTo(0L);
    assertThat(
            alice.text(
                "return document.querySelector('#project-announcer').getAttribute('aria-live')"))
        .isEqualTo("polite");

    bobApi
        .post("/api/projects/" + projectId + "/activities", "{\"message\":\"Bob says hello\"}")
        .expect(201);
    alice.waitFor(
        "bob's comment announced",
        "document.querySelector('#project-announcer').textContent"
            + ".match(/^Bob.* commented: Bob says hello$/)");

    bobApi
        .post(
            "/api/projects/" + projectId + "/items/" + itemId + "/reject",
            "{\"reason\":\"Needs a new photo\"}")
        .expect(200);
    alice.waitFor(
        "bob's status change announced",
        "document.querySelector('#project-announcer').textContent.includes('Home page is rejected')");

    // alice's own comment and status change: shown, not announced. Every announcement from here
    // on is recorded, so one that comes late is seen too.
    alice.js(
        "window.announced = [];"
            + "const el = document.querySelector('#project-announcer');"
            + "new MutationObserver(() => window.announced.push(el.textContent))"
            + ".observe(el, {childList: true, characterData: true, subtree: true});");
    alice.click("#comment-text");
    alice.type("Alice says hi");
    // Ctrl+Enter posts (held down: Actions.sendKeys would release Ctrl before the Enter).
    new Actions(alice.driver)
        .keyDown(Keys.CONTROL)
        .sendKeys(Keys.ENTER)
        .keyUp(Keys.CONTROL)
        .perform();
    alice.waitForEntry("Alice says hi");
    alice.clickButton("tr[data-item='" + itemId + "']", "Mark ready");
    alice.waitItemStatus(itemId, "ready");
    // A later change by bob is announced once alice's own events were handled (one channel, in
    // order): nothing of hers may have been announced before it.
    bobApi
        .post("/api/projects/" + projectId + "/activities", "{\"message\":\"Bob again\"}")
        .expect(201);
    alice.waitFor(
        "bob's second comment announced", "window.announced.some((t) => t.includes('Bob again'))");
    assertThat(alice.text("return JSON.stringify(window.announced)"))
        .doesNotContain("Alice says hi")
        .doesNotContain("ready");
  }

  @Test
  void aLongTitleWrapsInItsColumnAndLeavesTheOthersWhole() {
    String title = ("Quarterly campaign landing page with hero " + "lorem ipsum ").repeat(6);
    title = title.substring(0, 300);
    long id = addItem("page/300", title.strip());
    Browser alice = signedIn("alice");
    openProject(alice, "");
    alice.waitFor("the long item shown", "document.querySelector(`tr[data-item='" + id + "']`)");
    String report =
        alice.text(
            "const row = document.querySelector(`tr[data-item='"
                + id
                + "']`);"
                + " const table = row.closest('table');"
                + " const cells = [...row.cells];"
                + " const lines = (el) => Math.round(el.getBoundingClientRect().height"
                + " / parseFloat(getComputedStyle(el).lineHeight));"
                + " const pill = row.querySelector('.item-status');"
                + " const buttons = [...row.querySelectorAll('.row-actions button')];"
                + " const problems = [];"
                + " if (table.getBoundingClientRect().right > document.querySelector('main')"
                + ".getBoundingClientRect().right + 1) problems.push('table wider than the page');"
                + " if (pill.getClientRects().length !== 1 || lines(pill) > 1)"
                + " problems.push('status pill wraps');"
                + " if (new Set(buttons.map((b) => b.getBoundingClientRect().top)).size !== 1)"
                + " problems.push('actions wrap');"
                + " if (lines(cells[4].querySelector('time')) > 1) problems.push('date wraps');"
                + " if (cells[0].getBoundingClientRect().height > 120)"
                + " problems.push('title cell ' + cells[0].getBoundingClientRect().height);"
                + " return problems.join('; ');");
    assertThat(report).isEmpty();
  }

  @Test
  void theMentionListSaysWhyANonMemberIsNotOffered() {
    Browser alice = signedIn("alice");
    openProject(alice, "");
    alice.click("#comment-text");
    alice.type("Ask @da");
    alice.waitFor(
        "dave shown as not offered",
        "[...document.querySelectorAll('.mention-list:not([hidden]) li[aria-disabled=true]')]"
            + ".some((li) => li.textContent.includes('@dave')"
            + " && li.textContent.includes('Not a member of this project'))");
    // Enter does not pick him: only members can be picked.
    alice.press(Keys.ENTER);
    assertThat(alice.text("return document.querySelector('#comment-text').value"))
        .doesNotContain("@dave ");
  }

  @Test
  void tapTargetsAreAtLeast24PxAtPhoneWidth() {
    Browser alice = signedIn("alice");
    alice.driver.executeCdpCommand(
        "Emulation.setDeviceMetricsOverride",
        Map.of("width", 390, "height", 844, "deviceScaleFactor", 2, "mobile", true));
    openProject(alice, "");
    alice.waitFor("phone layout", "document.documentElement.clientWidth <= 390");
    String small =
        alice.text(
            "return [...document.querySelectorAll('button, a[href], input, select, textarea')]"
                + ".filter((e) => e.getClientRects().length && !e.closest('[hidden]'))"
                + ".filter((e) => !(e.tagName === 'A' && e.closest('p.meta, .message, .panel .text')))"
                + ".filter((e) => e.className !== 'skip')"
                + ".map((e) => [e, e.getBoundingClientRect()])"
                + ".filter(([, r]) => r.width < 24 || r.height < 24)"
                + ".map(([e, r]) => `${e.tagName}.${e.className}#${e.id} '${e.textContent.trim()"
                + ".slice(0, 20)}' ${Math.round(r.width)}x${Math.round(r.height)}`).join('; ')");
    assertThat(small).as("targets smaller than 24 x 24 px").isEmpty();
  }

  @Test
  void theFeedShowsOlderActivityAPageAtATime() {
    long p =
        aliceApi.post("/api/projects", "{\"name\":\"Busy\"}").expect(201).json().get("id").asLong();
    for (int i = 1; i <= 55; i++) {
      aliceApi
          .post("/api/projects/" + p + "/activities", "{\"message\":\"note " + i + "\"}")
          .expect(201);
    }
    Browser alice = signedIn("alice");
    alice.open("#/projects/" + p);
    alice.waitFor("feed loaded", "document.querySelectorAll('.feed > .entry').length === 50");
    assertThat(alice.text("return document.querySelector('.feed > .entry .message').textContent"))
        .isEqualTo("note 55");
    alice.clickButton("section.activity", "Show older activity");
    alice.waitFor("older entries", "document.querySelectorAll('.feed > .entry').length === 55");
    assertThat(
            alice.text(
                "return [...document.querySelectorAll('.feed > .entry .message')].slice(-5)"
                    + ".map((m) => m.textContent).join(',')"))
        .isEqualTo("note 5,note 4,note 3,note 2,note 1");
    alice.waitFor("no more pages", "document.querySelector('#feed-older').hidden");
    // A reply to an old entry arrives live in it.
    long first =
        aliceApi
            .get("/api/projects/" + p + "/activities?limit=100")
            .expect(200)
            .json()
            .get(54)
            .get("id")
            .asLong();
    aliceApi
        .post("/api/activities/" + first + "/replies", "{\"message\":\"late reply\"}")
        .expect(201);
    alice.waitFor(
        "the reply in the old entry",
        "document.querySelector('#activity-"
            + first
            + " .replies')?.textContent.includes('late reply')");
  }
}
