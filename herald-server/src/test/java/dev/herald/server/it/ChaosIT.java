package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.redis.RedisServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The cluster under faults, seen by clients that do not use Herald's libraries (Node, written from
 * docs/protocol.md: tests/node-ws/chaos-client.mjs) over WebSocket, SSE and long-polling, through
 * HAProxy balancing round-robin without stickiness. While a publisher publishes numbered
 * publications (retrying each with its idempotency key until acknowledged), the test kills a node
 * (kill -9), stops one (SIGTERM), freezes one (SIGSTOP), restarts Redis empty and restarts every
 * node in turn. Every client must then have seen every acknowledged publication exactly once and in
 * order, except across an explicit refetch signal ({@code recovered: false}), and no {@code 404
 * session-unknown} for a session whose node was not stopped since it was opened.
 *
 * <p>The short variant runs in CI. {@code -Dchaos.clients=50 -Dchaos.rounds=5} makes a longer run
 * (docs/scaling.md).
 */
class ChaosIT {
  static final Path NODE_DIR = Path.of("..", "tests", "node-ws").toAbsolutePath().normalize();
  private static final int CLIENTS = Integer.getInteger("chaos.clients", 4);
  private static final int ROUNDS = Integer.getInteger("chaos.rounds", 1);
  private static final String CHANNEL = "test:chaos";
  private static final Duration FREEZE = Duration.ofSeconds(3);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** When each node was last made to fail (kill, SIGTERM, SIGSTOP), by name. */
  // Per node, the windows [start, end] in which it was down or going down (stopping, draining,
  // starting again): a session of that node may be unknown to the others from the start.
  private final Map<String, List<long[]>> faults = new ConcurrentHashMap<>();

  @Test
  void everyAcknowledgedPublicationReachesEveryClientOnceInOrderThroughFaults() throws Exception {
    NodeRunner.installIfMissing(NODE_DIR, "ws");
    Path dir = Files.createTempDirectory("herald-chaos-");
    Map<String, String> extra = new HashMap<>();
    extra.put("heartbeat.interval", "2s");
    extra.put("heartbeat.timeout", "2s");
    extra.put("longpoll.timeout", "5s");
    extra.put("cluster.route-timeout", "3s");
    // The node registry's TTL: a node frozen for less than this is not gone (SIGSTOP below).
    extra.put("redis.presence-ttl", "10s");
    extra.put("namespace.test.history-size", "100000");
    // CI machines are shared: a node whose loops lag a little is still fit for this test.
    extra.put("server.max-event-loop-lag", "5s");
    try (RedisServer redis = RedisServer.start();
        HeraldCluster cluster = new HeraldCluster(redis.url(), 3, extra).start();
        Haproxy lb = Haproxy.start(cluster)) {
      lb.awaitUp();
      Path stop = dir.resolve("stop");
      Path out = dir.resolve("results.json");
      Path ready = dir.resolve("ready");
      Map<String, String> env = new HashMap<>();
      env.put("HERALD_URL", lb.url());
      env.put("HERALD_TOKEN", cluster.token("chaos"));
      env.put("CHAOS_CHANNEL", CHANNEL);
      env.put("CHAOS_CLIENTS", Integer.toString(CLIENTS));
      env.put("CHAOS_STOP_FILE", stop.toString());
      env.put("CHAOS_OUT", out.toString());
      env.put("CHAOS_READY_FILE", ready.toString());
      CompletableFuture<NodeRunner.Result> clients =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return NodeRunner.run(
                      NODE_DIR, List.of("node", "chaos-client.mjs"), env, 60 * 30);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });

