package dev.herald.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU and memory of a process from /proc (Linux). */
final class ProcStats {
  /** Clock ticks per second of utime/stime; 100 on every common Linux build. */
  static final double TICKS = 100.0;

  private ProcStats() {}

  /** {user, system} CPU ticks of the process, or zeros if it is gone. */
  static long[] cpuTicks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // the command name (field 2) may hold spaces; fields after it are space-separated
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
      return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 0};
    }
  }

  /** Resident set size in KiB, or 0 if the process is gone. */
  static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return 0;
  }

  /** Machine-wide {busy, total} ticks from /proc/stat, to tell when the whole machine is busy. */
  /** Open file descriptors of a process (entries of /proc/PID/fd). */
  static long openFds(long pid) {
    try (java.util.stream.Stream<Path> fds =
        Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      return fds.count();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static long[] machineTicks() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+", -1);
      long total = 0;
      for (int i = 1; i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total - idle, total};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 1};
    }
  }
}
