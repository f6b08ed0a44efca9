package dev.herald.server.it;

import dev.herald.server.auth.JwtAuthenticator;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * Several Herald nodes, each a separate JVM running {@code dev.herald.server.Main} with {@code
 * broker.type=redis}, so that {@code kill -9} of a node is real. Each node keeps its port across
 * restarts, so clients that know the node list find it again.
 */
public final class HeraldCluster implements AutoCloseable {
  private final String redisUrl;
  private final String prefix;
  private final Path dir;
  private final List<Node> nodes = new ArrayList<>();
  private final Map<String, String> extra;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final JwtAuthenticator jwt =
      new JwtAuthenticator(List.of(TestServer.SECRET), "", System::currentTimeMillis);

  /** One node: its name, its fixed port and, while running, its process. */
  public static final class Node {
    final String name;
    final int port;
    Process process;

    Node(String name, int port) {
      this.name = name;
      this.port = port;
    }

    public String name() {
      return name;
    }

    public int port() {
      return port;
    }

    public URI wsUri() {
      return URI.create("ws://127.0.0.1:" + port + "/connection/websocket");
    }

    public String baseUrl() {
      return "http://127.0.0.1:" + port;
    }

    public boolean running() {
      return process != null && process.isAlive();
    }
  }

  public HeraldCluster(String redisUrl, int size, Map<String, String> extra) throws IOException {
    this.redisUrl = redisUrl;
    this.prefix = "it" + System.nanoTime();
    this.dir = Files.createTempDirectory("herald-cluster-");
    this.extra = extra;
    for (int i = 1; i <= size; i++) {
      nodes.add(new Node("node" + i, freePort()));
    }
  }

  /** The prefix of the nodes' Redis keys ({@code redis.prefix}). */
  public String prefix() {
    return prefix;
  }

  public List<Node> nodes() {
    return nodes;
  }

  public Node node(int i) {
    return nodes.get(i);
  }

  /** Starts every node and waits until all are ready. */
  public HeraldCluster start() throws IOException {
    for (Node n : nodes) {
      launch(n);
    }
    for (Node n : nodes) {
      awaitReady(n);
    }
    return this;
  }

  public void launch(Node n) throws IOException {
    Map<String, String> cfg = new TreeMap<>(TestServer.baseConfig());
    cfg.put("server.port", Integer.toString(n.port));
    cfg.put("node.name", n.name);
    cfg.put("broker.type", "redis");
    cfg.put("redis.url", redisUrl);
    cfg.put("redis.prefix", prefix);
    cfg.put("redis.presence-ttl", "3s");
    cfg.put("redis.reconnect-min", "50ms");
    cfg.put("redis.reconnect-max", "500ms");
    cfg.put("shutdown.retry-min", "100ms");
    cfg.put("shutdown.retry-max", "1s");
    cfg.put("limits.outbox-bytes", "16777216");
    cfg.put("metrics.enabled", "false");
    cfg.putAll(extra);
    Path file = dir.resolve(n.name + ".properties");
    StringBuilder b = new StringBuilder();
    cfg.forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
    Files.writeString(file, b.toString());
    Path log = dir.resolve(n.name + ".log");
    n.process =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.herald.server.Main",
                "--config",
                file.toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
  }

  public void awaitReady(Node n) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> {
              if (!n.running()) {
                throw new IllegalStateException(
                    n.name + " exited; see " + dir.resolve(n.name + ".log"));
              }
              return get(n, "/health/ready").statusCode() == 200;
            });
  }

  /** kill -9: the node vanishes without a goodbye to its clients or to Redis. */
  public void kill(Node n) throws InterruptedException {
    n.process.destroyForcibly();
    n.process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the node drains its clients (close code 4001 with a reconnect delay) and exits. */
  public void stop(Node n) throws InterruptedException {
    n.process.destroy();
    if (!n.process.waitFor(60, TimeUnit.SECONDS)) {
      n.process.destroyForcibly();
      throw new IllegalStateException(n.name + " did not stop within 60 s of SIGTERM");
    }
  }

  public String token(String user) {
    return jwt.mint(user, Map.of("name", user), 3_600_000);
  }

  /**
   * POST /api/v1/publish to a node; returns the HTTP status (or -1 when the node is unreachable).
   */
  public HttpResponse<String> publish(Node n, String channel, String dataJson)
      throws IOException, InterruptedException {
    HttpRequest r =
        HttpRequest.newBuilder(URI.create(n.baseUrl() + "/api/v1/publish"))
            .timeout(Duration.ofSeconds(15))
            .header("Authorization", "Bearer " + TestServer.API_KEY)
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"channel\":\"" + channel + "\",\"data\":" + dataJson + "}"))
            .build();
    return http.send(r, HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> get(Node n, String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(n.baseUrl() + path))
            .timeout(Duration.ofSeconds(15))
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public Path logOf(Node n) {
    return dir.resolve(n.name + ".log");
  }

  @Override
  public void close() {
    for (Node n : nodes) {
      if (n.process != null) {
        n.process.destroyForcibly();
        try {
          n.process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
