package dev.herald.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * The benchmark orchestrator: starts each server under test and the load workers as child
 * processes, runs the scenarios with the servers interleaved (A B C A B C ...), measures server CPU
 * and memory from /proc, and writes {@code results.md} and {@code results.json}. See
 * docs/performance.md; {@code --help} lists the options.
 */
public final class Bench {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Options o;
  private final Deployment.Env env;
  private final Report report;
  private long seq; // publication sequence numbers never repeat within an invocation

  Bench(Options o, Deployment.Env env) {
    this.o = o;
    this.env = env;
    this.report = new Report(o, env.out());
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = Args.parse(args);
    if (a.containsKey("help")) {
      System.out.println(Options.HELP);
      return;
    }
    Options o = Options.from(a);
    Path out = o.out();
    Files.createDirectories(out);
    int code = new Bench(o, env(o)).run() ? 0 : 1;
    System.exit(code);
  }

  static Deployment.Env env(Options o) {
    byte[] s = new byte[36];
    new SecureRandom().nextBytes(s);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(s);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new Deployment.Env(
        java,
        System.getProperty("java.class.path"),
        o.serverJvm(),
        o.workerJvm(),
        o.out(),
        o.socketIoDir(),
        secret,
        "bench-key-" + secret.substring(0, 16),
        o.jfr());
  }

