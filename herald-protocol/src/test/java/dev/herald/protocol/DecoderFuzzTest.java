package dev.herald.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A seeded mutation fuzzer for the decoders: random text, random bytes read as (possibly invalid)
 * UTF-8, and stacked mutations of every golden file (characters replaced, inserted, deleted, cut,
 * frames joined). The contract: a decoder returns a message or throws {@link ProtocolException}
 * with a documented code; the client frame decoder never throws at all. Anything else (a runtime
 * exception, a stack overflow, a hang) fails the test. Inputs are bounded in size and each test has
 * a timeout, so a run is bounded in time. A failure prints the seed and the input; set {@code
 * -Dfuzz.seed=N} to replay a run and {@code -Dfuzz.iterations=N} to run longer.
 */
class DecoderFuzzTest {
  private static final JsonCodec CODEC = new JsonCodec();
  private static final List<String> GOLDEN = golden();
  private static final long SEED = Long.getLong("fuzz.seed", 0x4e52414cL);
  private static final int ITERATIONS = Integer.getInteger("fuzz.iterations", 20_000);
  private static final char[] JSON_CHARS =
      "{}[]\":,\\ \n\t0123456789.eE+-truefalsnl\u0000\uD800\uDC00\u2028\u00e9".toCharArray();

  private static List<String> golden() {
    try (Stream<Path> files = Files.list(Path.of("src/test/resources/golden/v1"))) {
      List<String> out = new ArrayList<>();
      for (Path p : files.sorted().toList()) {
        out.add(Files.readString(p, StandardCharsets.UTF_8).strip());
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  @Timeout(120)
  void mutatedGoldenFilesAreDecodedOrRefused() {
    assertThat(GOLDEN).hasSizeGreaterThan(20);
    Random r = new Random(SEED);
    for (int i = 0; i < ITERATIONS; i++) {
      String s = GOLDEN.get(r.nextInt(GOLDEN.size()));
      int n = 1 + r.nextInt(4);
      for (int k = 0; k < n; k++) {
        s = mutate(s, r);
      }
      check(s, i);
    }
  }

  @Test
  @Timeout(120)
  void randomTextIsDecodedOrRefused() {
    Random r = new Random(SEED + 1);
    for (int i = 0; i < ITERATIONS; i++) {
      int len = r.nextInt(300);
      StringBuilder b = new StringBuilder(len);
      boolean jsonish = r.nextBoolean();
      for (int k = 0; k < len; k++) {
        b.append(jsonish ? JSON_CHARS[r.nextInt(JSON_CHARS.length)] : (char) r.nextInt(0x10000));
      }
      check(b.toString(), i);
    }
  }

  @Test
  @Timeout(120)
  void randomBytesAreDecodedOrRefused() {
    Random r = new Random(SEED + 2);
    for (int i = 0; i < ITERATIONS; i++) {
      byte[] bytes = new byte[r.nextInt(400)];
      r.nextBytes(bytes);
      // Transports refuse invalid UTF-8 before the codec (1007); here replacement characters and
      // arbitrary control characters get through.
      check(new String(bytes, StandardCharsets.UTF_8), i);
    }
  }

  @Test
  @Timeout(60)
  void deepNestingIsRefusedWithBadRequestAtAnyDepth() {
    for (int depth : new int[] {33, 100, 1_000, 10_000, 100_000}) {
      for (String open : new String[] {"[", "{\"a\":"}) {
        String close = open.equals("[") ? "]" : "}";
        String input =
            "{\"type\":\"publish\",\"id\":1,\"channel\":\"a\",\"data\":"
                + open.repeat(depth)
                + "1"
                + close.repeat(depth)
                + "}";
        List<Decoded<ClientMessage>> d = CODEC.decodeClientFrame(input);
        assertThat(d).hasSize(1);
        assertThat(d.get(0).isOk()).as("depth %d", depth).isFalse();
        assertThat(d.get(0).error().code()).isEqualTo(ErrorCode.BAD_REQUEST);
        // Unclosed nesting too (a truncated attack frame).
        check(open.repeat(depth), depth);
      }
    }
  }

  /** Numbers at the edges of what JSON allows and Java holds, in every field that takes one. */
  static final String[] NUMBERS = {
    "1e2147483648",
    "1e-2147483649",
    "-1e2147483648",
    "1E+2147483647",
    "1e999999999999999999",
    "123456789012345678901234567890",
    "-9223372036854775809",
    "9223372036854775808",
    "1" + "0".repeat(5000),
    "0." + "0".repeat(5000) + "1",
    "1e-400",
    "-0",
    "-0.0",
    "0e0",
    "4.9e-324",
    "1.7976931348623157e308",
    "1.8e308",
    "9007199254740993",
    "1.5",
    "-1",
  };

  /**
   * A number out of any range inside a client message is that message's error (107, with its id
   * when the id is readable), never an exception, and the next message of the same frame is still
   * decoded.
   */
  @Test
  void numericEdgeCasesAreDecodedOrRefusedAndDoNotHideTheNextMessage() {
    String next = "{\"type\":\"ping\"}";
    for (String n : NUMBERS) {
      for (String message :
          new String[] {
            "{\"type\":\"publish\",\"id\":7,\"channel\":\"a\",\"data\":" + n + "}",
            "{\"type\":\"publish\",\"id\":7,\"channel\":\"a\",\"data\":{\"x\":[" + n + "]}}",
            "{\"type\":\"subscribe\",\"id\":7,\"channel\":\"a\",\"since\":{\"epoch\":\"e\",\"offset\":"
                + n
                + "}}",
            "{\"type\":\"connect\",\"id\":7,\"protocol\":" + n + "}",
            "{\"type\":\"ping\",\"id\":" + n + "}",
            "{\"type\":\"unsubscribe\",\"id\":" + n + ",\"channel\":\"a\"}",
          }) {
        String where = "number " + clip(n) + " in " + clip(message);
        List<Decoded<ClientMessage>> d;
        try {
          d = CODEC.decodeClientFrame(message + "\n" + next);
        } catch (RuntimeException e) {
          throw new AssertionError("decoder threw for " + where, e);
        }
        assertThat(d).as(where).hasSize(2);
        if (!d.get(0).isOk()) {
          assertThat(d.get(0).error().code()).as(where).isEqualTo(ErrorCode.BAD_REQUEST);
          assertThat(d.get(0).error().getMessage()).as(where).isNotBlank();
        } else {
          // Accepted data keeps its exact value when encoded again.
          assertThatCode(() -> CODEC.encode(d.get(0).message()))
              .as(where)
              .doesNotThrowAnyException();
        }
        assertThat(d.get(1).isOk()).as("the message after " + where).isTrue();
        assertThat(d.get(1).message()).isEqualTo(Ping.INSTANCE);
      }
    }
  }

  @Test
  void everyGoldenFileStillDecodes() {
    for (String g : GOLDEN) {
      assertThatCode(() -> check(g, 0)).doesNotThrowAnyException();
    }
  }

  private static String mutate(String s, Random r) {
    if (s.isEmpty()) {
      return String.valueOf(JSON_CHARS[r.nextInt(JSON_CHARS.length)]);
    }
    int i = r.nextInt(s.length());
    char c = JSON_CHARS[r.nextInt(JSON_CHARS.length)];
    return switch (r.nextInt(6)) {
      case 0 -> s.substring(0, i) + c + s.substring(i + 1);
      case 1 -> s.substring(0, i) + c + s.substring(i);
      case 2 -> s.substring(0, i) + s.substring(i + 1);
      case 3 -> s.substring(0, i);
      case 4 -> s.substring(0, i) + s.substring(i, Math.min(s.length(), i + 20)).repeat(3) + s;
      default -> s + "\n" + s.substring(i);
    };
  }

  /** The decoder contract for one input; the message names the input so a failure replays. */
  private static void check(String input, int iteration) {
    String where = "seed " + SEED + ", iteration " + iteration + ", input " + clip(input);
    try {
      for (Decoded<ClientMessage> d : CODEC.decodeClientFrame(input)) {
        if (d.isOk()) {
          assertThat(d.message()).as(where).isNotNull();
        } else {
          assertThat(d.error().code()).as(where).isNotNull();
          assertThat(d.error().getMessage()).as(where).isNotBlank();
        }
      }
      decodeOrRefuse(() -> CODEC.decodeClient(input), where);
      decodeOrRefuse(() -> CODEC.decodeServer(input), where);
      decodeOrRefuse(() -> CODEC.decodeServerFrame(input), where);
    } catch (RuntimeException | StackOverflowError e) {
      throw new AssertionError("decoder broke its contract: " + where, e);
    }
  }

  private interface Decoder {
    Object decode() throws ProtocolException;
  }

  private static void decodeOrRefuse(Decoder d, String where) {
    try {
      assertThat(d.decode()).as(where).isNotNull();
    } catch (ProtocolException e) {
      assertThat(e.code()).as(where).isNotNull();
      assertThat(e.getMessage()).as(where).isNotBlank();
    }
  }

  private static String clip(String s) {
    String t = s.length() > 200 ? s.substring(0, 200) + "..." : s;
    return t.replace("\n", "\\n");
  }
}
