package dev.herald.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The server side of one run: the floor, one or more Herald nodes (with a redis-server when the
 * cluster uses the Redis broker), or the Socket.IO peer, each a child process on a free port.
 */
final class Deployment implements AutoCloseable {
  /** What to run: a server type, its extra configuration, and how many nodes. */
  record Spec(String label, String type, Map<String, String> props, int nodes, boolean redis) {
    static Spec of(String label, String type) {
      return new Spec(label, type, Map.of(), 1, false);
    }

    Spec with(String key, String value) {
      Map<String, String> p = new LinkedHashMap<>(props);
      p.put(key, value);
      return new Spec(label, type, p, nodes, redis);
    }

    Spec labelled(String newLabel) {
      return new Spec(newLabel, type, props, nodes, redis);
    }

    boolean herald() {
      return type.equals("herald");
    }
  }

  final Spec spec;
  final List<ChildProcess> nodes = new ArrayList<>();
  final List<Integer> ports = new ArrayList<>();
  private @Nullable ChildProcess redis;
  private final Env env;

  private Deployment(Spec spec, Env env) {
    this.spec = spec;
    this.env = env;
  }

  static Deployment start(Spec spec, Env env, String runName) throws Exception {
    Deployment d = new Deployment(spec, env);
    try {
      d.startAll(runName);
    } catch (Exception e) {
      d.close();
      throw e;
    }
    return d;
  }

  private void startAll(String runName) throws Exception {
    Path logs = env.out().resolve("logs");
    Files.createDirectories(logs);
    Map<String, String> extra = new LinkedHashMap<>(spec.props());
    if (spec.redis()) {
      int rp = ChildProcess.freePort();
      redis =
          ChildProcess.server(
              "redis",
              List.of(
                  "redis-server",
                  "--port",
                  Integer.toString(rp),
                  "--bind",
                  "127.0.0.1",
                  "--save",
                  "",
                  "--appendonly",
                  "no"),
              logs.resolve(runName + "-redis.log"));
      ChildProcess.awaitPort(redis, rp, 20);
      extra.putIfAbsent("broker.type", "redis");
      extra.putIfAbsent("redis.url", "redis://127.0.0.1:" + rp);
    }
    for (int n = 0; n < spec.nodes(); n++) {
      int port = ChildProcess.freePort();
      Path log =
          logs.resolve(runName + "-" + spec.label() + (spec.nodes() > 1 ? "-" + n : "") + ".log");
      List<String> cmd = new ArrayList<>();
      switch (spec.type()) {
        case "floor" -> {
          cmd.addAll(env.java(env.serverJvm(), runName + "-floor"));
          cmd.addAll(List.of(FloorServer.class.getName(), "--port", Integer.toString(port)));
        }
        case "herald" -> {
          Path config = env.out().resolve("logs").resolve(runName + "-herald-" + n + ".properties");
          Files.writeString(config, heraldConfig(port, n, extra));
          cmd.addAll(env.java(env.serverJvm(), runName + "-herald"));
          cmd.addAll(List.of("dev.herald.server.Main", "--config", config.toString()));
        }
        case "socketio" -> {
          cmd.addAll(
              List.of(
                  "node",
                  env.socketIoDir().resolve("server.js").toString(),
                  Integer.toString(port)));
        }
        default -> throw new IllegalArgumentException("unknown server type " + spec.type());
      }
      ChildProcess p = ChildProcess.server(spec.label() + "-" + n, cmd, log);
      nodes.add(p);
      ports.add(port);
      ChildProcess.awaitPort(p, port, 60);
    }
  }

  private String heraldConfig(int port, int node, Map<String, String> extra) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("server.host", "127.0.0.1");
    c.put("server.port", Integer.toString(port));
    c.put("node.name", "bench-" + (node + 1));
    c.put("auth.jwt.secrets", env.secret());
    c.put("publish.api-keys", env.apiKey());
    c.put("namespaces", "bench");
    // History and offsets on (recovery works); presence events off: with thousands of subscribers
    // per channel, join/leave would be an N-squared storm that no fan-out deployment enables.
    c.put("namespace.bench.history-size", "100");
    c.put("namespace.bench.history-ttl", "5m");
    c.put("namespace.bench.presence", "false");
    c.put("namespace.bench.join-leave", "false");
    // The load generator's thousands of sockets come from a handful of loopback addresses; in
    // production every browser has its own, so the per-address cap (default 5000) is off here.
    c.put("limits.connections-per-address", "0");
    c.putAll(extra);
    StringBuilder b = new StringBuilder("# written by herald-bench\n");
    c.forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
    return b.toString();
  }

  Kind defaultKind() {
    return switch (spec.type()) {
      case "floor" -> Kind.FLOOR_WS;
      case "socketio" -> Kind.SOCKETIO_WS;
      default -> Kind.HERALD_WS;
    };
  }

  /** Where the publisher sends: the first node. */
  Publisher.Target target() {
    int port = ports.get(0);
    return spec.herald()
        ? new Publisher.Target("127.0.0.1", port, "/api/v1/publish", env.apiKey(), "bench:fan")
        : new Publisher.Target("127.0.0.1", port, "/publish", null, null);
  }

  /** PIDs whose CPU counts as the server's: every node, and redis-server if any. */
  List<Long> pids() {
    List<Long> p = new ArrayList<>();
    nodes.forEach(n -> p.add(n.pid()));
    if (redis != null) {
      p.add(redis.pid());
    }
    return p;
  }

  long rssKb() {
    long sum = 0;
    for (long pid : pids()) {
      sum += ProcStats.rssKb(pid);
    }
    return sum;
  }

  long[] cpuTicks() {
    long[] sum = new long[2];
    for (long pid : pids()) {
      long[] t = ProcStats.cpuTicks(pid);
      sum[0] += t[0];
      sum[1] += t[1];
    }
    return sum;
  }

  @Override
  public void close() {
    for (ChildProcess n : nodes) {
      n.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  /** Shared settings for starting processes. */
  record Env(
      String javaBin,
      String classpath,
      List<String> serverJvm,
      List<String> workerJvm,
      Path out,
      Path socketIoDir,
      String secret,
      String apiKey,
      boolean jfr) {
    List<String> java(List<String> jvmOptions, String name) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(javaBin);
      cmd.addAll(jvmOptions);
      if (jfr && !name.contains("worker")) {
        Path dir = out.resolve("jfr");
        Files.createDirectories(dir);
        cmd.add(
            "-XX:StartFlightRecording=filename="
                + dir.resolve(name + ".jfr")
                + ",settings=profile,dumponexit=true");
      }
      cmd.add("-cp");
      cmd.add(classpath);
      return cmd;
    }
  }
}