  /** Runs every selected scenario; true when every run completed (targets may still be missed). */
  boolean run() throws Exception {
    long start = System.nanoTime();
    boolean ok = true;
    for (String scenario : o.scenarios()) {
      try {
        switch (scenario) {
          case "idle" -> idle();
          case "fanout" -> {
            fanout(
                "fanout-" + o.subs() + "x" + fmt(o.rate()),
                o.specs(),
                Kind.HERALD_WS,
                o.subs(),
                o.rate(),
                o.reps());
            if (o.subsLarge() > 0) {
              fanout(
                  "fanout-" + o.subsLarge() + "x" + fmt(o.rate()),
                  o.specs(),
                  Kind.HERALD_WS,
                  o.subsLarge(),
                  o.rate(),
                  o.repsOther());
            }
          }
          case "transports" -> transports();
          case "maxrate" -> {
            for (int subs : o.maxrateSubs()) {
              maxrate("maxrate-" + subs, maxrateSpecs(), subs);
            }
          }
          case "coalesce" -> coalesce();
          case "publish" -> publish();
          case "soak" -> soak();
          default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
      } catch (Exception e) {
        ok = false;
        log("scenario " + scenario + " failed: " + e);
        report.error(scenario, e.toString());
      }
      report.write();
    }
    report.wallSeconds((System.nanoTime() - start) / 1e9);
    report.write();
    log(
        "results: "
            + o.out().resolve("results.md")
            + " ("
            + fmt((System.nanoTime() - start) / 1e9)
            + " s)");
    return ok && report.errors() == 0;
  }

  // ---- scenarios ----

  /**
   * Idle connections: memory per connection from a cold start (connect, settle, RSS), then the CPU
   * per connection of a second, warm round (every connection closed, then all connected again): the
   * first round's CPU is mostly the JIT compiling the server, which a larger server pays more of,
   * once; it is reported too ({@code serverCpuMsPerConnectCold}).
   */
  private void idle() throws Exception {
    for (int rep = 1; rep <= o.repsOther(); rep++) {
      for (Deployment.Spec spec : o.specs()) {
        String run = "idle-" + spec.label() + "-" + rep;
        try (Deployment d = Deployment.start(spec, env, run)) {
          Thread.sleep(1000); // let the server finish starting (lazy init) before the baseline
          String channels = spec.herald() ? "bench:room{m},bench:user{i}" : "";
          long rss0 = d.rssKb();
          long[] cpu0 = d.cpuTicks();
          Workers w =
              Workers.start(
                  env, d, d.defaultKind(), o.idleConnections(), channels, o.perWorker(), run);
          Result r = new Result("idle-" + o.idleConnections(), spec.label(), rep);
          try {
            long[] cpu1 = d.cpuTicks();
            Thread.sleep(o.idleSettleMillis()); // idle: heartbeats only
            long rss1 = d.rssKb();
            r.put("connections", w.ready);
            r.put("failed", w.failed);
            r.put("rssBaseMb", rss0 / 1024.0);
            r.put("rssMb", rss1 / 1024.0);
            r.put("kbPerConnection", (rss1 - rss0) / (double) Math.max(1, w.ready));
            r.put("serverCpuMsPerConnectCold", cpuMs(cpu0, cpu1) / Math.max(1, w.ready));
            if (w.failed > 0) {
              r.flag("failed-connections");
              r.note = w.firstFailure;
            }
          } finally {
            w.close();
          }
          Thread.sleep(1000); // the server lets go of the first round
          long[] cpu2 = d.cpuTicks();
          long t0 = System.nanoTime();
          try (Workers again =
              Workers.start(
                  env, d, d.defaultKind(), o.idleConnections(), channels, o.perWorker(), run)) {
            double connectSeconds = (System.nanoTime() - t0) / 1e9;
            long[] cpu3 = d.cpuTicks();
            r.put("connectSeconds", connectSeconds);
            r.put("connectP99Ms", (double) again.connectP99);
            r.put("serverCpuMsPerConnect", cpuMs(cpu2, cpu3) / Math.max(1, again.ready));
            r.put(
                "serverKernelPct",
                100.0 * (cpu3[1] - cpu2[1]) / Math.max(1, cpu3[0] + cpu3[1] - cpu2[0] - cpu2[1]));
            if (again.failed > 0) {
              r.flag("failed-connections");
              r.note = again.firstFailure;
            }
            if (o.idleCpuSeconds() > 0) {
              long[] cpu4 = d.cpuTicks();
              long t1 = System.nanoTime();
              Thread.sleep((long) (o.idleCpuSeconds() * 1000)); // idle: heartbeats only
              double seconds = (System.nanoTime() - t1) / 1e9;
              double pctOfCore = cpuMs(cpu4, d.cpuTicks()) / 10 / seconds;
              r.put("idleCpuPctPer10k", pctOfCore * 10_000 / Math.max(1, again.ready));
            }
          }
          report.add(r);
          log(run + ": " + r.metrics);
        }
      }
    }
  }

  private static double cpuMs(long[] from, long[] to) {
    return (to[0] + to[1] - from[0] - from[1]) / ProcStats.TICKS * 1000;
  }

  private void fanout(
      String scenario,
      List<Deployment.Spec> specs,
      Kind heraldKind,
      int subs,
      double rate,
      int reps)
      throws Exception {
    for (int rep = 1; rep <= reps; rep++) {
      for (Deployment.Spec spec : specs) {
        fanoutRun(scenario, spec, heraldKind, subs, rate, rep, spec.label());
      }
    }
  }

  private void fanoutRun(
      String scenario,
      Deployment.Spec spec,
      Kind heraldKind,
      int subs,
      double rate,
      int rep,
      String label)
      throws Exception {
    String run = scenario + "-" + label + "-" + rep;
    try (Deployment d = Deployment.start(spec, env, run)) {
      Kind kind = spec.herald() ? heraldKind : d.defaultKind();
      try (Workers w = Workers.start(env, d, kind, subs, "bench:fan", o.perWorker(), run);
          Publisher pub = new Publisher(d.target())) {
        if (o.warmupSeconds() > 0) {
          measure(d, w, pub, rate, o.warmupSeconds()); // JIT and buffers warm; not reported
        }
        Result r = measure(d, w, pub, rate, o.seconds());
        Result out = new Result(scenario, label, rep);
        out.metrics.putAll(r.metrics);
        out.flags.addAll(r.flags);
        out.note = r.note;
        report.add(out);
        log(run + ": " + out.metrics + " " + out.flags);
      }
    }
  }

  private void transports() throws Exception {
    Deployment.Spec herald = o.heraldSpec();
    String scenario = "transports-" + o.subs() + "x" + fmt(o.rate());
    for (int rep = 1; rep <= o.repsOther(); rep++) {
      fanoutRun(scenario, herald, Kind.HERALD_WS, o.subs(), o.rate(), rep, "herald-websocket");
      fanoutRun(scenario, herald, Kind.HERALD_SSE, o.subs(), o.rate(), rep, "herald-sse");
      fanoutRun(scenario, herald, Kind.HERALD_POLL, o.subs(), o.rate(), rep, "herald-long-polling");
    }
  }

  /**
   * Floor, Herald, Herald on a single event loop, and Herald with the write delay: per-delivery
   * cost at a higher rate.
   */
  private void coalesce() throws Exception {
    List<Deployment.Spec> specs = new ArrayList<>();
    for (Deployment.Spec s : o.specs()) {
      if (!s.type().equals("socketio")) {
        specs.add(s);
      }
    }
    specs.add(oneLoop());
    specs.add(delayed());
    fanout(
        "coalesce-" + o.subs() + "x" + fmt(o.coalesceRate()),
        specs,
        Kind.HERALD_WS,
        o.subs(),
        o.coalesceRate(),
        o.repsOther());
  }

  /**
   * Publishing over a client's own WebSocket against publishing through the HTTP API, side by side
   * on the same Herald configuration: server CPU per publication and end-to-end latency, with few
   * subscribers so that the publishing path dominates. The namespace allows client publishing and
   * the per-connection message rate limit is off (a publishing client at this rate needs a higher
   * {@code limits.messages-per-second} than the default 100).
   */
  private void publish() throws Exception {
    Deployment.Spec spec =
        o.heraldSpec()
            .with("namespace.bench.client-publish", "true")
            .with("limits.messages-per-second", "0");
    String scenario = "publish-" + o.publishSubs() + "x" + fmt(o.publishRate());
    for (int rep = 1; rep <= o.repsOther(); rep++) {
      for (String via : List.of("http", "websocket")) {
        String label = "herald-publish-" + via;
        String run = scenario + "-" + label + "-" + rep;
        try (Deployment d = Deployment.start(spec, env, run);
            Workers w =
                Workers.start(
                    env, d, Kind.HERALD_WS, o.publishSubs(), "bench:fan", o.perWorker(), run);
            Source pub =
                via.equals("http")
                    ? new Publisher(d.target())
                    : new WsPublisher(
                        "127.0.0.1",
                        d.ports.get(0),
                        Jwt.hs256(env.secret(), "publisher", 3600),
                        "bench:fan")) {
          if (o.warmupSeconds() > 0) {
            measure(d, w, pub, o.publishRate(), o.warmupSeconds());
          }
          long[] cpu0 = d.cpuTicks();
          Result r = measure(d, w, pub, o.publishRate(), o.seconds());
          long[] cpu1 = d.cpuTicks();
          Result out = new Result(scenario, label, rep);
          out.metrics.putAll(r.metrics);
          out.flags.addAll(r.flags);
          out.note = r.note;
          double count = Math.max(1, Math.round(o.publishRate() * o.seconds()));
          out.put(
              "cpuUsPerPublication",
              (cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1]) / ProcStats.TICKS / count * 1e6);
          report.add(out);
          log(run + ": " + out.metrics + " " + out.flags);
        }
      }
    }
  }

