package dev.herald.redis;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A real redis-server for tests: its own port, directory and pid file, no persistence. Started,
 * killed and restarted by PID (a restart keeps the port, so clients reconnect to it, and starts
 * empty, like a Redis without persistence that crashed).
 */
public final class RedisServer implements AutoCloseable {
  private final Path dir;
  private final int port;
  // Sentinel mode: the config file it is started with (a sentinel rewrites it); else null.
  private final Path sentinelConfig;
  private final List<String> extraArgs;
  private long pid = -1;

  private RedisServer(Path dir, int port, Path sentinelConfig, List<String> extraArgs) {
    this.dir = dir;
    this.port = port;
    this.sentinelConfig = sentinelConfig;
    this.extraArgs = extraArgs;
  }

  /** Starts redis-server on a free port. */
  public static RedisServer start() {
    return start(List.of());
  }

  /** Starts redis-server on a free port as a replica of {@code master}. */
  public static RedisServer replicaOf(RedisServer master) {
    return start(List.of("--replicaof", "127.0.0.1", Integer.toString(master.port())));
  }

  private static RedisServer start(List<String> extraArgs) {
    try {
      Path dir = Files.createTempDirectory("herald-redis-");
      RedisServer s = new RedisServer(dir, freePort(), null, extraArgs);
      s.launch();
      return s;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Starts redis-server on a free port as a Redis Cluster node (not yet part of a cluster: see
   * {@link RedisCluster}), calling other nodes failed after {@code nodeTimeoutMillis} without an
   * answer. A replica takes over from its failed master however long it was cut off from it, and
   * the slots of other masters keep working while one master is down.
   */
  public static RedisServer clusterNode(long nodeTimeoutMillis) {
    return start(
        List.of(
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            Long.toString(nodeTimeoutMillis),
            "--cluster-replica-validity-factor",
            "0",
            "--cluster-require-full-coverage",
            "no"));
  }

  /**
   * Starts a sentinel (redis-server --sentinel) on a free port, monitoring {@code master} as {@code
   * name} with the given quorum, calling it down after {@code downAfterMillis} without an answer.
   */
  public static RedisServer sentinel(
      RedisServer master, String name, int quorum, long downAfterMillis) {
    try {
      Path dir = Files.createTempDirectory("herald-sentinel-");
      Path config = dir.resolve("sentinel.conf");
      Files.writeString(
          config,
          String.join(
              "\n",
              "sentinel monitor " + name + " 127.0.0.1 " + master.port() + " " + quorum,
              "sentinel down-after-milliseconds " + name + " " + downAfterMillis,
              "sentinel failover-timeout " + name + " " + Math.max(1000, 3 * downAfterMillis),
              ""));
      RedisServer s = new RedisServer(dir, freePort(), config, List.of());
      s.launch();
      return s;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public long pid() {
    return pid;
  }

  private void launch() throws IOException {
    Path pidFile = dir.resolve("redis.pid");
    Files.deleteIfExists(pidFile);
    List<String> args = new java.util.ArrayList<>();
    args.add(binary());
    if (sentinelConfig != null) {
      args.addAll(List.of(sentinelConfig.toString(), "--sentinel"));
    } else {
      args.addAll(List.of("--save", "", "--appendonly", "no"));
    }
    args.addAll(
        List.of(
            "--port",
            Integer.toString(port),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--pidfile",
            pidFile.toString(),
            "--dir",
            dir.toString(),
            "--logfile",
            dir.resolve("redis.log").toString()));
    args.addAll(extraArgs);
    Process p =
        new ProcessBuilder(args)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("launch.out").toFile())
            .start();
    try {
      if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(
            "redis-server did not start: " + Files.readString(dir.resolve("launch.out")));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> Files.exists(pidFile) && Files.size(pidFile) > 0 && accepting());
    pid = Long.parseLong(Files.readString(pidFile).trim());
  }

  private boolean accepting() {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** kill -9: the server vanishes with all its data. */
  public void kill() {
    if (pid > 0) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      long p = pid;
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> ProcessHandle.of(p).isEmpty() && !accepting());
      pid = -1;
    }
  }

  /** Freezes the process (SIGSTOP): it keeps its sockets but answers nothing. */
  public void pause() {
    signal("-STOP");
  }

  /** Lets a paused process run again (SIGCONT). */
  public void resume() {
    signal("-CONT");
  }

  private void signal(String signal) {
    try {
      Process p = new ProcessBuilder("kill", signal, Long.toString(pid)).start();
      if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("kill " + signal + " " + pid + " failed");
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts the server again on the same port, empty. */
  public void restart() {
    try {
      launch();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs one redis-cli command against this server and returns its output, trimmed. */
  public String cli(String... command) {
    try {
      java.util.List<String> args = new java.util.ArrayList<>();
      args.add("redis-cli");
      args.add("-p");
      args.add(Integer.toString(port));
      args.addAll(java.util.List.of(command));
      Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("redis-cli did not finish: " + args);
      }
      return out;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The master's replication offset (INFO replication master_repl_offset): bytes replicated. */
  public long replicationOffset() {
    for (String line : (Iterable<String>) cli("info", "replication").lines()::iterator) {
      if (line.startsWith("master_repl_offset:")) {
        return Long.parseLong(line.substring("master_repl_offset:".length()).trim());
      }
    }
    throw new IllegalStateException("no master_repl_offset");
  }

  /** Memory used by Redis right now (INFO memory used_memory), in bytes. */
  public long usedMemory() throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("redis-cli", "-p", Integer.toString(port), "info", "memory")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    for (String line : out.split("\r?\n")) {
      if (line.startsWith("used_memory:")) {
        return Long.parseLong(line.substring("used_memory:".length()).trim());
      }
    }
    throw new IllegalStateException("no used_memory in: " + out);
  }

  @Override
  public void close() {
    kill();
  }

  private static String binary() {
    String env = System.getenv("HERALD_REDIS_SERVER");
    if (env != null && !env.isBlank()) {
      return env;
    }
    return Files.isExecutable(Path.of("/usr/bin/redis-server"))
        ? "/usr/bin/redis-server"
        : "redis-server";
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
