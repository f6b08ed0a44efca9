package dev.herald.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Writes {@code results.md} (markdown tables, medians over the interleaved repetitions with their
 * spread, ratios to the floor, targets met or missed) and {@code results.json} (every run).
 */
final class Report {
  private final Options options;
  private final Path out;
  private final List<Result> results = new ArrayList<>();
  private final Map<String, String> errors = new LinkedHashMap<>();
  private double wallSeconds;

  Report(Options options, Path out) {
    this.options = options;
    this.out = out;
  }

  synchronized void add(Result r) {
    results.add(r);
  }

  synchronized void error(String scenario, String message) {
    errors.put(scenario, message);
  }

  int errors() {
    return errors.size();
  }

  void wallSeconds(double s) {
    wallSeconds = s;
  }

  List<Result> results() {
    return results;
  }

  static String quote(@Nullable String s) {
    if (s == null) {
      return "null";
    }
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
  }

  // ---- rendering ----

  synchronized void write() throws IOException {
    Files.createDirectories(out);
    Files.writeString(out.resolve("results.md"), markdown());
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("machine", Machine.describe());
    json.put("wallSeconds", wallSeconds);
    json.put("errors", errors);
    List<Map<String, Object>> runs = new ArrayList<>();
    for (Result r : results) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scenario", r.scenario);
      m.put("server", r.label);
      m.put("rep", r.rep);
      Map<String, Object> metrics = new LinkedHashMap<>();
      r.metrics.forEach((k, v) -> metrics.put(k, Double.isFinite(v) ? v : null));
      m.put("metrics", metrics);
      m.put("flags", r.flags);
      m.put("note", r.note);
      runs.add(m);
    }
    json.put("runs", runs);
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(out.resolve("results.json").toFile(), json);
  }

  String markdown() {
    StringBuilder b = new StringBuilder("# Herald benchmark results\n\n");
    Map<String, String> m = Machine.describe();
    b.append("Machine: ")
        .append(m.get("cpus"))
        .append(" CPUs (")
        .append(m.get("cpu"))
        .append("), kernel ")
        .append(m.get("kernel"))
        .append(", ")
        .append(m.get("java"))
        .append(", Node ")
        .append(m.get("node"))
        .append(". Wall time ")
        .append(Bench.fmt(wallSeconds))
        .append(" s.\n\n");
    b.append(
            "Medians over the interleaved repetitions; `(a–b)` is the spread (min–max). Ratios are to the ")
        .append("floor (raw Netty) run of the same repetition; lower is better except for rates. ")
        .append(
            "Flags: `loadgen-saturated` (a load worker used >90% of a core: the figure is a bound on the ")
        .append(
            "load generator, not the server), `machine-saturated` (>95% of all CPUs busy), `publisher-lag`, ")
        .append("`disconnects`.\n\n");
    b.append(targets());
    Set<String> scenarios = new LinkedHashSet<>();
    results.forEach(r -> scenarios.add(r.scenario));
    for (String s : scenarios) {
      b.append("## ").append(s).append("\n\n");
      if (s.startsWith("idle")) {
        table(
            b,
            s,
            "floor",
            new String[] {
              "connections",
              "kbPerConnection",
              "rssMb",
              "connectSeconds",
              "connectP99Ms",
              "serverCpuMsPerConnect",
              "serverKernelPct",
              "serverCpuMsPerConnectCold",
              "idleCpuPctPer10k"
            },
            new String[] {"kbPerConnection", "serverCpuMsPerConnect"});
      } else if (s.startsWith("soak")) {
        table(
            b,
            s,
            "floor",
            new String[] {
              "minutes",
              "connections",
              "heapAfterGcMb",
              "openFds",
              "rssMb",
              "expected",
              "lost",
              "p50Ms",
              "p99Ms"
            },
            new String[] {});
      } else if (s.startsWith("publish")) {
        table(
            b,
            s,
            "herald-publish-http",
            new String[] {
              "subscribers",
              "rate",
              "lossPct",
              "p50Ms",
              "p99Ms",
              "cpuUsPerPublication",
              "loadgenCpuPctMax"
            },
            new String[] {"cpuUsPerPublication", "p99Ms"});
      } else if (s.contains("maxrate")) {
        table(
            b,
            s,
            "floor",
            new String[] {"maxRate", "deliveredPerSec", "p99Ms", "cpuSecPerM"},
            new String[] {"maxRate"});
      } else {
        String ref = s.startsWith("transports") ? "herald-websocket" : "floor";
        table(
            b,
            s,
            ref,
            new String[] {
              "subscribers",
              "deliveredPerSec",
              "lossPct",
              "p50Ms",
              "p99Ms",
              "p999Ms",
              "maxMs",
              "cpuSecPerM",
              "kernelPct",
              "loadgenCpuPctMax"
            },
            new String[] {"cpuSecPerM", "p99Ms"});
      }
    }
    if (!errors.isEmpty()) {
      b.append("## Errors\n\n");
      errors.forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append('\n'));
    }
    return b.toString();
  }

  private void table(StringBuilder b, String scenario, String ref, String[] cols, String[] ratios) {
    List<String> labels = new ArrayList<>();
    for (Result r : results) {
      if (r.scenario.equals(scenario) && !labels.contains(r.label)) {
        labels.add(r.label);
      }
    }
    b.append("| server | runs |");
    for (String c : cols) {
      b.append(' ').append(c).append(" |");
    }
    for (String c : ratios) {
      b.append(' ').append(c).append(" / ").append(ref).append(" |");
    }
    b.append(" flags / notes |\n|---|---|");
    b.append("---|".repeat(cols.length + ratios.length)).append("---|\n");
    for (String label : labels) {
      List<Result> runs = runs(scenario, label);
      b.append("| ").append(label).append(" | ").append(runs.size()).append(" |");
      for (String c : cols) {
        b.append(' ').append(cell(values(runs, c))).append(" |");
      }
      for (String c : ratios) {
        b.append(' ').append(cell(ratios(scenario, label, ref, c))).append(" |");
      }
      Set<String> notes = new LinkedHashSet<>();
      for (Result r : runs) {
        notes.addAll(r.flags);
        if (r.note != null) {
          notes.add(r.note);
        }
      }
      b.append(' ').append(String.join("; ", notes).replace("|", "/")).append(" |\n");
    }
    b.append('\n');
  }

  private List<Result> runs(String scenario, String label) {
    return results.stream()
        .filter(r -> r.scenario.equals(scenario) && r.label.equals(label))
        .toList();
  }

  private static List<Double> values(List<Result> runs, String key) {
    return runs.stream().map(r -> r.get(key)).filter(v -> !v.isNaN()).toList();
  }

  /** Per repetition: this server's value over the reference's value in the same repetition. */
  List<Double> ratios(String scenario, String label, String ref, String key) {
    List<Double> out = new ArrayList<>();
    for (Result r : runs(scenario, label)) {
      for (Result f : runs(scenario, ref)) {
        if (f.rep == r.rep && f.get(key) > 0 && !Double.isNaN(r.get(key))) {
          out.add(r.get(key) / f.get(key));
        }
      }
    }
    return out;
  }

  static double median(List<Double> v) {
    if (v.isEmpty()) {
      return Double.NaN;
    }
    List<Double> s = new ArrayList<>(v);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  static String cell(List<Double> v) {
    if (v.isEmpty()) {
      return "-";
    }
    String med = Bench.fmt(median(v));
    if (v.size() == 1) {
      return med;
    }
    double min = v.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    double max = v.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    return med + " (" + Bench.fmt(min) + "–" + Bench.fmt(max) + ")";
  }

  // ---- targets ----

  private String targets() {
    List<String[]> rows = new ArrayList<>();
    String idle = scenario("idle-");
    if (idle != null) {
      double kb = median(values(runs(idle, "herald"), "kbPerConnection"));
      rows.add(
          row(
              "memory per idle authenticated connection, 2 channels (" + idle + ")",
              "≤ 6 KB",
              Bench.fmt(kb) + " KB",
              kb <= 6));
      double connect = median(ratios(idle, "herald", "floor", "serverCpuMsPerConnect"));
      rows.add(
          row(
              "server CPU per connection (token check, connect, 2 subscribes) vs floor ("
                  + idle
                  + ")",
              "≤ 1.5x",
              Bench.fmt(connect) + "x",
              connect <= 1.5));
    }
    String fan = scenario("fanout-" + options.subs() + "x");
    if (fan != null) {
      double cpu = median(ratios(fan, "herald", "floor", "cpuSecPerM"));
      double p99 = median(ratios(fan, "herald", "floor", "p99Ms"));
      rows.add(
          row(
              "CPU per delivery vs floor (" + fan + ")",
              "≤ 1.0x",
              Bench.fmt(cpu) + "x",
              cpu <= 1.0));
      rows.add(
          row("p99 latency vs floor (" + fan + ")", "≤ 1.2x", Bench.fmt(p99) + "x", p99 <= 1.2));
    }
    String delayed = "herald-delay-" + options.writeDelay();
    for (String s : scenarios("maxrate-")) {
      if (!runs(s, "herald-redis").isEmpty()) {
        // Each repetition's two ladders ran one after the other: compared within the repetition.
        double q = median(ratios(s, "herald-redis", "herald", "maxRate"));
        rows.add(
            row(
                "max sustainable rate on the Redis broker vs in-memory (" + s + ")",
                "≥ 0.8x",
                Bench.fmt(q) + "x",
                q >= 0.8));
      }
      double r = median(ratios(s, "herald", "floor", "maxRate"));
      rows.add(
          row("max sustainable rate vs floor (" + s + ")", "≥ 1x", Bench.fmt(r) + "x", r >= 1));
      double d = median(ratios(s, delayed, "floor", "maxRate"));
      rows.add(
          row(
              "max sustainable rate with write delay "
                  + options.writeDelay()
                  + " vs floor ("
                  + s
                  + ")",
              "≥ 2x (aim)",
              Bench.fmt(d) + "x",
              d >= 2));
    }
    for (String s : scenarios("coalesce-")) {
      double c = median(ratios(s, delayed, "floor", "cpuSecPerM"));
      double p99 = median(values(runs(s, delayed), "p99Ms"));
      rows.add(
          row(
              "CPU per delivery with write delay " + options.writeDelay() + " vs floor (" + s + ")",
              "≤ 0.5x",
              Bench.fmt(c) + "x",
              c <= 0.5));
      rows.add(
          row(
              "p99 with write delay " + options.writeDelay() + " (" + s + ")",
              "< 50 ms",
              Bench.fmt(p99) + " ms",
              p99 < 50));
    }
    String pub = scenario("publish-");
    if (pub != null) {
      double ws =
          median(
              ratios(
                  pub, "herald-publish-websocket", "herald-publish-http", "cpuUsPerPublication"));
      rows.add(
          row(
              "CPU per publication over a client's WebSocket vs the HTTP API (" + pub + ")",
              "measured",
              Bench.fmt(ws) + "x",
              null));
    }
    String soak = scenario("soak-");
    if (soak != null) {
      List<Result> samples = results.stream().filter(r -> r.scenario.equals(soak)).toList();
      double last = samples.isEmpty() ? 0 : samples.get(samples.size() - 1).get("minutes");
      List<Result> tail =
          samples.stream()
              .filter(r -> r.get("minutes") >= last - 20 && r.get("minutes") > 0)
              .toList();
      double heap = spread(values(tail, "heapAfterGcMb"));
      double fds = spread(values(tail, "openFds"));
      rows.add(
          row(
              "soak: heap after GC and open files over the last 20 minutes (" + soak + ")",
              "flat within 5 %",
              "heap " + Bench.fmt(heap) + " %, files " + Bench.fmt(fds) + " %",
              heap <= 5 && fds <= 5));
    }
    String tr = scenario("transports-");
    if (tr != null) {
      double sse = median(ratios(tr, "herald-sse", "herald-websocket", "cpuSecPerM"));
      double lp = median(ratios(tr, "herald-long-polling", "herald-websocket", "cpuSecPerM"));
      rows.add(
          row(
              "SSE CPU per delivery vs WebSocket (" + tr + ")",
              "≤ 1.5x",
              Bench.fmt(sse) + "x",
              sse <= 1.5));
      rows.add(
          row(
              "long-polling CPU per delivery vs WebSocket (" + tr + ")",
              "measured",
              Bench.fmt(lp) + "x",
              null));
    }
    if (rows.isEmpty()) {
      return "";
    }
    StringBuilder b =
        new StringBuilder(
            "## Targets (one Herald node: JWT auth, channels, offsets and history on)\n\n");
    b.append("| target | goal | measured | met |\n|---|---|---|---|\n");
    for (String[] r : rows) {
      b.append("| ").append(String.join(" | ", r)).append(" |\n");
    }
    return b.append('\n').toString();
  }

  /** (max - min) / min, in percent; 0 for fewer than two values. */
  private static double spread(List<Double> v) {
    if (v.size() < 2) {
      return 0;
    }
    double min = v.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    double max = v.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    return min <= 0 ? 0 : 100 * (max - min) / min;
  }

  private static String[] row(String what, String goal, String measured, @Nullable Boolean met) {
    String m =
        measured.startsWith("-") ? "not measured" : met == null ? "-" : met ? "yes" : "**no**";
    return new String[] {what, goal, measured, m};
  }

  private @Nullable String scenario(String prefix) {
    for (Result r : results) {
      if (r.scenario.startsWith(prefix)) {
        return r.scenario;
      }
    }
    return null;
  }

  private List<String> scenarios(String prefix) {
    List<String> out = new ArrayList<>();
    for (Result r : results) {
      if (r.scenario.startsWith(prefix) && !out.contains(r.scenario)) {
        out.add(r.scenario);
      }
    }
    return out;
  }
}
