package dev.herald.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A process the benchmark started: a server (output to a log file) or a load worker (line commands
 * on stdin, answers on stdout). Stopped by its own PID only.
 */
final class ChildProcess implements AutoCloseable {
  final String name;
  final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final @Nullable PrintWriter stdin; // null for a server: it takes no commands

  /** Every child still running, so that an interrupted run (Ctrl+C, SIGTERM) leaves none behind. */
  private static final java.util.Set<Process> LIVE =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> LIVE.forEach(Process::destroyForcibly), "bench-children"));
  }

  private ChildProcess(String name, Process process, boolean talk) {
    this.name = name;
    this.process = process;
    LIVE.add(process);
    // The callback is all that matters; the future it returns carries nothing.
    var unused = process.onExit().thenRun(() -> LIVE.remove(process));
    if (talk) {
      stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
      Thread t =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    lines.add(line);
                  }
                } catch (IOException e) {
                  // process ended
                }
                lines.add("EOF");
              },
              name + "-stdout");
      t.setDaemon(true);
      t.start();
    } else {
      stdin = null;
    }
  }

  /** A server whose output goes to {@code log}. */
  static ChildProcess server(String name, List<String> command, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return new ChildProcess(name, pb.start(), false);
  }

  /** A worker that answers on stdout; its stderr goes to {@code log}. */
  static ChildProcess worker(String name, List<String> command, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return new ChildProcess(name, pb.start(), true);
  }

  long pid() {
    return process.pid();
  }

  void send(String command) {
    if (stdin == null) {
      throw new IllegalStateException(name + " is a server: it takes no commands");
    }
    stdin.println(command);
  }

  /** The next stdout line starting with {@code prefix} (others are skipped). */
  String expect(String prefix, long timeoutSeconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (true) {
      String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw new IllegalStateException(
            name + ": no '" + prefix + "' within " + timeoutSeconds + " s");
      }
      if (line.equals("EOF")) {
        throw new IllegalStateException(
            name + " exited (code " + exitCode() + ") before '" + prefix + "'");
      }
      if (line.startsWith(prefix)) {
        return line.substring(prefix.length()).trim();
      }
    }
  }

  private String exitCode() {
    try {
      return process.waitFor(2, TimeUnit.SECONDS) ? Integer.toString(process.exitValue()) : "?";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "?";
    }
  }

  /** Waits until something accepts TCP connections on the port. */
  static void awaitPort(ChildProcess owner, int port, long timeoutSeconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (System.nanoTime() < deadline) {
      if (!owner.process.isAlive()) {
        throw new IllegalStateException(
            owner.name + " exited with code " + owner.process.exitValue() + " (see its log)");
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
        return;
      } catch (IOException e) {
        Thread.sleep(50); // polling a port that is not open yet
      }
    }
    throw new IllegalStateException(
        owner.name + " did not open port " + port + " in " + timeoutSeconds + " s");
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** SIGTERM, then SIGKILL after {@code graceSeconds}; by this process's own handle only. */
  @Override
  public void close() {
    if (stdin != null) {
      stdin.close();
    }
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
