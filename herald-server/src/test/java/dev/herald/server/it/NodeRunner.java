package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs Node-based test suites (tests/node-ws, clients/js) from JUnit against a {@link TestServer}:
 * installs their npm dev dependencies when missing, passes the server's address, tokens and API key
 * in the environment, and keeps the output in the test report.
 */
final class NodeRunner {
  /** Exit code and combined output of one command. */
  record Result(int exitCode, String output) {}

  private NodeRunner() {}

  /**
   * The start of a Node script that drives headless Chromium (Debian's, or HERALD_CHROMIUM, passed
   * as CHROMIUM) with playwright-core from clients/js (HERALD_JS_DIR): it defines {@code env} and
   * {@code browser}, with the flags that work as root in a container.
   */
  static final String CHROMIUM_SCRIPT_START =
      """
      import { createRequire } from 'node:module';
      const require = createRequire(process.env.HERALD_JS_DIR + '/package.json');
      const { chromium } = require('playwright-core');
      const env = process.env;
      const browser = await chromium.launch({
        executablePath: env.CHROMIUM,
        args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          '--disable-quic', '--no-first-run'],
        timeout: 60000,
      });
      """;

  /** {@code npm ci} unless every listed package is already installed. */
  static void installIfMissing(Path dir, String... packages)
      throws IOException, InterruptedException {
    for (String p : packages) {
      if (!Files.isDirectory(dir.resolve("node_modules").resolve(p))) {
        assertThat(
                run(dir, List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), 300).exitCode())
            .as("npm ci in %s", dir)
            .isZero();
        return;
      }
    }
  }

  /** The environment every Node suite reads: server URL, two users with tokens, the API key. */
  static Map<String, String> environment(TestServer server) {
    return Map.of(
        "HERALD_URL",
        server.baseUrl(),
        "HERALD_USER_A",
        "alice",
        "HERALD_USER_B",
        "bob",
        "HERALD_TOKEN_A",
        server.token("alice"),
        "HERALD_TOKEN_B",
        server.token("bob"),
        "HERALD_API_KEY",
        TestServer.API_KEY);
  }

  /** The JSON of the line a browser script prints as {@code RESULT {json}}; fails without one. */
  static String resultJson(Result r) {
    return r.output()
        .lines()
        .filter(l -> l.startsWith("RESULT "))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no RESULT line:\n" + r.output()))
        .substring("RESULT ".length());
  }

  static Result run(Path dir, List<String> command, Map<String, String> env, int timeoutSeconds)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    Path log = Files.createTempFile("herald-node", ".log");
    pb.directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Process p = pb.start();
    boolean finished = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
    if (!finished) {
      p.destroyForcibly();
    }
    String output = Files.readString(log);
    // Printed through System.out so the test report keeps it.
    System.out.println(String.join(" ", command) + ":\n" + output);
    Files.deleteIfExists(log);
    if (!finished) {
      throw new AssertionError(command + " did not finish in " + timeoutSeconds + " s");
    }
    return new Result(p.exitValue(), output);
  }
}
