package dev.herald.server.it.attack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.server.it.TestServer;
import dev.herald.server.it.WireClient;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Hostile WebSocket frames on a raw socket: oversize and fragmented-oversize messages (1009),
 * invalid UTF-8 (1007), binary frames (1003), frames that break RFC 6455's rules (1002), malformed
 * and deeply nested JSON (error 107, the connection stays). A bystander connected meanwhile
 * receives every publication in order.
 */
class FrameAttackIT {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  private static boolean isDisconnect(JsonNode m) {
    return m.path("type").asText().equals("disconnect");
  }

  private static WireClient attacker() {
    WireClient c = WireClient.upgrade(server.port(), "herald.v1.json");
    c.connect(server.token("mallory"));
    return c;
  }

  private static void closedWith(WireClient c, int code) {
    assertThat(c.awaitMessage(FrameAttackIT::isDisconnect).get("code").asInt()).isEqualTo(code);
    assertThat(c.awaitClose()).isEqualTo(code);
  }

  @Test
  void oversizeMessageIsClosedWith1009() {
    try (Bystander bystander = Bystander.start(server);
        WireClient c = attacker()) {
      String big = "{\"type\":\"ping\",\"pad\":\"" + "x".repeat(70_000) + "\"}";
      c.sendFrame(true, WireClient.TEXT, big.getBytes(StandardCharsets.US_ASCII));
      closedWith(c, 1009);
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void aFrameAnnouncingFarMoreThanTheLimitIsClosedWith1009BeforeItsPayload() {
    try (Bystander bystander = Bystander.start(server);
        WireClient c = attacker()) {
      // A 1 GiB text frame: the header alone is enough to refuse it, with a close frame, so a
      // client learns why instead of seeing its connection vanish.
      c.sendFrameHeader(0x80 | WireClient.TEXT, 1L << 30);
      assertThat(c.awaitClose()).isEqualTo(1009);
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void manySmallFragmentsAddingUpPastTheLimitAreClosedWith1009() {
    try (Bystander bystander = Bystander.start(server);
        WireClient c = attacker()) {
      byte[] chunk = new byte[1000];
      Arrays.fill(chunk, (byte) 'y');
      c.sendFrame(false, WireClient.TEXT, "{\"type\":\"ping\",\"pad\":\"".getBytes());
      for (int i = 0; i < 80; i++) { // 80 000 bytes in 1 KB continuation frames
        c.sendFrame(false, WireClient.CONTINUATION, chunk);
      }
      c.sendFrame(true, WireClient.CONTINUATION, "\"}".getBytes());
      closedWith(c, 1009);
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void invalidUtf8IsClosedWith1007() {
    try (Bystander bystander = Bystander.start(server);
        WireClient c = attacker()) {
      ByteArrayOutputStream text = new ByteArrayOutputStream();
      text.writeBytes("{\"type\":\"ping\",\"x\":\"".getBytes(StandardCharsets.US_ASCII));
      text.writeBytes(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}); // a UTF-16 surrogate
      text.writeBytes("\"}".getBytes(StandardCharsets.US_ASCII));
      c.sendFrame(true, WireClient.TEXT, text.toByteArray());
      closedWith(c, 1007);
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void binaryFrameIsClosedWith1003() {
    try (Bystander bystander = Bystander.start(server);
        WireClient c = attacker()) {
      c.sendFrame(true, 0x2, new byte[] {0, 1, 2, 3});
      closedWith(c, 1003);
      bystander.assertEverythingArrived();
    }
  }

  /**
   * Frames that break RFC 6455's rules are answered with a close frame carrying 1002 (protocol
   * error), then the connection closes; nothing reaches the hub.
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.MethodSource("frameRuleViolations")
  void frameRuleViolationsAreClosedWith1002(String what, int firstByte, boolean masked, int size) {
    try (Bystander bystander = Bystander.start(server);
        WireClient c = attacker()) {
      byte[] payload = new byte[size];
      Arrays.fill(payload, (byte) 'z');
      c.sendRawFrame(firstByte, masked, payload);
      assertThat(c.awaitClose()).as(what).isEqualTo(1002);
      bystander.assertEverythingArrived();
    }
  }

  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments>
      frameRuleViolations() {
    return java.util.stream.Stream.of(
        args("a control frame longer than 125 bytes", 0x89, true, 126),
        args("an unmasked client frame", 0x81, false, 10),
        args("reserved data opcode 0x3", 0x83, true, 4),
        args("reserved control opcode 0xB", 0x8B, true, 4),
        args("RSV1 without a negotiated extension", 0xC1, true, 4),
        args("RSV2", 0xA1, true, 4),
        args("RSV3", 0x91, true, 4),
        args("a fragmented control frame", 0x09, true, 4),
        args("a continuation frame without a start", 0x80, true, 4));
  }

  private static org.junit.jupiter.params.provider.Arguments args(
      String what, int firstByte, boolean masked, int size) {
    return org.junit.jupiter.params.provider.Arguments.of(what, firstByte, masked, size);
  }

  @Test
  void malformedAndDeeplyNestedJsonGet107AndTheConnectionStays() {
    try (Bystander bystander = Bystander.start(server);
        WireClient c = attacker()) {
      for (String bad :
          new String[] {
            "{\"type\":", "[1,2", "\u0000", "{\"type\":\"ping\",\"type\":\"pong\"}", "null"
          }) {
        c.sendFrame(true, WireClient.TEXT, bad.getBytes(StandardCharsets.UTF_8));
        JsonNode e = c.awaitMessage(m -> m.path("type").asText().equals("error"));
        assertThat(e.path("error").path("code").asInt()).as("answer to %s", bad).isEqualTo(107);
      }
      String deep =
          "{\"type\":\"publish\",\"id\":7,\"channel\":\"test:x\",\"data\":"
              + "[".repeat(20_000)
              + "]".repeat(20_000)
              + "}";
      c.sendFrame(true, WireClient.TEXT, deep.getBytes(StandardCharsets.US_ASCII));
      JsonNode r = c.awaitMessage(m -> m.path("id").asLong() == 7 || isError(m));
      JsonNode error = r.has("error") ? r.get("error") : r;
      assertThat(error.path("code").asInt()).isEqualTo(107);
      JsonNode ok = c.request(8, "{\"type\":\"subscribe\",\"id\":8,\"channel\":\"test:after\"}");
      assertThat(ok.has("result")).as("still usable: %s", ok).isTrue();
      bystander.assertEverythingArrived();
    }
  }

  private static boolean isError(JsonNode m) {
    return m.path("type").asText().equals("error");
  }
}
