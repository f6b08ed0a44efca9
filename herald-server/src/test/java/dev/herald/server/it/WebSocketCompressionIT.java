package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** permessage-deflate (websocket.compression=true), spoken by hand over a plain socket. */
class WebSocketCompressionIT {
  /** FIN, RSV1 (compressed), text. */
  private static final int COMPRESSED_TEXT = 0x80 | 0x40 | WireClient.TEXT;

  private static TestServer server;

  @BeforeAll
  static void start() {
    Map<String, String> config = TestServer.baseConfig();
    config.put("websocket.compression", "true");
    server = TestServer.start(config);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void compressedMessagesGoBothWays() {
    try (WireClient c = upgrade()) {
      assertThat(connect(c, "alice")).contains("\"type\":\"reply\"").contains("\"result\"");
    }
  }

  @Test
  void aFrameInflatingBeyondTheFrameCeilingIsRefusedWith1009AndTheServerServesOn() {
    // 64 MiB of spaces deflate to about 64 KiB: a frame the decoder accepts (its ceiling is 4x
    // limits.max-message-bytes, 256 KiB here) whose content inflates a thousand times larger.
    byte[] bomb = deflate(" ".repeat(64 << 20));
    assertThat(bomb.length).isLessThan(256 << 10);
    try (WireClient c = upgrade()) {
      assertThat(connect(c, "bob")).contains("\"result\"");
      c.sendRawFrame(COMPRESSED_TEXT, true, bomb);
      assertThat(c.awaitClose()).isEqualTo(1009);
    }
    try (WireClient c = upgrade()) {
      assertThat(connect(c, "carol")).contains("\"result\"");
    }
  }

  /** Sends a compressed connect for the user and returns the first message frame back. */
  private static String connect(WireClient c, String user) {
    c.sendRawFrame(
        COMPRESSED_TEXT,
        true,
        deflate("{\"type\":\"connect\",\"id\":1,\"token\":\"" + server.token(user) + "\"}"));
    return awaitText(c);
  }

  /** The next text frame, inflated (WireClient's own readers expect uncompressed JSON). */
  private static String awaitText(WireClient c) {
    while (true) {
      WireClient.Frame f = c.readFrame();
      assertThat(f.opcode()).as("frame opcode").isNotEqualTo(WireClient.CLOSE);
      if (f.opcode() == WireClient.TEXT) {
        return inflate(f.payload());
      }
    }
  }

  private static WireClient upgrade() {
    WireClient c =
        WireClient.request(
            server.port(),
            "/connection/websocket",
            List.of(
                "Upgrade: websocket",
                "Connection: Upgrade",
                "Sec-WebSocket-Key: " + WireClient.newKey(),
                "Sec-WebSocket-Version: 13",
                "Sec-WebSocket-Protocol: herald.v1.json",
                "Sec-WebSocket-Extensions: permessage-deflate"));
    assertThat(c.status).as("handshake, body: %s", c.body).isEqualTo(101);
    assertThat(c.headers.get("sec-websocket-extensions")).startsWith("permessage-deflate");
    return c;
  }

  /** RFC 7692 section 7.2.1: raw DEFLATE, sync-flushed, without the trailing 00 00 ff ff. */
  private static byte[] deflate(String text) {
    Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    try {
      d.setInput(text.getBytes(StandardCharsets.UTF_8));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] chunk = new byte[65_536];
      int n;
      do {
        n = d.deflate(chunk, 0, chunk.length, Deflater.SYNC_FLUSH);
        out.write(chunk, 0, n);
      } while (n == chunk.length || !d.needsInput());
      byte[] all = out.toByteArray();
      return Arrays.copyOf(all, all.length - 4);
    } finally {
      d.end();
    }
  }

  private static String inflate(byte[] payload) {
    Inflater i = new Inflater(true);
    try {
      byte[] input = Arrays.copyOf(payload, payload.length + 4);
      input[payload.length + 2] = (byte) 0xFF;
      input[payload.length + 3] = (byte) 0xFF;
      i.setInput(input);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] chunk = new byte[4096];
      int n;
      while ((n = i.inflate(chunk)) > 0) {
        out.write(chunk, 0, n);
      }
      return out.toString(StandardCharsets.UTF_8);
    } catch (DataFormatException e) {
      throw new AssertionError(e);
    } finally {
      i.end();
    }
  }
}
