package dev.herald.bench.jmh;

import dev.herald.protocol.ClientMessage;
import dev.herald.protocol.Decoded;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The wire codec: encoding a publication (done once per publication, whatever the number of
 * subscribers) and decoding a client's publish frame. Run with {@code -prof gc} for bytes/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CodecBenchmark {
  private final JsonCodec codec = new JsonCodec();

  // Set by setup(), which JMH runs before any benchmark method.
  @SuppressWarnings("NullAway.Init")
  private ServerMessage.Pub pub;

  // Set by setup(), which JMH runs before any benchmark method.
  @SuppressWarnings("NullAway.Init")
  private String publishFrame;

  @Setup
  public void setup() throws Exception {
    RawJson data =
        codec.parseRaw("{\"item\":7,\"status\":\"ready\",\"title\":\"Quarterly report\"}");
    pub = new ServerMessage.Pub("project:42", "k3J9cQ", 1058, 1764234000123L, data, null);
    publishFrame =
        "{\"type\":\"publish\",\"id\":5,\"channel\":\"project:42\",\"data\":{\"item\":7,\"status\":\"ready\",\"title\":\"Quarterly report\"}}";
  }

  @Benchmark
  public byte[] encodePublication() {
    return codec.encode(pub);
  }

  @Benchmark
  public List<Decoded<ClientMessage>> decodePublishFrame() {
    return codec.decodeClientFrame(publishFrame);
  }
}
