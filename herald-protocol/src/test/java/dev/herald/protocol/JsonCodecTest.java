package dev.herald.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;

class JsonCodecTest {
  final JsonCodec codec = new JsonCodec();

  @Test
  void errorsNameTheFieldAndKeepTheRequestId() {
    ProtocolException e =
        catchThrowableOfType(
            ProtocolException.class,
            () -> codec.decodeClient("{\"type\":\"subscribe\",\"id\":9,\"channel\":5}"));
    assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(e.requestId()).isEqualTo(9);
    assertThat(e.getMessage()).isEqualTo("'channel' must be a string");
  }

  @Test
  void connectPingMsIsOptionalAndMustBeAPositiveInteger() throws Exception {
    assertThat(codec.decodeClient("{\"type\":\"connect\",\"id\":1}"))
        .isEqualTo(new ClientMessage.Connect(1, null, null, 1, 0));
    assertThat(codec.decodeClient("{\"type\":\"connect\",\"id\":1,\"ping_ms\":3000}"))
        .isEqualTo(new ClientMessage.Connect(1, null, null, 1, 3000));
    for (String bad : List.of("0", "-5", "1.5", "\"3000\"")) {
      ProtocolException e =
          catchThrowableOfType(
              ProtocolException.class,
              () -> codec.decodeClient("{\"type\":\"connect\",\"id\":2,\"ping_ms\":" + bad + "}"));
      assertThat(e.code()).as(bad).isEqualTo(ErrorCode.BAD_REQUEST);
      assertThat(e.requestId()).isEqualTo(2);
      assertThat(e.getMessage()).isEqualTo("'ping_ms' must be a positive integer");
    }
  }

  @Test
  void unknownTypeIsMethodNotFound() {
    ProtocolException e =
        catchThrowableOfType(
            ProtocolException.class, () -> codec.decodeClient("{\"type\":\"fly\",\"id\":3}"));
    assertThat(e.code()).isEqualTo(ErrorCode.METHOD_NOT_FOUND);
    assertThat(e.requestId()).isEqualTo(3);
  }

  @Test
  void refusesNonObjectsDuplicatesTrailingDataAndBadIds() {
    for (String bad :
        List.of(
            "[]",
            "42",
            "{\"type\":\"ping\"} x",
            "{\"type\":\"subscribe\",\"id\":1,\"id\":2,\"channel\":\"a\"}",
            "{\"type\":\"subscribe\",\"id\":-1,\"channel\":\"a\"}",
            "{\"type\":\"subscribe\",\"id\":1.5,\"channel\":\"a\"}",
            "{\"type\":\"subscribe\",\"id\":9007199254740993,\"channel\":\"a\"}")) {
      ProtocolException e =
          catchThrowableOfType(ProtocolException.class, () -> codec.decodeClient(bad));
      assertThat(e).as(bad).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
    }
  }

  @Test
  void refusesDeepNesting() {
    String deep =
        "{\"type\":\"publish\",\"id\":1,\"channel\":\"a\",\"data\":"
            + "[".repeat(100)
            + "]".repeat(100)
            + "}";
    ProtocolException e =
        catchThrowableOfType(ProtocolException.class, () -> codec.decodeClient(deep));
    assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(e.getMessage()).contains("nesting");
  }

  @Test
  void frameWithSeveralLinesDecodesEachAndKeepsGoodOnesAroundABadOne() {
    var decoded = codec.decodeClientFrame("{\"type\":\"ping\"}\n{bad\n\n{\"type\":\"pong\"}");
    assertThat(decoded).hasSize(3);
    assertThat(decoded.get(0).message()).isEqualTo(Ping.INSTANCE);
    assertThat(decoded.get(1).isOk()).isFalse();
    assertThat(decoded.get(2).message()).isEqualTo(Pong.INSTANCE);
  }

  @Test
  void rawJsonIsCompactAndHasNoLineBreaks() throws Exception {
    RawJson r = codec.parseRaw("{ \"a\" : \"x\\ny\",\n \"b\": [1, 2] }");
    assertThat(r.json()).isEqualTo("{\"a\":\"x\\ny\",\"b\":[1,2]}");
  }

  @Test
  void numbersKeepTheirValueAndPrecision() throws Exception {
    RawJson r =
        codec.parseRaw(
            "{\"a\":1.10,\"b\":12345678901234567890.5,\"c\":1e400,\"d\":123456789012345678901234567890,\"e\":-0.000001}");
    assertThat(r.json())
        .isEqualTo(
            "{\"a\":1.10,\"b\":12345678901234567890.5,\"c\":1E+400,\"d\":123456789012345678901234567890,\"e\":-0.000001}");
    ClientMessage.Publish p =
        (ClientMessage.Publish)
            codec.decodeClient("{\"type\":\"publish\",\"id\":1,\"channel\":\"a\",\"data\":0.1}");
    assertThat(p.data().json()).isEqualTo("0.1");
  }

  @Test
  void closeCodeRangesTellWhetherToReconnect() {
    assertThat(CloseCode.SHUTDOWN.reconnect()).isTrue();
    assertThat(CloseCode.SLOW_CONSUMER.reconnect()).isTrue();
    assertThat(CloseCode.MESSAGE_TOO_BIG.reconnect()).isTrue();
    assertThat(CloseCode.UNAUTHORIZED.reconnect()).isFalse();
    assertThat(CloseCode.NORMAL.reconnect()).isFalse();
    assertThat(CloseCode.reconnect(4499)).isTrue();
    assertThat(CloseCode.reconnect(4999)).isFalse();
  }
}