  /**
   * A long run at a moderate rate: {@code --soak-connections} connections, one room each out of
   * 100, publications spread over the rooms at {@code --soak-rate}/s for {@code --soak-minutes}.
   * Every {@code --soak-sample-minutes} the heap after a full GC, the open file descriptors and the
   * RSS are sampled, with the window's loss, duplicates and latency; a leak shows as a trend.
   */
  private void soak() throws Exception {
    Deployment.Spec spec = o.heraldSpec();
    int rooms = 100;
    String run = "soak-" + o.soakConnections();
    try (Deployment d = Deployment.start(spec, env, run);
        Workers w =
            Workers.start(
                env, d, Kind.HERALD_WS, o.soakConnections(), "bench:room{m}", o.perWorker(), run);
        Publisher pub = new Publisher(d.target().inRooms("bench:room", rooms))) {
      long pid = d.pids().get(0);
      int windows = (int) Math.max(1, Math.round(o.soakMinutes() / o.soakSampleMinutes()));
      double windowSeconds = o.soakSampleMinutes() * 60;
      Result first = sample(d, pid, 0, w, 0, 0, null);
      report.add(first);
      log(run + " start: " + first.metrics);
      for (int i = 1; i <= windows; i++) {
        // Whole rounds over the rooms, so every room gets the same number of publications.
        long count = Math.max(rooms, Math.round(o.soakRate() * windowSeconds / rooms) * rooms);
        long base = seq + (rooms - seq % rooms) % rooms;
        seq = base + count;
        w.reset(base / rooms);
        long answered0 = pub.answered();
        pub.run(base, count, o.soakRate());
        long expected = count / rooms * w.ready;
        long delivered = w.awaitDelivered(expected, o.drainSeconds());
        Result r = sample(d, pid, i * o.soakSampleMinutes(), w, expected, delivered, pub);
        if (pub.answered() - answered0 < count) {
          r.flag("publish-unanswered");
        }
        report.add(r);
        report.write();
        log(run + " @" + fmt(i * o.soakSampleMinutes()) + " min: " + r.metrics + " " + r.flags);
      }
    }
  }

