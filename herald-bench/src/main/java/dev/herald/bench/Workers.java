package dev.herald.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The load worker processes of one run. Connections are spread evenly over enough workers that none
 * holds more than {@code perWorker} sockets (the per-process open-file cap), at least two (two
 * cores); each worker binds to a loopback source address of its own (127.0.0.x, fresh ones for
 * every start) and, with several server nodes, connects to node {@code i mod nodes}.
 */
final class Workers implements AutoCloseable {
  final List<ChildProcess> procs = new ArrayList<>();
  int ready;
  int failed;
  long connectP99;
  @Nullable String firstFailure;

  // The next free loopback source address (127.0.0.x). Each start takes fresh ones: the sockets a
  // run closed linger in TIME_WAIT on their source address for a minute, and a second round from
  // the same addresses would run out of ephemeral ports.
  private static int nextSource = 2;

  private static synchronized int takeSources(int n) {
    if (nextSource + n > 254) {
      nextSource = 2;
    }
    int first = nextSource;
    nextSource += n;
    return first;
  }

  static Workers start(
      Deployment.Env env,
      Deployment d,
      Kind kind,
      int connections,
      String channels,
      int perWorker,
      String run)
      throws Exception {
    Workers w = new Workers();
    try {
      // two workers (two cores) unless the run is tiny; more when the open-file cap requires it
      int min = connections < 100 ? 1 : 2;
      int n = Math.max(Math.max(min, d.ports.size()), (connections + perWorker - 1) / perWorker);
      n = Math.min(n, Math.max(1, connections));
      Path log = env.out().resolve("logs").resolve(run + "-workers.log");
      int first = 0;
      int sources = takeSources(n);
      for (int i = 0; i < n; i++) {
        int count = connections / n + (i < connections % n ? 1 : 0);
        List<String> cmd = new ArrayList<>(env.java(env.workerJvm(), run + "-worker"));
        cmd.add(Worker.class.getName());
        cmd.addAll(
            List.of(
                "--kind", kind.name(),
                "--port", Integer.toString(d.ports.get(i % d.ports.size())),
                "--source", "127.0.0." + (sources + i),
                "--count", Integer.toString(count),
                "--first", Integer.toString(first),
                "--secret", env.secret(),
                "--max-seconds", "3600"));
        if (!channels.isEmpty()) {
          cmd.add("--channels");
          cmd.add(channels);
        }
        w.procs.add(ChildProcess.worker("worker-" + i, cmd, log));
        first += count;
      }
      for (ChildProcess p : w.procs) {
        JsonNode r = Bench.json(p.expect("READY", 600));
        w.ready += r.get("ready").asInt();
        w.failed += r.get("failed").asInt();
        w.connectP99 = Math.max(w.connectP99, r.get("connectP99").asLong());
        if (w.firstFailure == null && !r.get("firstFailure").isNull()) {
          w.firstFailure = r.get("firstFailure").asText();
        }
      }
      if (w.failed > 0) {
        Bench.log(
            run
                + ": "
                + w.failed
                + " of "
                + connections
                + " connections failed, first: "
                + w.firstFailure);
      }
      if (w.ready == 0) {
        throw new IllegalStateException(run + ": no connection succeeded: " + w.firstFailure);
      }
    } catch (Exception e) {
      w.close();
      throw e;
    }
    return w;
  }

  void reset(long base) throws InterruptedException {
    for (ChildProcess p : procs) {
      p.send("RESET " + base);
    }
    for (ChildProcess p : procs) {
      p.expect("OK", 60);
    }
  }

  long delivered() throws InterruptedException {
    for (ChildProcess p : procs) {
      p.send("STATUS");
    }
    long sum = 0;
    for (ChildProcess p : procs) {
      sum += Long.parseLong(p.expect("STATUS", 60));
    }
    return sum;
  }

  /** Waits until everything expected arrived, or nothing more arrives for {@code quietSeconds}. */
  long awaitDelivered(long expected, double quietSeconds) throws InterruptedException {
    long last = -1;
    long lastChange = System.nanoTime();
    while (true) {
      long now = delivered();
      if (now >= expected) {
        return now;
      }
      if (now != last) {
        last = now;
        lastChange = System.nanoTime();
      } else if (System.nanoTime() - lastChange > quietSeconds * 1e9) {
        return now;
      }
      Thread.sleep(100); // polling the workers' counters
    }
  }

  List<JsonNode> reports() throws InterruptedException {
    for (ChildProcess p : procs) {
      p.send("REPORT");
    }
    List<JsonNode> out = new ArrayList<>();
    for (ChildProcess p : procs) {
      out.add(Bench.json(p.expect("REPORT", 60)));
    }
    return out;
  }

  long[] cpuTicks() {
    long[] t = new long[procs.size()];
    for (int i = 0; i < t.length; i++) {
      long[] c = ProcStats.cpuTicks(procs.get(i).pid());
      t[i] = c[0] + c[1];
    }
    return t;
  }

  @Override
  public void close() {
    for (ChildProcess p : procs) {
      try {
        p.send("EXIT");
      } catch (RuntimeException e) {
        // already gone
      }
    }
    for (ChildProcess p : procs) {
      p.close();
    }
  }
}
