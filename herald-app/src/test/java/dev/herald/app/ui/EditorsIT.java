package dev.herald.app.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.TestApp;
import java.nio.file.Path;
import java.util.List;
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
 * Two editors, alice and bob, each in their own headless Chromium: what the UI tells them about
 * others' work without a reload (projects they join or leave) and what keeps them from surprises.
 * The tests run in order and share the two browsers, like one working session; on a failure,
 * screenshots, HTML and console logs of both browsers go to {@code target/browser-it}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EditorsIT {
  private static final Path FAILURES =
      Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
          .resolve("target/browser-it");

  private TestApp app;
  private ApiClient aliceApi;
  private Browser alice;
  private Browser bob;

  /** Set by the first failure: the later steps build on the earlier ones, so they are skipped. */
  private String failed;

  @RegisterExtension
  final AfterTestExecutionCallback dumpOnFailure =
      ctx -> {
        if (ctx.getExecutionException().isPresent()) {
          String name = ctx.getRequiredTestMethod().getName();
          if (failed == null) {
            failed = name;
          }
          for (Browser b : new Browser[] {alice, bob}) {
            if (b != null) {
              b.dump(FAILURES, "EditorsIT-" + name);
            }
          }
        }
      };

  @BeforeAll
  void start() {
    app =
        TestApp.start(
            TestApp.Db.H2, TestApp.config(TestApp.Db.H2), ContentPublisher.alwaysSucceeds());
    aliceApi = app.login("alice");
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

  /** JavaScript: the notification toast (a link) whose text contains arguments[0], if any. */
  private static final String LINK_TOAST =
      "[...document.querySelectorAll('#toasts a.toast')]"
          + ".find((t) => t.textContent.includes(arguments[0]))";

  private static String projectLink(long id) {
    return "#main a.project-name[href='#/projects/" + id + "']";
  }

  private long project(String name, String members) {
    return aliceApi
        .post("/api/projects", "{\"name\":\"" + name + "\",\"members\":" + members + "}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  private void waitToast(Browser b, String text) {
    b.waitFor(
        "toast '" + text + "'",
        "[...document.querySelectorAll('#toasts .toast')]"
            + ".some((t) => t.textContent.includes(arguments[0]))",
        text);
  }

  // ------------------------------------------------------------------ 1. membership

  @Test
  @Order(1)
  void aProjectJoinedOrLeftShowsUpInTheListAndOpenPagesAtOnce() {
    for (Browser b : List.of(alice, bob)) {
      b.open("");
      b.submitLogin("pw-" + b.user);
      b.waitSignedIn();
      b.waitLive();
      b.markPage();
    }
    bob.waitFor("projects list shown", "document.querySelector('#main h1')");

    // alice creates a project with bob as a member, in her own browser.
    alice.click("#new-name");
    alice.type("Launch week");
    alice.click("#new-members");
    alice.type("bob");
    alice.press(Keys.ENTER);
    alice.waitFor("project page open", "document.querySelector('#project-title')");
    long launch = ((Number) alice.js("return Number(location.hash.split('/')[2]);")).longValue();

    bob.visible(projectLink(launch));
    waitToast(bob, "You were added to Launch week");

    // bob has a project open that he is not a member of; alice adds him: it loads by itself.
    long later = project("Later", "[]");
    bob.open("#/projects/" + later);
    bob.waitFor(
        "told he is not a member",
        "document.querySelector('#main .error')?.textContent.includes('not a member')");
    bob.markPage();
    aliceApi.post("/api/projects/" + later + "/members", "{\"userId\":\"bob\"}").expect(200);
    bob.waitFor(
        "the project loaded",
        "document.querySelector('#project-title')?.textContent.includes('Later')");
    bob.waitLive();
    bob.waitFor("project subscription live", "document.querySelector('section.presence span')");

    // Removed while looking at it: told, the page stops showing it, and it leaves the list.
    aliceApi.delete("/api/projects/" + later + "/members/bob").expect(200);
    bob.waitFor(
        "told that access ended, back on the project list",
        "[...document.querySelectorAll('#toasts .toast.error')]"
            + ".some((t) => t.textContent.includes('You no longer have access to this project'))"
            + " && location.hash === '#/projects' && !document.querySelector('#project-title')");
    bob.visible(projectLink(launch));
    assertThat(bob.js("return !!document.querySelector(arguments[0]);", projectLink(later)))
        .isEqualTo(false);

    // Removed from a project while on the list: the row goes.
    aliceApi.delete("/api/projects/" + launch + "/members/bob").expect(200);
    bob.waitFor(
        "Launch week no longer listed",
        "!document.querySelector(arguments[0])",
        projectLink(launch));
    bob.assertNotReloaded();
    for (Browser b : List.of(alice, bob)) {
      assertThat(b.pageErrors()).as(b.user + ": uncaught errors").isEmpty();
    }
  }

  // ------------------------------------------------------------------ 2. publishing safely

  private long release;
  private long home;
  private long about;

  private long addItem(long project, String ref, String title) {
    return aliceApi
        .post(
            "/api/projects/" + project + "/items",
            "{\"contentRef\":\""
                + ref
                + "\",\"contentVersion\":1,\"title\":\""
                + title
                + "\",\"type\":\"page\"}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  private static String row(long item) {
    return "tr[data-item='" + item + "']";
  }

  private void openRelease(Browser b) {
    b.open("#/projects/" + release);
    b.waitFor(
        "project page loaded",
        "document.querySelectorAll('table.items tbody tr').length >= 2"
            + " && document.querySelector('section.presence span')");
    b.markPage();
  }

  /** The open dialog's text, once one is open. */
  private String dialog(Browser b) {
    b.visible("dialog.ask[open]");
    return b.text("return document.querySelector('dialog.ask[open]').textContent");
  }

  private long requests(Browser b, String path) {
    return ((Number)
            b.js(
                "return performance.getEntriesByType('resource')"
                    + ".filter((e) => e.name.endsWith(arguments[0])).length",
                path))
        .longValue();
  }

  @Test
  @Order(2)
  void publishingAsksFirstRejectingNeedsAReasonAndEditsOfOthersWarn() {
    release = project("Release", "[\"bob\",\"dave\"]");
    home = addItem(release, "page/1", "Home");
    about = addItem(release, "page/2", "About");
    openRelease(alice);
    openRelease(bob);

    // Nothing ready: "Publish now" is disabled and says why.
    assertThat(alice.js("return document.querySelector('#publish').disabled")).isEqualTo(true);
    assertThat(alice.text("return document.querySelector('.project-header .publish').textContent"))
        .contains("Publish now (0 ready)")
        .contains("Mark items ready to publish first");

    // bob is in the Home row: alice is warned before she marks it ready, and may cancel.
    bob.js("document.querySelector(arguments[0] + ' button').focus();", row(home));
    alice.waitFor(
        "presence: bob editing Home",
        "document.querySelector(\".presence li.person[data-user='bob']\")"
            + "?.textContent.includes('editing Home')");
    alice.clickButton(row(home), "Mark ready");
    assertThat(dialog(alice)).contains("Bob is editing “Home” right now.");
    alice.clickButton("dialog.ask[open]", "Cancel");
    alice.waitFor("dialog closed", "!document.querySelector('dialog.ask')");
    assertThat(requests(alice, "/items/" + home + "/ready")).as("nothing sent").isZero();
    alice.clickButton(row(home), "Mark ready");
    assertThat(dialog(alice)).contains("Bob is editing");
    alice.clickButton("dialog.ask[open]", "Mark ready anyway");
    bob.waitItemStatus(home, "ready");
    alice.waitFor(
        "publish enabled with the count",
        "!document.querySelector('#publish').disabled"
            + " && document.querySelector('#publish').textContent === 'Publish now (1 ready)'");
    bob.js("document.activeElement.blur();");
    alice.waitFor(
        "bob no longer editing",
        "!document.querySelector('.presence').textContent.includes('editing')");

    // Reject is not a primary action, asks for a reason and posts it to the feed.
    assertThat(
            alice.text(
                "return getComputedStyle([...document.querySelectorAll(arguments[0] + ' button')]"
                    + ".find((b) => b.textContent === 'Reject')).backgroundColor",
                row(home)))
        .isEqualTo("rgb(255, 255, 255)");
    assertThat(
            alice.text(
                "return getComputedStyle(document.querySelector('#publish')).backgroundColor"))
        .isNotEqualTo("rgb(255, 255, 255)");
    alice.clickButton(row(home), "Reject");
    assertThat(dialog(alice)).contains("Reject “Home”").doesNotContain("editing");
    alice.click("dialog.ask[open] .ask-confirm");
    alice.waitFor(
        "asked for a reason",
        "document.querySelector('dialog.ask[open] .error:not([hidden])')"
            + " && document.activeElement === document.querySelector('dialog.ask[open] textarea')");
    assertThat(requests(alice, "/items/" + home + "/reject")).as("nothing sent").isZero();
    alice.type("The headline is out of date");
    alice.click("dialog.ask[open] .ask-confirm");
    bob.waitItemStatus(home, "rejected");
    bob.waitForEntry("Alice rejected Home: The headline is out of date");

    // Publishing asks first; cancelled, nothing is published.
    alice.clickButton(row(about), "Mark ready");
    alice.waitFor(
        "1 ready", "document.querySelector('#publish').textContent === 'Publish now (1 ready)'");
    alice.click("#publish");
    assertThat(dialog(alice)).contains("Publish 1 item of “Release” now?").contains("About");
    alice.press(Keys.ESCAPE);
    alice.waitFor("dialog closed", "!document.querySelector('dialog.ask')");
    assertThat(requests(alice, "/projects/" + release + "/publish")).as("nothing sent").isZero();
    alice.click("#publish");
    alice.clickButton("dialog.ask[open]", "Publish");
    bob.waitItemStatus(about, "published");
    alice.waitFor(
        "nothing left to publish",
        "document.querySelector('#publish').disabled"
            + " && document.querySelector('#publish').textContent === 'Publish now (0 ready)'");
    for (Browser b : List.of(alice, bob)) {
      b.assertNotReloaded();
      assertThat(b.pageErrors()).as(b.user + ": uncaught errors").isEmpty();
    }
  }

  // ------------------------------------------------------------------ 3. notifications

  @Test
  @Order(3)
  void notificationsToastOnlyWhatIsNotOnScreenNameTheItemAndLeadToIt() {
    // bob is looking at the project: a mention there counts in the bell but makes no toast.
    int before = bob.badge();
    aliceApi
        .post(
            "/api/projects/" + release + "/activities",
            "{\"message\":\"@bob seen from the page\",\"itemId\":" + home + "}")
        .expect(201);
    bob.waitBadge(before + 1);
    bob.waitForEntry("seen from the page");
    assertThat(bob.js("return !!(" + LINK_TOAST + ");", "seen from the page"))
        .as("no toast for the page in view")
        .isEqualTo(false);

    // On another page, the same kind of notification toasts: its subject names the item, the
    // @handles show as names, and a click leads to the item's comment.
    bob.open("#/projects");
    bob.visible(projectLink(release));
    bob.waitLive();
    bob.markPage();
    int unread = bob.badge();
    long activity =
        aliceApi
            .post(
                "/api/projects/" + release + "/activities",
                "{\"message\":\"@dave and @bob: check the Home copy\",\"itemId\":" + home + "}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    bob.waitFor("toast naming the item", LINK_TOAST, "Alice mentioned you on Home in Release");
    String toast =
        bob.text(
            "return (" + LINK_TOAST + ").textContent", "Alice mentioned you on Home in Release");
    assertThat(toast).contains("Dave and Bob: check the Home copy").doesNotContain("@");
    bob.waitBadge(unread + 1);
    bob.js("(" + LINK_TOAST + ").click();", "Alice mentioned you on Home in Release");
    bob.waitFor(
        "on the project, at the comment",
        "location.hash === arguments[0] && document.querySelector(arguments[1])",
        "#/projects/" + release + "#activity-" + activity,
        "#activity-" + activity);
    bob.waitBadge(unread);
    // The bell's list shows names too.
    assertThat(
            bob.text(
                "return [...document.querySelectorAll('#notification-list li')]"
                    + ".find((li) => li.textContent.includes('on Home in Release')).textContent"))
        .contains("Dave and Bob: check the Home copy");
    bob.assertNotReloaded();
    assertThat(bob.pageErrors()).as("bob: uncaught errors").isEmpty();
  }
}