  /** One soak sample: memory after a full GC, descriptors, and the window's delivery. */
  private Result sample(
      Deployment d,
      long pid,
      double minutes,
      Workers w,
      long expected,
      long delivered,
      @Nullable Source pub)
      throws Exception {
    Result r = new Result("soak-" + o.soakConnections(), "herald@" + fmt(minutes) + "min", 0);
    r.put("minutes", minutes);
    r.put("connections", w.ready);
    r.put("heapAfterGcMb", heapAfterGcKb(pid) / 1024.0);
    r.put("openFds", (double) ProcStats.openFds(pid));
    r.put("rssMb", d.rssKb() / 1024.0);
    if (pub != null) {
      r.put("expected", (double) expected);
      r.put("lost", (double) Math.max(0, expected - delivered));
      long gaps = 0;
      long dups = 0;
      Histogram h = new Histogram(600_000_000L, 3);
      for (JsonNode rep : w.reports()) {
        byte[] b = Base64.getDecoder().decode(rep.get("histogram").asText());
        h.add(Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(b), 0));
        gaps += rep.get("gaps").asLong();
        dups += rep.get("duplicates").asLong();
        if (rep.get("disconnects").asLong() > 0 || rep.get("closed").asLong() > 0) {
          r.flag("disconnects");
        }
      }
      r.put("p50Ms", h.getValueAtPercentile(50) / 1000.0);
      r.put("p99Ms", h.getValueAtPercentile(99) / 1000.0);
      if (gaps > 0 || dups > 0) {
        r.flag("gaps=" + gaps + ",dups=" + dups);
      }
    }
    return r;
  }

  /**
   * The live set: the tenured generation right after a full collection ({@code jcmd GC.run}, then
   * {@code GC.heap_info}). A serial full collection compacts every live object into the tenured
   * generation, so the young generation's figure is only what was allocated between the two
   * commands (a few MB at the soak's rate): counting it made the samples swing by about 9 %.
   */
  private long heapAfterGcKb(long pid) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    run(List.of(jcmd, Long.toString(pid), "GC.run"));
    String info = run(List.of(jcmd, Long.toString(pid), "GC.heap_info"));
    long used = 0;
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(?m)^\\s*tenured generation.*?used (\\d+)K").matcher(info);
    while (m.find()) {
      used += Long.parseLong(m.group(1));
    }
    if (used == 0) {
      throw new IllegalStateException("no heap usage in: " + info);
    }
    return used;
  }

  private static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("timed out: " + cmd);
    }
    return out;
  }

  private Deployment.Spec delayed() {
    return o.heraldSpec()
        .with("transport.write-delay", o.writeDelay())
        .labelled("herald-delay-" + o.writeDelay());
  }

  /** Herald on a single event loop (server.event-loops=1), against the default of one per core. */
  private Deployment.Spec oneLoop() {
    return o.heraldSpec().with("server.event-loops", "1").labelled("herald-one-loop");
  }

  /** The servers of the max-rate ladders: as selected, plus Herald variants. */
  private List<Deployment.Spec> maxrateSpecs() {
    List<Deployment.Spec> specs = new ArrayList<>();
    for (Deployment.Spec s : o.specs()) {
      if (o.maxrateServers().contains(s.type())) {
        specs.add(s);
      }
    }
    if (o.maxrateServers().contains("herald-one-loop")) {
      specs.add(oneLoop());
    }
    if (o.maxrateServers().contains("herald-delay")) {
      specs.add(delayed());
    }
    if (o.maxrateServers().contains("herald-redis")) {
      specs.add(onRedis());
    }
    return specs;
  }

  /**
   * Herald on the Redis broker (a redis-server started for the run), to compare with the in-memory
   * broker in the same run.
   */
  private Deployment.Spec onRedis() {
    Deployment.Spec h = o.heraldSpec();
    return new Deployment.Spec(h.label() + "-redis", h.type(), h.props(), h.nodes(), true);
  }

  /**
   * The highest rate with zero loss and p99 under the limit: a ladder of rates on one running
   * server, stopping at the first rate that fails.
   */
  private void maxrate(String scenario, List<Deployment.Spec> specs, int subs) throws Exception {
    for (int rep = 1; rep <= o.maxrateReps(); rep++) {
      for (Deployment.Spec spec : specs) {
        String run = scenario + "-" + spec.label() + "-" + rep;
        Result best = null;
        String failure = "not reached: highest step passed";
        try (Deployment d = Deployment.start(spec, env, run);
            Workers w =
                Workers.start(env, d, d.defaultKind(), subs, "bench:fan", o.perWorker(), run);
            Publisher pub = new Publisher(d.target())) {
          measure(d, w, pub, o.maxrateStart(), o.warmupSeconds());
          for (double rate = o.maxrateStart();
              rate <= o.maxrateLimit();
              rate *= o.maxrateFactor()) {
            Result r = measure(d, w, pub, rate, o.maxrateStepSeconds());
            boolean pass =
                r.get("lost") == 0
                    && r.get("p99Ms") <= o.p99LimitMs()
                    && r.flags.stream().noneMatch(f -> f.equals("disconnects"));
            log(
                run
                    + " @"
                    + fmt(rate)
                    + "/s: "
                    + (pass ? "pass" : "FAIL")
                    + " "
                    + r.metrics
                    + " "
                    + r.flags);
            if (!pass) {
              failure =
                  "fails at "
                      + fmt(rate)
                      + "/s: "
                      + (r.get("lost") > 0
                          ? "lost " + fmt(r.get("lost"))
                          : "p99 " + fmt(r.get("p99Ms")) + " ms");
              break;
            }
            r.put("rate", rate);
            best = r;
          }
        }
        Result out = new Result(scenario, spec.label(), rep);
        if (best != null) {
          out.put("maxRate", best.get("rate"));
          out.put("deliveredPerSec", best.get("deliveredPerSec"));
          out.put("p99Ms", best.get("p99Ms"));
          out.put("cpuSecPerM", best.get("cpuSecPerM"));
          out.flags.addAll(best.flags);
        } else {
          out.put("maxRate", 0); // not even the first step passed: see the note
        }
        out.note = failure;
        report.add(out);
        report.write();
      }
    }
  }

  /**
   * One measured window: publish at {@code rate} for {@code seconds}, wait for delivery, collect.
   */
  private Result measure(Deployment d, Workers w, Source pub, double rate, double seconds)
      throws Exception {
    long base = seq;
    long count = Math.max(1, Math.round(rate * seconds));
    seq += count;
    w.reset(base);
    long[] cpu0 = d.cpuTicks();
    long[] wcpu0 = w.cpuTicks();
    long[] m0 = ProcStats.machineTicks();
    long t0 = System.nanoTime();
    long answered0 = pub.answered();
    pub.resetLag();
    pub.run(base, count, rate);
    long expected = count * w.ready;
    long delivered = w.awaitDelivered(expected, o.drainSeconds());
    long t1 = System.nanoTime();
    long[] cpu1 = d.cpuTicks();
    long[] wcpu1 = w.cpuTicks();
    long[] m1 = ProcStats.machineTicks();
    List<JsonNode> reports = w.reports();
    Histogram h = new Histogram(600_000_000L, 3);
    long gaps = 0;
    long dups = 0;
    long disconnects = 0;
    long closed = 0;
    for (JsonNode r : reports) {
      byte[] b = Base64.getDecoder().decode(r.get("histogram").asText());
      h.add(Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(b), 0));
      gaps += r.get("gaps").asLong();
      dups += r.get("duplicates").asLong();
      disconnects += r.get("disconnects").asLong();
      closed += r.get("closed").asLong();
    }
    double wall = (t1 - t0) / 1e9;
    double cpu = (cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1]) / ProcStats.TICKS;
    double kernel = (cpu1[1] - cpu0[1]) / ProcStats.TICKS;
    Result r = new Result("", d.spec.label(), 0);
    r.put("subscribers", w.ready);
    r.put("rate", rate);
    r.put("deliveredPerSec", delivered / seconds);
    r.put("expected", (double) expected);
    r.put("lost", (double) Math.max(0, expected - delivered));
    r.put("lossPct", expected == 0 ? 0 : 100.0 * Math.max(0, expected - delivered) / expected);
    r.put("p50Ms", h.getValueAtPercentile(50) / 1000.0);
    r.put("p99Ms", h.getValueAtPercentile(99) / 1000.0);
    r.put("p999Ms", h.getValueAtPercentile(99.9) / 1000.0);
    r.put("maxMs", h.getMaxValue() / 1000.0);
    r.put("cpuSecPerM", delivered == 0 ? Double.NaN : cpu / delivered * 1e6);
    r.put("kernelPct", cpu == 0 ? 0 : 100 * kernel / cpu);
    r.put("serverCpuPct", 100 * cpu / wall);
    double workerMax = 0;
    for (int i = 0; i < wcpu0.length; i++) {
      workerMax = Math.max(workerMax, 100 * (wcpu1[i] - wcpu0[i]) / ProcStats.TICKS / wall);
    }
    r.put("loadgenCpuPctMax", workerMax);
    double busy = 100.0 * (m1[0] - m0[0]) / Math.max(1, m1[1] - m0[1]);
    r.put("machineBusyPct", busy);
    if (workerMax > 90) {
      r.flag("loadgen-saturated");
    }
    if (busy > 95) {
      r.flag("machine-saturated");
    }
    if (pub.maxLagMicros() > 20_000) {
      r.flag("publisher-lag");
    }
    if (pub.refused() > 0) {
      r.flag("publish-refused");
      r.note = pub.firstRefusal();
    }
    if (gaps > 0 || dups > 0) {
      r.flag("gaps=" + gaps + ",dups=" + dups);
    }
    if (disconnects > 0 || closed > 0) {
      r.flag("disconnects");
    }
    if (pub.answered() - answered0 < count) {
      r.flag("publish-unanswered");
    }
    return r;
  }

  static String fmt(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e12) {
      return Long.toString((long) v);
    }
    return Math.abs(v) >= 100
        ? String.format("%.0f", v)
        : Math.abs(v) >= 10 ? String.format("%.1f", v) : String.format("%.2f", v);
  }

  static void log(String message) {
    System.out.println("[bench] " + message);
    System.out.flush();
  }

  static JsonNode json(String s) {
    try {
      return JSON.readTree(s);
    } catch (Exception e) {
      throw new IllegalStateException("bad worker answer: " + s, e);
    }
  }

  static String args(List<String> l) {
    return String.join(" ", l);
  }

  static List<String> split(String s) {
    return s == null || s.isBlank() ? List.of() : Arrays.asList(s.trim().split("\\s+"));
  }
}
