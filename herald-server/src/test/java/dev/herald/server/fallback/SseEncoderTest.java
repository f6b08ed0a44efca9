package dev.herald.server.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.transport.OutboundMessage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SSE encoder's output is read back with a minimal parser that follows the HTML spec's event
 * stream interpretation: whatever a value holds, it comes back as the data of exactly the event it
 * was put in, and can never set another field (event type, id, retry) or end the event early.
 */
class SseEncoderTest {

  // ---------------------------------------------------------------- line breaks and injection

  @Test
  void everyKindOfLineBreakStartsANewDataLine() {
    byte[] out = SseEncoder.event("message", "a\rb\nc\r\nd");
    assertThat(text(out)).isEqualTo("event: message\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    List<Event> events = parse(out);
    assertThat(events).containsExactly(new Event("message", "a\nb\nc\nd", null, null));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "hello\nevent: evil\nid: 7\nretry: 1\n\ndata: injected",
        "hello\revent: evil\rid: 7\rretry: 1\r\rdata: injected",
        "hello\r\nevent: evil\r\nid: 7\r\nretry: 1\r\n\r\ndata: injected",
        "\n\n\n",
        "\r\r\r",
        "\r\n\r\n",
        "\n\r",
        "trailing\n",
        "trailing\r",
        ": comment?\nevent:evil",
        "id:1\u0000\nretry:5",
      })
  void valuesCannotInjectFieldsOrEndTheEvent(String value) {
    byte[] out = SseEncoder.event("message", value);
    assertNoBareCrOrNul(out);
    List<Event> events = parse(out);
    assertThat(events).hasSize(1);
    Event e = events.get(0);
    assertThat(e.type()).isEqualTo("message");
    assertThat(e.id()).isNull();
    assertThat(e.retry()).isNull();
    assertThat(e.data()).isEqualTo(normalize(value));
  }

  @Test
  void nulIsReplacedByTheReplacementCharacter() {
    byte[] out = SseEncoder.event("message", "a\u0000b");
    for (byte b : out) {
      assertThat(b).isNotEqualTo((byte) 0);
    }
    assertThat(parse(out).get(0).data()).isEqualTo("a\uFFFDb");
  }

  @Test
  void aBatchIsOneEventWithOneDataLinePerMessage() {
    List<OutboundMessage> batch =
        List.of(
            msg("{\"type\":\"pub\",\"offset\":1}"),
            msg("{\"type\":\"pub\",\"offset\":2}"),
            msg("{\"type\":\"ping\"}"));
    byte[] out = SseEncoder.event(batch);
    assertThat(text(out))
        .isEqualTo(
            "data: {\"type\":\"pub\",\"offset\":1}\n"
                + "data: {\"type\":\"pub\",\"offset\":2}\n"
                + "data: {\"type\":\"ping\"}\n\n");
    List<Event> events = parse(out);
    assertThat(events).hasSize(1);
    assertThat(events.get(0).type()).isEqualTo("message");
    // what EventSource hands the page: the protocol's batch format (LF between messages)
    assertThat(events.get(0).data())
        .isEqualTo(
            "{\"type\":\"pub\",\"offset\":1}\n{\"type\":\"pub\",\"offset\":2}\n{\"type\":\"ping\"}");
  }

  @Test
  void messagesWithLineBreaksInABatchStayInTheirEvent() {
    List<OutboundMessage> batch =
        List.of(msg("one\r\n\r\nevent: x\r\nid: 9"), msg("two\n\nretry: 0"), msg("\u0000"));
    List<Event> events = parse(SseEncoder.event(batch));
    assertThat(events).hasSize(1);
    Event e = events.get(0);
    assertThat(e.type()).isEqualTo("message");
    assertThat(e.id()).isNull();
    assertThat(e.retry()).isNull();
    assertThat(e.data()).isEqualTo("one\n\nevent: x\nid: 9\ntwo\n\nretry: 0\n\uFFFD");
  }

  @Test
  void multiByteUtf8PassesThroughUntouched() {
    String v = "Grüße, 編集者 🚀";
    assertThat(parse(SseEncoder.event("message", v)).get(0).data()).isEqualTo(v);
    assertThat(parse(SseEncoder.event(List.of(msg(v)))).get(0).data()).isEqualTo(v);
  }

  /** Random values made of the dangerous pieces always round-trip as the data of one event. */
  @Test
  void randomValuesRoundTrip() {
    String[] pieces = {
      "a", "é", "🚀", ":", " ", "\r", "\n", "\r\n", "\u0000", "event", "data", "id", "retry", "5"
    };
    Random random = new Random(42);
    for (int round = 0; round < 5000; round++) {
      StringBuilder v = new StringBuilder();
      int n = random.nextInt(12);
      for (int i = 0; i < n; i++) {
        v.append(pieces[random.nextInt(pieces.length)]);
      }
      String value = v.toString();
      byte[] out =
          random.nextBoolean()
              ? SseEncoder.event("session", value)
              : SseEncoder.event(List.of(msg(value), msg(value)));
      assertNoBareCrOrNul(out);
      List<Event> events = parse(out);
      boolean named = text(out).startsWith("event: ");
      assertThat(events).as("value %s", escape(value)).hasSize(1);
      Event e = events.get(0);
      assertThat(e.id()).isNull();
      assertThat(e.retry()).isNull();
      if (named) {
        assertThat(e.type()).isEqualTo("session");
        assertThat(e.data()).as("value %s", escape(value)).isEqualTo(normalize(value));
      } else {
        assertThat(e.type()).isEqualTo("message");
        assertThat(e.data())
            .as("value %s", escape(value))
            .isEqualTo(normalize(value) + "\n" + normalize(value));
      }
    }
  }

