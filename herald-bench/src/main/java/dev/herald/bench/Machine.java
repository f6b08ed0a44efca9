package dev.herald.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** What the numbers were measured on. */
final class Machine {
  private Machine() {}

  static Map<String, String> describe() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
    m.put("cpu", cpuModel());
    m.put("kernel", read("/proc/sys/kernel/osrelease"));
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("node", command("node", "--version"));
    m.put("openFiles", command("sh", "-c", "ulimit -n"));
    return m;
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (Exception e) {
      // not Linux
    }
    return "?";
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file)).trim();
    } catch (Exception e) {
      return "?";
    }
  }

  private static String command(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      return out.isEmpty() ? "?" : out;
    } catch (Exception e) {
      return "absent";
    }
  }
}
