package dev.herald.bench.jmh;

import dev.herald.core.auth.Principal;
import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.hub.ClientSession;
import dev.herald.core.hub.ConnectionContext;
import dev.herald.core.hub.Hub;
import dev.herald.core.transport.EventLoop;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.StreamPosition;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hub's fan-out path, without a network: one publication (history on, memory broker) to {@code
 * subscribers} sessions whose transport writes nowhere, on the calling thread. Time and allocation
 * per op divided by {@code subscribers} are the hub's cost per delivery; the encoding happens once
 * per op. Run with {@code -prof gc} for bytes/op.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FanOutBenchmark {
  @Param({"1000"})
  public int subscribers;

  // Set by setup(), which JMH runs before any benchmark method.
  @SuppressWarnings("NullAway.Init")
  private Hub hub;

  // Set by setup(), which JMH runs before any benchmark method.
  @SuppressWarnings("NullAway.Init")
  private RawJson data;

  final AtomicLong written = new AtomicLong();
  private final AtomicLong users = new AtomicLong();

  @Setup(Level.Trial)
  public void setup() throws Exception {
    hub =
        Hub.builder()
            .namespace(
                NamespaceSettings.builder("bench")
                    .historySize(100)
                    .historyTtl(Duration.ofMinutes(5))
                    .presence(false)
                    .joinLeave(false)
                    .build())
            // one user per connection: the per-user connection limit would refuse the rest
            .authenticator(
                req ->
                    CompletableFuture.completedFuture(Principal.of("u" + users.incrementAndGet())))
            .build();
    for (int i = 0; i < subscribers; i++) {
      ClientSession s =
          hub.openSession(new NullTransport(), new ConnectionContext(Map.of(), "bench"));
      s.onText(
          "{\"type\":\"connect\",\"id\":1,\"token\":\"t\"}\n"
              + "{\"type\":\"subscribe\",\"id\":2,\"channel\":\"bench:fan\"}");
    }
    if (hub.stats().subscriptions() != subscribers) {
      throw new IllegalStateException("subscriptions: " + hub.stats());
    }
    data = hub.codec().parseRaw("{\"bseq\":1,\"bts\":123456789}");
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    hub.close();
  }

  @Benchmark
  public StreamPosition publishToAll() {
    return hub.publish("bench:fan", data).join();
  }

  /** One loop for all connections: the calling thread, as when a publisher runs on the loop. */
  private static final EventLoop CALLING_THREAD =
      new EventLoop() {
        @Override
        public boolean inLoop() {
          return true;
        }

        @Override
        public void execute(Runnable task) {
          task.run();
        }
      };

  /** A transport that is always writable and drops what it is given, on the calling thread. */
  private final class NullTransport implements TransportConnection {
    @Override
    public String transport() {
      return "null";
    }

    @Override
    public EventLoop loop() {
      return CALLING_THREAD;
    }

    @Override
    public void send(List<OutboundMessage> batch) {
      written.addAndGet(batch.size());
    }

    @Override
    public boolean writable() {
      return true;
    }

    @Override
    public void close(int code, String reason) {}
  }
}
