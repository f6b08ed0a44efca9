package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * herald.js as an npm package: the build packs clients/js into the publishable tarball ({@code npm
 * pack}, in {@code herald-server/target/npm}), with the server's version; the tarball installs into
 * a scratch project (offline: it has no dependencies) and is imported there by Node and by Chromium
 * through an import map, with no bundler, as docs/client-js.md tells.
 */
class NpmPackageIT {
  static final Path JS = Path.of("..", "clients", "js").toAbsolutePath().normalize();
  static final Path OUT = Path.of("target", "npm").toAbsolutePath();

  /** The page's own server: another origin on the loopback address, as Chromium requires. */
  static HttpServer pages;

  static String pageOrigin;
  static final ObjectMapper JSON = new ObjectMapper();
  static TestServer server;
  static Path tarball;
  static Path scratch;

  @BeforeAll
  static void packAndInstall() throws Exception {
    pages = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    pages.createContext("/", NpmPackageIT::servePage);
    pages.start();
    pageOrigin = "http://127.0.0.1:" + pages.getAddress().getPort();
    Map<String, String> config = TestServer.baseConfig();
    config.put("server.allowed-origins", pageOrigin);
    server = TestServer.start(config);
    Files.createDirectories(OUT);
    NodeRunner.Result pack =
        NodeRunner.run(
            JS,
            List.of("npm", "pack", "--json", "--pack-destination", OUT.toString()),
            Map.of(),
            120);
    assertThat(pack.exitCode()).as("npm pack").isZero();
    JsonNode packed = JSON.readTree(pack.output().substring(pack.output().indexOf('[')));
    tarball = OUT.resolve(packed.get(0).path("filename").asText());
    assertThat(tarball).exists();
    scratch = Files.createTempDirectory(OUT, "scratch-");
    Files.writeString(
        scratch.resolve("package.json"),
        "{\"name\":\"scratch\",\"private\":true,\"type\":\"module\"}\n");
    NodeRunner.Result install =
        NodeRunner.run(
            scratch,
            List.of(
                "npm",
                "install",
                "--offline",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                tarball.toString()),
            Map.of(),
            120);
    assertThat(install.exitCode()).as("npm install of the tarball").isZero();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (pages != null) {
      pages.stop(0);
    }
  }

  /**
   * The page (an import map naming the installed package, a module script importing it by name) and
   * the scratch project's node_modules, as any static file server would serve them.
   */
  static void servePage(HttpExchange ex) throws java.io.IOException {
    String path = ex.getRequestURI().getPath();
    byte[] body;
    String type;
    Path file = scratch == null ? null : scratch.resolve(path.substring(1)).normalize();
    if (path.equals("/")) {
      body = PAGE.getBytes(StandardCharsets.UTF_8);
      type = "text/html; charset=utf-8";
    } else if (file != null
        && file.startsWith(scratch.resolve("node_modules"))
        && Files.isRegularFile(file)) {
      body = Files.readAllBytes(file);
      type = path.endsWith(".js") ? "text/javascript; charset=utf-8" : "application/octet-stream";
    } else {
      body = "not found".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(404, body.length);
      ex.getResponseBody().write(body);
      ex.close();
      return;
    }
    ex.getResponseHeaders().add("Content-Type", type);
    ex.sendResponseHeaders(200, body.length);
    ex.getResponseBody().write(body);
    ex.close();
  }

  static final String PAGE =
      """
      <!doctype html>
      <html><head>
      <script type="importmap">
        { "imports": { "@herald/client": "/node_modules/@herald/client/src/herald.js" } }
      </script>
      </head><body>
      <script type="module">
        import { Herald } from '@herald/client';
        window.Herald = Herald;
        window.heraldLoaded = typeof Herald;
      </script>
      </body></html>
      """;

