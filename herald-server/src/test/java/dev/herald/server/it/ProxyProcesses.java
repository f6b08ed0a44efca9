package dev.herald.server.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** What the proxy fixtures ({@link Nginx}, {@link HAProxy}) share: stopping and cleaning up. */
final class ProxyProcesses {
  private ProxyProcesses() {}

  /**
   * Stops the process {@code pid} (SIGTERM, then SIGKILL if it does not exit) started as {@code p}.
   */
  static void stop(Process p, long pid) {
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        p.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Removes a fixture's temporary directory. */
  static void removeDirectory(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temp directory left behind is harmless
    }
  }
}
