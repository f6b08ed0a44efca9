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
}
