package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs tests/node-ws, a client written only from docs/protocol.md with Node's {@code ws} package,
 * against a real server. Needs node and npm on the PATH (installed by .ci/run).
 */
class NodeConformanceIT {
  @RegisterExtension static final TestServer server = TestServer.perClass();
  static final Path DIR = Path.of("..", "tests", "node-ws").toAbsolutePath().normalize();

  @Test
  void thirdPartyClientFollowingTheSpecPasses() throws Exception {
    assertThat(DIR.resolve("package.json")).exists();
    if (!Files.isDirectory(DIR.resolve("node_modules").resolve("ws"))) {
      assertThat(run(new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund"), 300)).as("npm ci").isZero();
    }
    ProcessBuilder test = new ProcessBuilder("node", "--test", "--test-reporter=spec");
    Map<String, String> env = test.environment();
    env.put("HERALD_URL", server.baseUrl());
    env.put("HERALD_USER_A", "alice");
    env.put("HERALD_USER_B", "bob");
    env.put("HERALD_TOKEN_A", server.token("alice"));
    env.put("HERALD_TOKEN_B", server.token("bob"));
    env.put("HERALD_API_KEY", TestServer.API_KEY);
    assertThat(run(test, 300)).as("node --test exit code").isZero();
  }

  private static int run(ProcessBuilder pb, int timeoutSeconds) throws IOException, InterruptedException {
    Path log = Files.createTempFile("herald-node", ".log");
    pb.directory(DIR.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Process p = pb.start();
    boolean finished = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
    if (!finished) {
      p.destroyForcibly();
    }
    // Printed through System.out so the test report keeps it.
    System.out.println(String.join(" ", pb.command()) + ":\n" + Files.readString(log));
    Files.deleteIfExists(log);
    if (!finished) {
      throw new AssertionError(pb.command() + " did not finish in " + timeoutSeconds + " s");
    }
    return p.exitValue();
  }
}
