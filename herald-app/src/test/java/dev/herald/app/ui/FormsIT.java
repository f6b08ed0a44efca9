package dev.herald.app.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.TestApp;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The app's forms in headless Chromium: the API's field messages appear next to their field and are
 * gone on the next attempt; the schedule picker offers no past time and names its time zone; pasted
 * text is never cut at a limit: a counter and a field error say how much is over, and nothing is
 * posted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FormsIT {
  private static final Path FAILURES =
      Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
          .resolve("target/browser-it");

  private TestApp app;
  private ApiClient aliceApi;
  private Browser alice;
  private long projectId;

  @RegisterExtension
  final AfterTestExecutionCallback dumpOnFailure =
      ctx -> {
        if (ctx.getExecutionException().isPresent() && alice != null) {
          alice.dump(FAILURES, "forms-" + ctx.getRequiredTestMethod().getName());
        }
      };

  @BeforeAll
  void start() {
    app =
        TestApp.start(
            TestApp.Db.H2, TestApp.config(TestApp.Db.H2), ContentPublisher.alwaysSucceeds());
    aliceApi = app.login("alice");
    projectId =
        aliceApi
            .post("/api/projects", "{\"name\":\"Forms\",\"members\":[\"bob\"]}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    alice = Browser.start("alice", app.baseUrl());
    alice.open("");
    alice.submitLogin("pw-alice");
    alice.waitSignedIn();
  }

  @AfterAll
  void stop() {
    if (alice != null) {
      alice.close();
    }
    if (app != null) {
      app.close();
    }
  }

  @BeforeEach
  void openProject() {
    alice.open("#/projects");
    alice.open("#/projects/" + projectId);
    alice.driver.navigate().refresh();
    alice.waitFor("project page loaded", "document.querySelector('#comment-text')");
  }

  private void waitFieldError(String input, String contains) {
    alice.waitFor(
        input + " shows an error containing '" + contains + "'",
        "(() => { const i = document.querySelector(arguments[0]);"
            + " const e = document.getElementById(i.id + '-error');"
            + " return e && !e.hidden && e.textContent.includes(arguments[1])"
            + " && i.getAttribute('aria-invalid') === 'true'"
            + " && i.getAttribute('aria-describedby').split(' ').includes(e.id); })()",
        input,
        contains);
  }

  private boolean fieldErrorShown(String input) {
    return Boolean.TRUE.equals(
        alice.js(
            "const i = document.querySelector(arguments[0]);"
                + " const e = document.getElementById(i.id + '-error');"
                + " return !e.hidden || i.hasAttribute('aria-invalid');",
            input));
  }

  /** Types into a field as a user pastes: one insertion of the whole text. */
  private void paste(String css, String text) {
    alice.click(css);
    alice.driver.executeCdpCommand("Input.insertText", Map.of("text", text));
  }

  @Test
  void apiErrorsAppearAtTheirFieldAndAreClearedOnTheNextAttempt() {
    alice.click("#item-title");
    alice.type("Landing page");
    alice.click("#item-ref");
    alice.type("Page 12");
    alice.find("#item-version").clear();
    alice.click("#item-version");
    alice.type("99999999999");
    alice.clickButton("form.add-item", "Add item");
    waitFieldError("#item-ref", "for example page/12");
    waitFieldError("#item-version", "no larger than 2147483647");
    assertThat(fieldErrorShown("#item-title")).as("title was fine").isFalse();
    assertThat(alice.text("return document.activeElement.id"))
        .as("the first invalid field has the focus")
        .isEqualTo("item-ref");
    assertThat(alice.text("return document.querySelector('form.add-item').textContent"))
        .doesNotContain("Some fields are invalid")
        .doesNotContain("contentRef");

    alice.find("#item-ref").clear();
    alice.find("#item-ref").sendKeys("page/12");
    alice.find("#item-version").clear();
    alice.find("#item-version").sendKeys("2");
    alice.clickButton("form.add-item", "Add item");
    alice.waitFor(
        "the item added",
        "[...document.querySelectorAll('table.items tbody tr')]"
            + ".some((r) => r.textContent.includes('Landing page'))");
    alice.waitFor(
        "the stale errors cleared",
        "!document.querySelector('form.add-item [aria-invalid]')"
            + " && [...document.querySelectorAll('form.add-item .field-error')]"
            + ".every((e) => e.hidden)");

    // A whitespace-only comment: the field says so; the next (good) attempt clears it.
    alice.click("#comment-text");
    alice.type("   ");
    alice.clickButton("form.comment-form", "Post comment");
    waitFieldError("#comment-text", "empty");
    alice.type("Looks good");
    assertThat(fieldErrorShown("#comment-text")).as("typing clears the stale error").isFalse();
    alice.clickButton("form.comment-form", "Post comment");
    alice.waitForEntry("Looks good");
    assertThat(fieldErrorShown("#comment-text")).isFalse();
  }

  @Test
  void theSchedulePickerHasAMinimumShowsItsTimeZoneAndRefusesThePast() {
    aliceApi
        .post(
            "/api/projects/" + projectId + "/items",
            "{\"contentRef\":\"page/77\",\"contentVersion\":1,\"title\":\"Sched\",\"type\":\"page\"}")
        .expect(201);
    alice.waitFor("schedule picker", "document.querySelector('#schedule-at')");
    String zone = alice.text("return Intl.DateTimeFormat().resolvedOptions().timeZone");
    assertThat(alice.text("return document.querySelector('#schedule-zone').textContent"))
        .contains("Times in " + zone)
        .contains("(UTC");
    assertThat(
            alice.text(
                "return document.querySelector('#schedule-at').getAttribute('aria-describedby')"))
        .contains("schedule-zone");
    // The minimum is now, to the minute (as the browser's own clock says).
    Object minIsNow =
        alice.js(
            "const min = new Date(document.querySelector('#schedule-at').min);"
                + " return Math.abs(min.getTime() - Date.now()) < 5 * 60 * 1000;");
    assertThat(minIsNow).isEqualTo(Boolean.TRUE);

    // Typed past the picker (a value from before the minimum): the server's sentence, at the field.
    alice.js(
        "const i = document.querySelector('#schedule-at');"
            + " const d = new Date(Date.now() - 3 * 3600 * 1000);"
            + " const p = (n) => String(n).padStart(2, '0');"
            + " i.value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T"
            + "${p(d.getHours())}:${p(d.getMinutes())}`;");
    alice.clickButton("form.schedule", "Schedule");
    waitFieldError("#schedule-at", "Choose a time in the future");
    assertThat(alice.text("return document.querySelector('#schedule-at-error').textContent"))
        .contains("has passed");
  }

  @Test
  void aLongPasteIsKeptWholeAndRefusedWithACounterNotCut() {
    String text = "x".repeat(10_000);
    paste("#comment-text", text);
    assertThat(alice.js("return document.querySelector('#comment-text').value.length"))
        .as("nothing cut from the paste")
        .isEqualTo(10_000L);
    alice.waitFor(
        "the counter shows the length and the limit",
        "(() => { const c = document.querySelector('#comment-text-count');"
            + " return !c.hidden && c.textContent.includes('10,000 / 4,000'); })()");
    waitFieldError("#comment-text", "Shorten it by 6,000");
    alice.clickButton("form.comment-form", "Post comment");
    waitFieldError("#comment-text", "Shorten it by 6,000");
    // Whether that click sent anything is checked below, after a later post has arrived.
    assertThat(alice.js("return document.querySelector('#comment-text').value.length"))
        .isEqualTo(10_000L);

    // Shortened to the limit: the counter is still there, the error is gone and it posts whole.
    alice.js(
        "const t = document.querySelector('#comment-text'); t.value = t.value.slice(0, 4000);"
            + " t.dispatchEvent(new Event('input', { bubbles: true }));");
    assertThat(fieldErrorShown("#comment-text")).isFalse();
    alice.clickButton("form.comment-form", "Post comment");
    alice.waitFor(
        "the comment posted",
        "document.querySelector('#comment-text').value === ''"
            + " && document.querySelector('#comment-text-count').hidden");
    // Only this post arrived: the refused click before it sent nothing, cut or whole.
    assertThat(aliceApi.get("/api/projects/" + projectId + "/activities").expect(200).json())
        .extracting(a -> a.get("message").asText())
        .filteredOn(m -> m.startsWith("xxxx"))
        .extracting(String::length)
        .containsExactly(4000);

    // Names and titles too.
    paste("#item-title", "t".repeat(350));
    assertThat(alice.js("return document.querySelector('#item-title').value.length"))
        .isEqualTo(350L);
    waitFieldError("#item-title", "the limit is 300");
    alice.open("#/projects");
    alice.waitFor("new project form", "document.querySelector('#new-name')");
    paste("#new-name", "n".repeat(250));
    assertThat(alice.js("return document.querySelector('#new-name').value.length")).isEqualTo(250L);
    waitFieldError("#new-name", "Shorten it by 50");
    paste("#new-desc", "d".repeat(5000));
    waitFieldError("#new-desc", "the limit is 4,000");
    alice.clickButton("main form", "Create project");
    waitFieldError("#new-name", "Shorten it by 50");
    assertThat(alice.driver.getCurrentUrl()).endsWith("#/projects");
  }
}
