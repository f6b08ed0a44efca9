package dev.herald.server.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A real HAProxy for tests, isolated in a temporary directory: its own haproxy.cfg and output log,
 * listening only on loopback ports the test chose. It runs in the foreground ({@code -db}) as a
 * child process; {@link #close()} stops it by its PID (SIGTERM, then SIGKILL if it does not exit)
 * and removes the directory.
 *
 * <p>The binary is /usr/sbin/haproxy, or the path in {@code HERALD_HAPROXY}.
 */
final class HAProxy implements AutoCloseable {
  static final Path BINARY =
      Path.of(System.getenv().getOrDefault("HERALD_HAPROXY", "/usr/sbin/haproxy"));
  private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

  private final Path dir;
  private final Process process;

  private HAProxy(Path dir, Process process) {
    this.dir = dir;
    this.process = process;
  }

  /**
   * Writes haproxy.cfg with a {@code global} section of its own and {@code sections} (defaults,
   * frontends, backends) after it, starts HAProxy and waits until it listens on every port in
   * {@code ports}.
   */
  static HAProxy start(String sections, int... ports) {
    Path dir;
    try {
      dir = Files.createTempDirectory("herald-haproxy-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String conf =
        """
        # Written by the Herald tests (HAProxy.java).
        global
          maxconn 4000

        %s
        """
            .formatted(sections);
    Path confFile = dir.resolve("haproxy.cfg");
    Path out = dir.resolve("haproxy.log");
    Process p;
    try {
      Files.writeString(confFile, conf);
      ProcessBuilder pb = new ProcessBuilder(BINARY.toString(), "-db", "-f", confFile.toString());
      pb.redirectErrorStream(true).redirectOutput(out.toFile());
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + BINARY, e);
    }
    try {
      Awaitility.await("haproxy listening")
          .atMost(START_TIMEOUT)
          .pollInterval(Duration.ofMillis(20))
          .until(() -> !p.isAlive() || Nginx.allListen(ports));
    } catch (ConditionTimeoutException e) {
      p.destroyForcibly();
      throw new AssertionError("haproxy did not start; output:\n" + read(out), e);
    }
    if (!p.isAlive()) {
      throw new AssertionError(
          "haproxy exited with "
              + p.exitValue()
              + "; configuration:\n"
              + conf
              + "\noutput:\n"
              + read(out));
    }
    return new HAProxy(dir, p);
  }

  String output() {
    return read(dir.resolve("haproxy.log"));
  }

  /** Stops HAProxy by its PID, then removes the directory. */
  @Override
  public void close() {
    ProxyProcesses.stop(process, process.pid());
    System.out.println("haproxy output (" + dir + "):\n" + output());
    ProxyProcesses.removeDirectory(dir);
  }

  private static String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }
}
