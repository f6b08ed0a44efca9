package dev.herald.app.ui;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * One user's browser: a real headless Chromium (Debian's {@code chromium}, driven by Debian's
 * {@code chromedriver}, both set explicitly so Selenium Manager never downloads anything) with its
 * own fresh profile, plus the few page-level actions the end-to-end tests need.
 *
 * <p>Every wait is explicit (a JavaScript condition polled by {@link WebDriverWait}); nothing
 * sleeps.
 */
final class Browser implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(20);

  /** Installed before every page's own scripts: collects uncaught errors and rejections. */
  private static final String ERROR_COLLECTOR =
      "window.__errors = [];"
          + "window.addEventListener('error', (e) => { if (e.error || e.message)"
          + " window.__errors.push(String(e.message)); });"
          + "window.addEventListener('unhandledrejection', (e) =>"
          + " window.__errors.push('unhandled rejection: ' + (e.reason && e.reason.message"
          + " || e.reason)));";

  final String user;
  final ChromeDriver driver;
  private final String base;
  private final Path profile;

  private Browser(String user, String base, ChromeDriver driver, Path profile) {
    this.user = user;
    this.base = base;
    this.driver = driver;
    this.profile = profile;
  }

  static String chromium() {
    return System.getProperty("herald.chromium", "/usr/bin/chromium");
  }

  static String chromedriver() {
    return System.getProperty("herald.chromedriver", "/usr/bin/chromedriver");
  }

  static Browser start(String user, String base) {
    for (String exe : List.of(chromium(), chromedriver())) {
      if (!Files.isExecutable(Path.of(exe))) {
        throw new IllegalStateException(
            exe
                + " not found: the browser tests need Debian's packages 'chromium' and "
                + "'chromium-driver' (apt-get install -y chromium chromium-driver), or "
                + "-Dherald.chromium=... -Dherald.chromedriver=...");
      }
    }
    Path profile;
    try {
      profile = Files.createTempDirectory("herald-chromium-" + user);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    ChromeOptions o = new ChromeOptions();
    o.setBinary(chromium());
    o.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--password-store=basic",
        "--lang=en-US",
        "--window-size=1280,900",
        "--user-data-dir=" + profile);
    o.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(chromedriver()))
            .usingAnyFreePort()
            .build();
    ChromeDriver driver = new ChromeDriver(service, o);
    driver.manage().timeouts().scriptTimeout(WAIT);
    driver.executeCdpCommand(
        "Page.addScriptToEvaluateOnNewDocument", Map.of("source", ERROR_COLLECTOR));
    return new Browser(user, base, driver, profile);
  }

  // ------------------------------------------------------------------ low level

  Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  String text(String script, Object... args) {
    Object v = js(script, args);
    return v == null ? null : v.toString();
  }

  /** Waits until the JavaScript expression {@code condition} (may use arguments[i]) is truthy. */
  void waitFor(String what, String condition, Object... args) {
    new WebDriverWait(driver, WAIT)
        .withMessage(() -> user + ": " + what)
        .ignoring(StaleElementReferenceException.class)
        .until(
            d -> {
              Object v = js("return !!(" + condition + ");", args);
              return Boolean.TRUE.equals(v) ? Boolean.TRUE : null;
            });
  }

  WebElement find(String css) {
    return driver.findElement(By.cssSelector(css));
  }

  /** Waits for an element that is displayed, and returns it. */
  WebElement visible(String css) {
    return new WebDriverWait(driver, WAIT)
        .withMessage(() -> user + ": " + css + " displayed")
        .ignoring(StaleElementReferenceException.class)
        .until(
            d -> {
              List<WebElement> found = d.findElements(By.cssSelector(css));
              return found.isEmpty() || !found.get(0).isDisplayed() ? null : found.get(0);
            });
  }

  /**
   * Clicks the displayed element matched by {@code css}; when a live update re-renders it between
   * finding and clicking (a stale element), finds it again and clicks that, as a user would.
   */
  void click(String css) {
    new WebDriverWait(driver, WAIT)
        .withMessage(() -> user + ": click " + css)
        .ignoring(StaleElementReferenceException.class)
        .until(
            d -> {
              WebElement e = visible(css);
              centre(e);
              e.click();
              return Boolean.TRUE;
            });
  }

  /**
   * Scrolls {@code e} to the middle of the window, as a person would before clicking it: the
   * driver's own scrolling brings it to an edge, where a sticky bar can lie over it.
   */
  private void centre(WebElement e) {
    js("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", e);
  }

  /** Clicks the button with this exact text inside the element matched by {@code scope}. */
  void clickButton(String scope, String label) {
    WebElement b =
        new WebDriverWait(driver, WAIT)
            .withMessage(() -> user + ": button '" + label + "' in " + scope)
            .ignoring(StaleElementReferenceException.class)
            .until(
                d ->
                    d.findElements(By.cssSelector(scope + " button")).stream()
                        .filter(e -> e.isDisplayed() && e.getText().trim().equals(label))
                        .findFirst()
                        .orElse(null));
    centre(b);
    b.click();
  }

  /** Types into whatever has the focus, as a user would. */
  void type(CharSequence... keys) {
    new Actions(driver).sendKeys(keys).perform();
  }

  void press(Keys key) {
    new Actions(driver).sendKeys(key).perform();
  }

  /** The focused element, described as {@code tag#id} or {@code tag "text"}. */
  String focused() {
    return text(
        "const e = document.activeElement; if (!e) return 'none';"
            + "return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')"
            + " + ' \"' + (e.getAttribute('aria-label') || e.textContent || '').trim()"
            + ".slice(0, 40) + '\"';");
  }

  /** Presses Tab until the focused element matches {@code css}; fails after {@code max}. */
  void tabTo(String css, int max) {
    StringBuilder path = new StringBuilder();
    for (int i = 0; i < max; i++) {
      press(Keys.TAB);
      path.append(" -> ").append(focused());
      if (Boolean.TRUE.equals(js("return document.activeElement.matches(arguments[0]);", css))) {
        return;
      }
    }
    throw new AssertionError(user + ": " + css + " not reached with Tab; focus went" + path);
  }

  // ------------------------------------------------------------------ app level

  void open(String hashPath) {
    driver.get(base + "/" + hashPath);
  }

  /** Fills in the login form and submits it with Enter, typing like a user. */
  void submitLogin(String password) {
    WebElement name = visible("#login-user");
    name.click();
    type(user);
    press(Keys.TAB);
    type(password);
    press(Keys.ENTER);
  }

  /** Logs in through the form (password {@code pw-<user>}) and waits until the page is live. */
  void logIn() {
    open("");
    submitLogin("pw-" + user);
    waitSignedIn();
    waitLive();
  }

  void waitSignedIn() {
    waitFor("signed in", "!document.querySelector('#session-controls').hidden");
  }

  /** Marks the document; {@link #assertNotReloaded()} then proves no reload happened since. */
  void markPage() {
    js("window.__sameDocument = 'yes';");
  }

  void assertNotReloaded() {
    if (!"yes".equals(text("return window.__sameDocument;"))) {
      throw new AssertionError(user + ": the page was reloaded");
    }
  }

  void waitLive() {
    waitFor(
        "connection indicator live",
        "document.querySelector('#connection').dataset.state === 'live'"
            + " && document.querySelector('#banner').hidden");
  }

  String connectionState() {
    return text("return document.querySelector('#connection').dataset.state;");
  }

  /** The number on the bell's badge; 0 when the badge is hidden. */
  int badge() {
    Object v =
        js(
            "const b = document.querySelector('#badge');"
                + " return b.hidden ? 0 : parseInt(b.textContent, 10);");
    return ((Number) v).intValue();
  }

  void waitBadge(int expected) {
    waitFor(
        "badge shows " + expected,
        "(() => { const b = document.querySelector('#badge');"
            + " return (b.hidden ? 0 : parseInt(b.textContent, 10)) === arguments[0]; })()",
        expected);
  }

  /** Waits for an activity whose message text contains {@code text}. */
  void waitForEntry(String text) {
    waitFor(
        "feed entry containing '" + text + "'",
        "[...document.querySelectorAll('#main .feed > .entry > .entry-body > .message')]"
            + ".some((p) => p.textContent.includes(arguments[0]))",
        text);
  }

  /** The {@code .entry} list item whose message contains {@code text} (CSS id selector). */
  String entrySelector(String text) {
    String id =
        text(
            "const p = [...document.querySelectorAll('#main .feed > .entry > .entry-body > "
                + ".message')].find((p) => p.textContent.includes(arguments[0]));"
                + " return p ? p.closest('.entry').id : null;",
            text);
    if (id == null) {
      throw new AssertionError(user + ": no feed entry containing " + text);
    }
    return "#" + id;
  }

  void waitItemStatus(long itemId, String status) {
    waitFor(
        "item " + itemId + " in status " + status,
        "document.querySelector(`tr[data-item='${arguments[0]}'] .item-status`)"
            + "?.dataset.status === arguments[1]",
        itemId,
        status);
  }

  /** The uncaught errors and unhandled rejections the page has had. */
  List<String> pageErrors() {
    Object v = js("return window.__errors;");
    if (v == null) {
      throw new AssertionError(user + ": the error collector is not installed");
    }
    @SuppressWarnings("unchecked")
    List<Object> list = (List<Object>) v;
    return list.stream().map(String::valueOf).collect(Collectors.toList());
  }

  void screenshot(Path file) {
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
    } catch (IOException e) {
      throw new IllegalStateException("cannot write " + file, e);
    }
  }

  /** Screenshot, page HTML and console log, for a failed test. Best effort. */
  void dump(Path dir, String prefix) {
    try {
      Files.createDirectories(dir);
      screenshot(dir.resolve(prefix + "-" + user + ".png"));
      Files.writeString(dir.resolve(prefix + "-" + user + ".html"), driver.getPageSource());
      StringBuilder log = new StringBuilder();
      driver
          .manage()
          .logs()
          .get("browser")
          .forEach(e -> log.append(e.getLevel()).append(' ').append(e.getMessage()).append('\n'));
      Files.writeString(dir.resolve(prefix + "-" + user + ".log"), log);
    } catch (RuntimeException | IOException e) {
      // diagnostics only
    }
  }

  /** Closes each of these (browsers, the app) that is not null, whatever the others do. */
  static void closeAll(AutoCloseable... all) {
    for (AutoCloseable c : all) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          // keep closing the others
        }
      }
    }
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      try (Stream<Path> walk = Files.walk(profile)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException | RuntimeException e) {
        // temporary profile; best effort
      }
    }
  }
}