  // ---------------------------------------------------------------- names

  @ParameterizedTest
  @ValueSource(
      strings = {
        "evil\ndata: x",
        "evil\r\nid: 1",
        "evil\rretry: 1",
        "ev\u0000il",
        "a:b",
        "\n\n",
      })
  void eventNamesAreSanitized(String name) {
    byte[] out = SseEncoder.event(name, "v");
    assertNoBareCrOrNul(out);
    String t = text(out);
    // exactly one event line, one data line, one blank line
    assertThat(t.split("\n", -1)).hasSize(4);
    List<Event> events = parse(out);
    assertThat(events).hasSize(1);
    Event e = events.get(0);
    assertThat(e.data()).isEqualTo("v");
    assertThat(e.id()).isNull();
    assertThat(e.retry()).isNull();
    assertThat(e.type()).doesNotContain("\n", "\r", "\u0000", ":");
    assertThat(e.type()).hasSize(name.length()); // each bad character replaced, none dropped
  }

  @Test
  void plainNamesAreKept() {
    assertThat(parse(SseEncoder.event("session", "{}")))
        .containsExactly(new Event("session", "{}", null, null));
  }

  // ---------------------------------------------------------------- padding

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2048, 4096})
  void paddingIsOneCommentLineOfSpaces(int size) {
    byte[] p = SseEncoder.padding(size);
    assertThat(p).hasSize(size + 2);
    assertThat(p[0]).isEqualTo((byte) ':');
    assertThat(p[p.length - 1]).isEqualTo((byte) '\n');
    for (int i = 1; i < p.length - 1; i++) {
      assertThat(p[i]).isEqualTo((byte) ' ');
    }
    // a comment: no event of its own, and it does not disturb the event after it
    assertThat(parse(p)).isEmpty();
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    stream.writeBytes(p);
    stream.writeBytes(SseEncoder.event("session", "{\"session\":\"s\"}"));
    stream.writeBytes(SseEncoder.event(List.of(msg("{\"type\":\"ping\"}"))));
    assertThat(parse(stream.toByteArray()))
        .containsExactly(
            new Event("session", "{\"session\":\"s\"}", null, null),
            new Event("message", "{\"type\":\"ping\"}", null, null));
  }

  // ---------------------------------------------------------------- a minimal SSE parser

  /** A dispatched event; {@code id} and {@code retry} are null unless a field set them. */
  record Event(String type, String data, String id, Long retry) {}

  /**
   * Interprets an event stream as the HTML spec does (section 9.2.6): lines end with CRLF, LF or
   * CR; a blank line dispatches; lines starting with ':' are comments; "field: value" with one
   * optional space after the colon; unknown fields are ignored.
   */
  static List<Event> parse(byte[] stream) {
    String s = new String(stream, StandardCharsets.UTF_8);
    List<Event> events = new ArrayList<>();
    StringBuilder data = new StringBuilder();
    String type = "";
    String id = null;
    Long retry = null;
    for (String line : lines(s)) {
      if (line.isEmpty()) {
        if (data.length() == 0) {
          type = "";
          continue;
        }
        String d = data.substring(0, data.length() - 1);
        events.add(new Event(type.isEmpty() ? "message" : type, d, id, retry));
        data.setLength(0);
        type = "";
        continue;
      }
      if (line.startsWith(":")) {
        continue;
      }
      int colon = line.indexOf(':');
      String field = colon < 0 ? line : line.substring(0, colon);
      String value = colon < 0 ? "" : line.substring(colon + 1);
      if (value.startsWith(" ")) {
        value = value.substring(1);
      }
      switch (field) {
        case "event":
          type = value;
          break;
        case "data":
          data.append(value).append('\n');
          break;
        case "id":
          if (!value.contains("\u0000")) {
            id = value;
          }
          break;
        case "retry":
          if (!value.isEmpty() && value.chars().allMatch(Character::isDigit)) {
            retry = Long.parseLong(value);
          }
          break;
        default:
          break;
      }
    }
    return events; // an incomplete event at the end is discarded, as the spec says
  }

  private static List<String> lines(String s) {
    List<String> out = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\r' || c == '\n') {
        out.add(line.toString());
        line.setLength(0);
        if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
          i++;
        }
      } else {
        line.append(c);
      }
    }
    // text after the last line break is not a complete line: ignored
    return out;
  }

  // ---------------------------------------------------------------- helpers

  /** What a value should come back as: every line break an LF, NUL replaced. */
  private static String normalize(String v) {
    return v.replace("\r\n", "\n").replace('\r', '\n').replace('\u0000', '\uFFFD');
  }

  private static void assertNoBareCrOrNul(byte[] out) {
    for (byte b : out) {
      assertThat(b).as("no CR or NUL in the encoded stream").isNotIn((byte) '\r', (byte) 0);
    }
  }

  private static OutboundMessage msg(String s) {
    return new OutboundMessage(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private static String escape(String s) {
    return s.replace("\r", "\\r").replace("\n", "\\n").replace("\u0000", "\\0");
  }
}
