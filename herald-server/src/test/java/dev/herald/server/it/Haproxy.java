package dev.herald.server.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;

/**
 * A real HAProxy for tests, in the foreground ({@code -db}) as a child process with its own
 * configuration in a temporary directory, listening only on the loopback port the test chose.
 * {@link #close()} stops it by its PID and removes the directory. The binary is /usr/sbin/haproxy,
 * or the path in {@code HERALD_HAPROXY}.
 */
final class Haproxy implements AutoCloseable {
  static final Path BINARY =
      Path.of(System.getenv().getOrDefault("HERALD_HAPROXY", "/usr/sbin/haproxy"));

  private final Path dir;
  private final Process process;

  private Haproxy(Path dir, Process process) {
    this.dir = dir;
    this.process = process;
  }

  /**
   * Starts HAProxy in HTTP mode on {@code port}, forwarding to {@code 127.0.0.1:upstream}, with
   * {@code timeouts} (lines such as {@code timeout tunnel 3s}) in its defaults section.
   */
  static Haproxy start(int port, int upstream, String timeouts) {
    try {
      Path dir = Files.createTempDirectory("herald-haproxy-");
      String conf =
          """
          # Written by the Herald tests (Haproxy.java).
          defaults
            mode http
            timeout connect 5s
          %s
          frontend herald
            bind 127.0.0.1:%d
            default_backend herald
          backend herald
            server herald 127.0.0.1:%d
          """
              .formatted(timeouts.indent(2), port, upstream);
      Path file = dir.resolve("haproxy.cfg");
      Files.writeString(file, conf);
      Process p =
          new ProcessBuilder(BINARY.toString(), "-db", "-f", file.toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("haproxy.log").toFile())
              .start();
      Haproxy h = new Haproxy(dir, p);
      try {
        Awaitility.await("haproxy listening on " + port)
            .atMost(Duration.ofSeconds(15))
            .pollInterval(Duration.ofMillis(20))
            .until(() -> !p.isAlive() || Nginx.allListen(new int[] {port}));
      } catch (RuntimeException e) {
        h.close();
        throw e;
      }
      if (!p.isAlive()) {
        String log = h.log();
        h.close();
        throw new AssertionError("haproxy exited; configuration:\n" + conf + "\nlog:\n" + log);
      }
      return h;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + BINARY, e);
    }
  }

  String log() {
    try {
      Path f = dir.resolve("haproxy.log");
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** Stops the process by its PID (SIGTERM, then SIGKILL), then removes the directory. */
  @Override
  public void close() {
    ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroy);
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroyForcibly);
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temp directory left behind is harmless
    }
  }
}