  static String mavenVersion() throws Exception {
    String pom = Files.readString(Path.of("..", "pom.xml"), StandardCharsets.UTF_8);
    Matcher m =
        Pattern.compile("<artifactId>herald-parent</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(pom);
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  @Test
  void theTarballIsNamedVersionedAndHoldsOnlyWhatIsPublished() throws Exception {
    String version = mavenVersion();
    assertThat(tarball.getFileName().toString()).isEqualTo("herald-client-" + version + ".tgz");
    NodeRunner.Result list =
        NodeRunner.run(OUT, List.of("tar", "-tzf", tarball.toString()), Map.of(), 60);
    List<String> entries = list.output().lines().filter(l -> l.startsWith("package/")).toList();
    assertThat(entries)
        .contains(
            "package/package.json",
            "package/README.md",
            "package/LICENSE",
            "package/src/herald.js",
            "package/src/herald.d.ts")
        .noneMatch(e -> e.startsWith("package/test/") || e.contains("node_modules"));
    JsonNode manifest =
        JSON.readTree(scratch.resolve("node_modules/@herald/client/package.json").toFile());
    assertThat(manifest.path("name").asText()).isEqualTo("@herald/client");
    assertThat(manifest.path("version").asText()).isEqualTo(version);
    assertThat(manifest.path("dependencies").isMissingNode()).isTrue();
    // Every file the exports map names is in the package.
    List<String> targets = new ArrayList<>();
    manifest.path("exports").path(".").forEach(t -> targets.add(t.asText()));
    assertThat(targets).contains("./src/herald.js", "./src/herald.d.ts");
    for (String t : targets) {
      assertThat(entries).contains("package/" + t.substring(2));
    }
  }

  @Test
  void nodeImportsTheInstalledPackage() throws Exception {
    NodeRunner.Result r =
        NodeRunner.run(
            scratch,
            List.of(
                "node",
                "--input-type=module",
                "-e",
                "import { Herald, VERSION } from '@herald/client';"
                    + " const h = new Herald('"
                    + server.baseUrl()
                    + "', { storage: null });"
                    + " console.log('IMPORTED', typeof Herald, typeof h.subscribe, VERSION);"),
            Map.of(),
            60);
    assertThat(r.exitCode()).as("%s", r.output()).isZero();
    // The library version it reports in connect is the package's, the server's.
    assertThat(r.output()).contains("IMPORTED function function " + mavenVersion());
  }

  @Test
  void chromiumImportsItThroughAnImportMapAndGetsAPublication() throws Exception {
    NodeRunner.installIfMissing(JS, "playwright-core");
    Path script = scratch.resolve("browser.mjs");
    Files.writeString(script, BROWSER_SCRIPT);
    NodeRunner.Result r =
        NodeRunner.run(
            scratch,
            List.of("node", script.toString()),
            Map.of(
                "HERALD_JS_DIR", JS.toString(),
                "SCRATCH", scratch.toString(),
                "PAGE_ORIGIN", pageOrigin,
                "HERALD_URL", server.baseUrl(),
                "TOKEN", server.token("alice"),
                "API_KEY", TestServer.API_KEY,
                "CHROMIUM", System.getenv().getOrDefault("HERALD_CHROMIUM", "/usr/bin/chromium")),
            180);
    assertThat(r.exitCode()).as("%s", r.output()).isZero();
    JsonNode result = JSON.readTree(NodeRunner.resultJson(r));
    assertThat(result.path("received").path("text").asText()).isEqualTo("from npm");
  }

  /**
   * The page on its own origin maps {@code @herald/client} to the installed package with an import
   * map; the script connects to the Herald server (another origin), subscribes, and reports the
   * publication made meanwhile over HTTP.
   */
  private static final String BROWSER_SCRIPT =
      NodeRunner.CHROMIUM_SCRIPT_START
          + """
      const lines = [];
      try {
        const page = await browser.newPage();
        page.on('console', (m) => lines.push(m.type() + ': ' + m.text()));
        page.on('pageerror', (e) => lines.push('pageerror: ' + e.message));
        await page.goto(env.PAGE_ORIGIN + '/');
        await page.waitForFunction(() => window.heraldLoaded === 'function', null, { timeout: 30000 });
        await page.evaluate(async ({ url, token }) => {
          const herald = new window.Herald(url, { token, storage: null });
          window.received = new Promise((resolve) => {
            const sub = herald.subscribe('test:npm', { onPublication: (p) => resolve(p.data) });
            window.subscribed = sub.ready();
          });
          herald.connect();
          await herald.ready({ timeout: 30000 });
          await window.subscribed;
        }, { url: env.HERALD_URL, token: env.TOKEN });
        const res = await fetch(env.HERALD_URL + '/api/v1/publish', {
          method: 'POST',
          headers: { Authorization: 'Bearer ' + env.API_KEY, 'Content-Type': 'application/json' },
          body: JSON.stringify({ channel: 'test:npm', data: { text: 'from npm' } }),
        });
        if (res.status !== 200) throw new Error('publish: ' + res.status + ' ' + await res.text());
        const received = await page.evaluate(() => window.received);
        console.log('RESULT ' + JSON.stringify({ received }));
      } catch (e) {
        console.log('FAILED ' + e.stack + '\\n' + lines.join('\\n'));
        process.exitCode = 1;
      } finally {
        await browser.close();
      }
      """;
}