      AtomicBoolean publishing = new AtomicBoolean(true);
      AtomicLong acked = new AtomicLong(-1);
      List<String> publishFailures = new CopyOnWriteArrayList<>();
      Thread publisher =
          new Thread(() -> publish(lb, publishing, acked, publishFailures), "chaos-publisher");
      // Every client has subscribed once before the first publication.
      await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(ready) || clients.isDone());
      assertThat(clients).isNotDone();
      publisher.start();

      for (int round = 0; round < ROUNDS; round++) {
        pause(acked, 40);
        long[] killed = fault(cluster.node(0));
        cluster.kill(cluster.node(0));
        pause(acked, 40);
        cluster.launch(cluster.node(0));
        cluster.awaitReady(cluster.node(0));
        killed[1] = now();

        long[] stopped = fault(cluster.node(1));
        cluster.stop(cluster.node(1));
        cluster.launch(cluster.node(1));
        cluster.awaitReady(cluster.node(1));
        stopped[1] = now();
        pause(acked, 40);

        // Not a fault for session-unknown: a node frozen for less than the registry TTL is not
        // gone, and its sessions must survive.
        signal(cluster.node(2), "STOP");
        // The fault's length (not a wait for anything): well under the registry TTL, whatever
        // the publisher manages meanwhile (its requests to the frozen node hang).
        Thread.sleep(FREEZE.toMillis());
        signal(cluster.node(2), "CONT");
        pause(acked, 40);

        redis.kill();
        redis.restart();
        for (HeraldCluster.Node n : cluster.nodes()) {
          cluster.awaitReady(n);
        }
        pause(acked, 40);

        for (HeraldCluster.Node n : cluster.nodes()) { // rolling restart
          long[] restarted = fault(n);
          cluster.stop(n);
          cluster.launch(n);
          cluster.awaitReady(n);
          restarted[1] = now();
          pause(acked, 20);
        }
      }
      pause(acked, 40);
      publishing.set(false);
      publisher.join(120_000);
      assertThat(publishFailures).as("publications never acknowledged").isEmpty();
      long last = acked.get();
      Files.writeString(stop, Long.toString(last));
      NodeRunner.Result r = clients.get(10, TimeUnit.MINUTES);
      assertThat(r.exitCode()).as("chaos client exit code").isZero();

      JsonNode results = new ObjectMapper().readTree(out.toFile());
      assertThat(results.size()).isEqualTo(3 * CLIENTS);
      for (JsonNode c : results) {
        check(c, last);
      }
    }
  }

  /** Exactly once and in order between refetch signals, up to the last publication. */
  private void check(JsonNode client, long last) {
    String name = client.get("name").asText();
    long previous = -1;
    long received = 0;
    List<String> spurious = new ArrayList<>();
    for (JsonNode e : client.get("events")) {
      if (e.has("refetch")) {
        previous = -1; // the client reloads its state: a new sequence starts here
      } else if (e.has("unknown")) {
        String node = e.get("unknown").asText();
        long opened = e.get("opened").asLong();
        long at = e.get("at").asLong();
        boolean stopped =
            faults.getOrDefault(node, List.of()).stream()
                .anyMatch(w -> w[0] <= at && (w[1] == 0 || w[1] >= opened));
        if (!stopped) {
          spurious.add(e.toString());
        }
      } else {
        long n = e.get("n").asLong();
        assertThat(n)
            .as("%s: publication after %d (duplicate, out of order or lost)", name, previous)
            .isEqualTo(previous < 0 ? n : previous + 1);
        previous = n;
        received++;
      }
    }
    assertThat(received).as("%s received publications", name).isPositive();
    assertThat(previous).as("%s got the last publication", name).isEqualTo(last);
    assertThat(spurious)
        .as(
            "%s: session-unknown for a node that was not stopped (faults: %s)",
            name,
            faults.entrySet().stream()
                .map(
                    f ->
                        f.getKey()
                            + "="
                            + f.getValue().stream().map(java.util.Arrays::toString).toList())
                .toList())
        .isEmpty();
  }

  /** Records that {@code n} goes down now; the caller sets the window's end once it is back. */
  private long[] fault(HeraldCluster.Node n) {
    long[] window = {now(), 0};
    faults.computeIfAbsent(n.name(), k -> new CopyOnWriteArrayList<>()).add(window);
    return window;
  }

  private static long now() {
    return System.currentTimeMillis();
  }

  private static void signal(HeraldCluster.Node n, String signal) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(n.process.pid())).start();
    assertThat(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0).isTrue();
  }

  /** Lets {@code count} more publications be acknowledged (time passes with the publisher). */
  private static void pause(AtomicLong acked, int count) {
    long target = acked.get() + count;
    await().atMost(Duration.ofMinutes(2)).until(() -> acked.get() >= target);
  }

  /**
   * Publishes n = 0, 1, 2... through the load balancer, each retried with its idempotency key until
   * acknowledged (a 503 or a lost answer may hide a publication that was made).
   */
  private void publish(
      Haproxy lb, AtomicBoolean publishing, AtomicLong acked, List<String> failures) {
    long n = 0;
    while (publishing.get()) {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      boolean done = false;
      String lastProblem = "";
      while (!done && System.nanoTime() < deadline) {
        try {
          HttpResponse<String> res =
              http.send(
                  HttpRequest.newBuilder(URI.create(lb.url() + "/api/v1/publish"))
                      .timeout(Duration.ofSeconds(10))
                      .header("Authorization", "Bearer " + TestServer.API_KEY)
                      .header("Content-Type", "application/json")
                      .header("Idempotency-Key", "chaos-" + n)
                      .POST(
                          HttpRequest.BodyPublishers.ofString(
                              "{\"channel\":\"" + CHANNEL + "\",\"data\":{\"n\":" + n + "}}"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          done = res.statusCode() == 200;
          lastProblem = res.statusCode() + " " + res.body();
        } catch (Exception e) {
          lastProblem = e.toString();
        }
        if (!done) {
          try {
            Thread.sleep(100); // the publisher's retry pace, not synchronisation
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
      if (!done) {
        failures.add(n + ": " + lastProblem);
        return;
      }
      acked.set(n);
      n++;
      try {
        Thread.sleep(25); // about 40 publications a second
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** HAProxy in front of the cluster: round-robin, no stickiness, readiness health checks. */
  static final class Haproxy implements AutoCloseable {
    private final HAProxy proxy;
    private final int port;

    private Haproxy(HAProxy proxy, int port) {
      this.proxy = proxy;
      this.port = port;
    }

    static Haproxy start(HeraldCluster cluster) {
      int port = Nginx.freePort();
      StringBuilder cfg = new StringBuilder();
      cfg.append(
          """
          defaults
            mode http
            timeout connect 2s
            timeout client 120s
            timeout server 120s
            timeout tunnel 1h
            option http-no-delay
          frontend fe
            bind 127.0.0.1:%d
            default_backend herald
          backend herald
            balance roundrobin
            option httpchk GET /health/ready
            timeout check 3s
            default-server inter 500ms fall 2 rise 2
          """
              .formatted(port));
      for (HeraldCluster.Node n : cluster.nodes()) {
        cfg.append("  server ")
            .append(n.name())
            .append(" 127.0.0.1:")
            .append(n.port())
            .append(" check\n");
      }
      return new Haproxy(HAProxy.start(cfg.toString(), port), port);
    }

    String url() {
      return "http://127.0.0.1:" + port;
    }

    void awaitUp() {
      HttpClient c = HttpClient.newHttpClient();
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () ->
                  c.send(
                              HttpRequest.newBuilder(URI.create(url() + "/health/ready")).build(),
                              HttpResponse.BodyHandlers.ofString())
                          .statusCode()
                      == 200);
    }

    @Override
    public void close() {
      proxy.close();
    }
  }
}
