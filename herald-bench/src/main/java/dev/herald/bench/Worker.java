package dev.herald.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * A load generator process: opens {@code --count} connections of one {@link Kind} from one source
 * address (one event loop thread, epoll), then obeys line commands on stdin and answers on stdout,
 * for the orchestrator ({@link Bench}): {@code RESET <base>}, {@code STATUS}, {@code REPORT},
 * {@code EXIT}. Exits by itself when stdin closes (the orchestrator died) or after {@code
 * --max-seconds}.
 */
public final class Worker {
  private final Kind kind;
  private final String host;
  private final int port;
  private final @Nullable String source; // the local address to bind, if any
  private final int count;
  private final int first;
  private final List<String> channelPatterns;
  private final String secret;
  private final int concurrency;
  private final Recorder recorder = new Recorder();
  private final List<LoadConnection> connections = new ArrayList<>();
  private final Histogram connectMillis = new Histogram(600_000L, 3);
  private final EventLoopGroup group;
  private final Bootstrap bootstrap;
  private final Poster poster;
  private int started;
  private int ready;
  private int failed;
  private int closedAfterReady;
  private int disconnects;
  private long firstStart;
  private long lastReady;
  private @Nullable String firstFailure;
  private final CompletableFuture<Void> settled = new CompletableFuture<>();

  Worker(Map<String, String> o) {
    kind = Kind.valueOf(required(o, "kind"));
    host = o.getOrDefault("host", "127.0.0.1");
    port = Integer.parseInt(required(o, "port"));
    source = o.get("source");
    count = Integer.parseInt(required(o, "count"));
    first = Integer.parseInt(o.getOrDefault("first", "0"));
    channelPatterns = List.of(o.getOrDefault("channels", "bench:fan").split(","));
    // only Herald's connections sign a token
    secret = kind.herald() ? required(o, "secret") : o.getOrDefault("secret", "");
    concurrency = Integer.parseInt(o.getOrDefault("concurrency", "200"));
    group = Transports.group(1);
    bootstrap =
        new Bootstrap()
            .group(group)
            .channel(Transports.client())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000)
            .remoteAddress(host, port);
    poster = new Poster(bootstrap, host + ":" + port, this);
  }

  private static String required(Map<String, String> o, String key) {
    String value = o.get(key);
    if (value == null) {
      throw new IllegalArgumentException("--" + key + " is required");
    }
    return value;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> o = Args.parse(args);
    long maxSeconds = Long.parseLong(o.getOrDefault("max-seconds", "1800"));
    Thread watchdog =
        new Thread(
            () -> {
              try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(maxSeconds));
              } catch (InterruptedException e) {
                return;
              }
              System.err.println("worker: --max-seconds reached, exiting");
              Runtime.getRuntime().halt(3);
            });
    watchdog.setDaemon(true);
    watchdog.start();
    Worker w = new Worker(o);
    w.start();
    w.commands(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
    Runtime.getRuntime().halt(0);
  }

  void start() throws Exception {
    group.execute(
        () -> {
          firstStart = System.nanoTime();
          for (int i = 0; i < Math.min(concurrency, count); i++) {
            openNext();
          }
        });
    settled.get(Long.getLong("bench.connect.timeout", 300), TimeUnit.SECONDS);
    long seconds = lastReady == 0 ? 0 : (lastReady - firstStart) / 1_000_000;
    out(
        String.format(
            "READY {\"ready\":%d,\"failed\":%d,\"connectMillis\":%d,\"connectP50\":%d,\"connectP99\":%d,\"firstFailure\":%s}",
            ready,
            failed,
            seconds,
            connectMillis.getValueAtPercentile(50),
            connectMillis.getValueAtPercentile(99),
            Report.quote(firstFailure)));
  }

  private void openNext() {
    if (started >= count) {
      return;
    }
    int i = started++;
    LoadConnection c = new LoadConnection(this, first + i);
    connections.add(c);
    c.startedNanos = System.nanoTime();
    Bootstrap b = bootstrap.clone().handler(init(c));
    ChannelFuture f =
        source == null
            ? b.connect()
            : b.connect(new InetSocketAddress(host, port), new InetSocketAddress(source, 0));
    f.addListener(
        r -> {
          if (!r.isSuccess()) {
            failed(c, "connect: " + r.cause());
          }
        });
  }

  private static ChannelInitializer<SocketChannel> init(LoadConnection c) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(SocketChannel ch) {
        ch.pipeline().addLast(c);
      }
    };
  }

  // ---- callbacks from connections (event loop) ----

  void ready(LoadConnection c) {
    ready++;
    lastReady = System.nanoTime();
    connectMillis.recordValue(Math.min(600_000, (lastReady - c.startedNanos) / 1_000_000));
    progress();
  }

  void failed(LoadConnection c, String why) {
    failed++;
    if (firstFailure == null) {
      firstFailure = why;
      log("connection failed: " + why);
    }
    progress();
  }

  private void progress() {
    openNext();
    if (ready + failed >= count) {
      settled.complete(null);
    }
  }

  void closed(LoadConnection c) {
    closedAfterReady++;
  }

  void disconnected(String message) {
    if (disconnects++ == 0) {
      log("server disconnected a client: " + message);
    }
  }

  Kind kind() {
    return kind;
  }

  Recorder recorder() {
    return recorder;
  }

  Poster poster() {
    return poster;
  }

  String hostHeader() {
    return host + ":" + port;
  }

  String token(int index) {
    return Jwt.hs256(secret, "u" + index, 3600);
  }

  List<String> channels(int index) {
    List<String> out = new ArrayList<>(channelPatterns.size());
    for (String p : channelPatterns) {
      out.add(
          p.replace("{i}", Integer.toString(index)).replace("{m}", Integer.toString(index % 100)));
    }
    return out;
  }

  void log(String message) {
    System.err.println("worker " + source + ": " + message);
  }

  // ---- commands ----

  private void commands(BufferedReader in) throws Exception {
    String line;
    while ((line = in.readLine()) != null) {
      String[] parts = line.trim().split(" ", -1);
      switch (parts[0]) {
        case "RESET" -> {
          long base = Long.parseLong(parts[1]);
          onLoop(
              () -> {
                recorder.reset(base);
                for (LoadConnection c : connections) {
                  c.resetExpected(base);
                }
                return "OK";
              });
        }
        case "STATUS" -> onLoop(() -> "STATUS " + recorder.delivered);
        case "REPORT" -> onLoop(this::report);
        case "EXIT" -> {
          // The process halts once this returns; the loop's threads end with it.
          var unused = group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
          return;
        }
        default -> out("ERROR unknown command " + line);
      }
    }
  }

  private void onLoop(java.util.concurrent.Callable<String> task) throws Exception {
    out(group.submit(task).get(60, TimeUnit.SECONDS));
  }

  private String report() {
    Histogram h = recorder.latencyMicros;
    ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int n = h.encodeIntoCompressedByteBuffer(buf);
    String hist = Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), n));
    return String.format(
        "REPORT {\"delivered\":%d,\"gaps\":%d,\"duplicates\":%d,\"stale\":%d,\"ready\":%d,"
            + "\"closed\":%d,\"disconnects\":%d,\"posts\":%d,\"histogram\":\"%s\"}",
        recorder.delivered,
        recorder.gaps,
        recorder.duplicates,
        recorder.stale,
        ready,
        closedAfterReady,
        disconnects,
        poster.sent,
        hist);
  }

  private static synchronized void out(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
