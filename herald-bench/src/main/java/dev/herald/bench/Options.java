package dev.herald.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Benchmark options; {@link #HELP} documents them. */
record Options(
    Path out,
    List<String> scenarios,
    List<Deployment.Spec> specs,
    int reps,
    int repsOther,
    int maxrateReps,
    List<String> maxrateServers,
    int idleConnections,
    long idleSettleMillis,
    double idleCpuSeconds,
    int subs,
    int subsLarge,
    double rate,
    double coalesceRate,
    double seconds,
    double warmupSeconds,
    double drainSeconds,
    List<Integer> maxrateSubs,
    double maxrateStart,
    double maxrateFactor,
    double maxrateLimit,
    double maxrateStepSeconds,
    double p99LimitMs,
    String writeDelay,
    int perWorker,
    List<String> serverJvm,
    List<String> workerJvm,
    Path socketIoDir,
    boolean jfr,
    boolean smoke,
    int publishSubs,
    double publishRate,
    int soakConnections,
    double soakRate,
    double soakMinutes,
    double soakSampleMinutes) {

  static final String DEFAULT_SERVER_JVM = "-XX:+UseSerialGC -Xms32m -Xmx1g -Xmn24m -Xss512k";
  static final String DEFAULT_WORKER_JVM = "-XX:+UseSerialGC -Xmx512m -XX:TieredStopAtLevel=1";

  static final String HELP =
      """
      java -jar herald-bench.jar [options]       (herald-bench/run-all.sh runs the full comparison)
        --out DIR                 results and logs (target/bench)
        --scenarios LIST          idle,fanout,transports,maxrate,coalesce,publish (default: all of
                                  these); soak is run only when named (30 minutes)
        --servers LIST            floor,herald,socketio (socketio only if its node_modules exist)
        --reps N                  interleaved repetitions of the main fan-out (3)
        --reps-other N            interleaved repetitions of the other scenarios (2)
        --maxrate-reps N          repetitions of the max-rate ladders (1)
        --maxrate-servers LIST    of floor,herald,herald-delay,herald-one-loop,herald-redis,
                                  socketio (floor,herald,herald-delay); herald-redis is Herald on
                                  the Redis broker, beside the in-memory one in the same run
        --idle-connections N      idle scenario size (19000): memory from a cold start, CPU per
                                  connection from a second round once the first is closed
        --idle-cpu-seconds S      then hold the second round idle for S seconds and report the
                                  server CPU it costs (heartbeats only) per 10,000 connections
                                  (0: skip; choose S above the ping interval, 25 s by default)
        --subs N --subs-large N   fan-out subscribers (1000, and 5000; 0 skips the large one)
        --rate R                  messages/s per channel in fan-out (20)
        --coalesce-rate R         messages/s in the coalescing comparison (100)
        --seconds S --warmup S    measured and warm-up seconds per run (8, 2)
        --maxrate-subs LIST       subscriber counts for the max-rate ladders (1000,5000)
        --maxrate-start R --maxrate-factor F --maxrate-limit R --maxrate-step-seconds S
                                  the ladder: R, R*F, ... up to the limit (20, 1.5, 5000, 3)
        --p99-limit-ms MS         max-rate condition besides zero loss (100)
        --write-delay D           Herald transport.write-delay for the coalescing runs (20ms)
        --publish-subs N --publish-rate R
                                  publish scenario: subscribers and publications/s (10, 1000)
        --soak-connections N --soak-rate R --soak-minutes M --soak-sample-minutes S
                                  soak scenario (15000, 5/s over 100 rooms, 30, every 5)
        --herald-nodes N          Herald nodes per deployment; subscribers spread over them (1)
        --redis                   start a redis-server and set broker.type=redis, redis.url
        --herald-prop K=V         extra Herald configuration (repeatable)
        --per-worker N            sockets per load worker process, below the open-file cap (15000)
        --server-jvm "OPTS"       JVM options of the floor and Herald servers
        --worker-jvm "OPTS"       JVM options of the load workers
        --socketio-dir DIR        the Socket.IO peer with its node_modules (herald-bench/peers/socketio)
        --jfr                     record a JFR profile of every server run (OUT/jfr)
        --smoke                   seconds-long sizes: a check that everything runs, not a measurement
      """;

  static Options from(Map<String, String> a) {
    boolean smoke = a.containsKey("smoke");
    Path socketIo =
        Path.of(a.getOrDefault("socketio-dir", "herald-bench/peers/socketio")).toAbsolutePath();
    List<String> servers =
        list(
            a.getOrDefault(
                "servers",
                Files.isDirectory(socketIo.resolve("node_modules/socket.io"))
                    ? "floor,herald,socketio"
                    : "floor,herald"));
    int nodes = Integer.parseInt(a.getOrDefault("herald-nodes", "1"));
    boolean redis = a.containsKey("redis");
    java.util.LinkedHashMap<String, String> props = new java.util.LinkedHashMap<>();
    for (String kv : list(a.getOrDefault("herald-prop", ""), "\n")) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--herald-prop needs KEY=VALUE, got '" + kv + "'");
      }
      props.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    List<Deployment.Spec> specs = new ArrayList<>();
    for (String s : servers) {
      if (!List.of("floor", "herald", "socketio").contains(s)) {
        throw new IllegalArgumentException("unknown server '" + s + "' (floor, herald, socketio)");
      }
      specs.add(
          s.equals("herald")
              ? new Deployment.Spec(
                  nodes > 1 ? "herald-" + nodes + "-nodes" : "herald", s, props, nodes, redis)
              : Deployment.Spec.of(s, s));
    }
    return new Options(
        Path.of(a.getOrDefault("out", "target/bench")),
        list(a.getOrDefault("scenarios", "idle,fanout,transports,maxrate,coalesce,publish")),
        specs,
        integer(a, "reps", smoke ? 1 : 3),
        integer(a, "reps-other", smoke ? 1 : 2),
        integer(a, "maxrate-reps", 1),
        list(a.getOrDefault("maxrate-servers", "floor,herald,herald-delay")),
        integer(a, "idle-connections", smoke ? 20 : 19000),
        integer(a, "idle-settle-ms", smoke ? 200 : 3000),
        number(a, "idle-cpu-seconds", smoke ? 1 : 0),
        integer(a, "subs", smoke ? 10 : 1000),
        integer(a, "subs-large", smoke ? 0 : 5000),
        number(a, "rate", 20),
        number(a, "coalesce-rate", smoke ? 20 : 100),
        number(a, "seconds", smoke ? 1 : 8),
        number(a, "warmup", smoke ? 0 : 2),
        number(a, "drain-seconds", 3),
        list(a.getOrDefault("maxrate-subs", smoke ? "10" : "1000,5000")).stream()
            .map(Integer::parseInt)
            .toList(),
        number(a, "maxrate-start", 20),
        number(a, "maxrate-factor", 1.5),
        number(a, "maxrate-limit", smoke ? 20 : 5000),
        number(a, "maxrate-step-seconds", smoke ? 1 : 3),
        number(a, "p99-limit-ms", 100),
        a.getOrDefault("write-delay", "20ms"),
        integer(a, "per-worker", 15000),
        Bench.split(a.getOrDefault("server-jvm", DEFAULT_SERVER_JVM)),
        Bench.split(a.getOrDefault("worker-jvm", DEFAULT_WORKER_JVM)),
        socketIo,
        a.containsKey("jfr"),
        smoke,
        integer(a, "publish-subs", smoke ? 2 : 10),
        number(a, "publish-rate", smoke ? 20 : 1000),
        integer(a, "soak-connections", smoke ? 20 : 15000),
        number(a, "soak-rate", 5),
        number(a, "soak-minutes", smoke ? 0.1 : 30),
        number(a, "soak-sample-minutes", smoke ? 0.05 : 5));
  }

  Deployment.Spec heraldSpec() {
    for (Deployment.Spec s : specs) {
      if (s.herald()) {
        return s;
      }
    }
    return new Deployment.Spec("herald", "herald", Map.of(), 1, false);
  }

  private static List<String> list(String s) {
    return list(s, ",");
  }

  private static List<String> list(String s, String sep) {
    return s.isBlank()
        ? List.of()
        : Arrays.stream(s.split(sep)).map(String::trim).filter(x -> !x.isEmpty()).toList();
  }

  private static int integer(Map<String, String> a, String key, int def) {
    return a.containsKey(key) ? Integer.parseInt(a.get(key)) : def;
  }

  private static double number(Map<String, String> a, String key, double def) {
    return a.containsKey(key) ? Double.parseDouble(a.get(key)) : def;
  }
}
