package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
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
    NodeRunner.installIfMissing(DIR, "ws");
    NodeRunner.Result result =
        NodeRunner.run(
            DIR,
            List.of("node", "--test", "--test-reporter=spec"),
            NodeRunner.environment(server),
            300);
    assertThat(result.exitCode()).as("node --test exit code").isZero();
  }
}
