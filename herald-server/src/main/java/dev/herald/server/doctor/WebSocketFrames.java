package dev.herald.server.doctor;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Random;

/** The client side of RFC 6455 framing, as much as the doctor needs: masked frames out, any in. */
final class WebSocketFrames {
  static final int TEXT = 0x1;
  static final int CLOSE = 0x8;
  static final int PING = 0x9;
  static final int PONG = 0xA;

  /** Frames larger than this are not read (the doctor never expects one). */
  static final long MAX_PAYLOAD = 1 << 20;

  private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private WebSocketFrames() {}

  /** A frame as received (unmasked). */
  // Never compared or hashed: the payload is read as it arrived.
  @SuppressWarnings("ArrayRecordComponent")
  record Frame(int opcode, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    /** The close code of a close frame (1005 when it carries none). */
    int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005;
    }

    /** The reason text of a close frame ("" when it carries none). */
    String closeReason() {
      return payload.length > 2
          ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8)
          : "";
    }
  }

  /**
   * Reads one frame. Throws {@link EOFException} when the connection ends (before or inside a
   * frame), and {@link IOException} for a frame larger than {@link #MAX_PAYLOAD}.
   */
  static Frame read(InputStream in) throws IOException {
    int b0 = readByte(in);
    int b1 = readByte(in);
    long len = b1 & 0x7F;
    if (len == 126) {
      len = ((long) readByte(in) << 8) | readByte(in);
    } else if (len == 127) {
      len = 0;
      for (int i = 0; i < 8; i++) {
        len = (len << 8) | readByte(in);
      }
    }
    byte[] mask = null;
    if ((b1 & 0x80) != 0) {
      mask = in.readNBytes(4);
    }
    if (len > MAX_PAYLOAD) {
      throw new IOException("the server sent a WebSocket frame of " + len + " bytes");
    }
    byte[] payload = in.readNBytes((int) len);
    if (payload.length < len) {
      throw new EOFException("the connection ended in the middle of a frame");
    }
    if (mask != null) {
      for (int i = 0; i < payload.length; i++) {
        payload[i] ^= mask[i % 4];
      }
    }
    return new Frame(b0 & 0x0F, payload);
  }

  /** A masked client frame. */
  static byte[] masked(int opcode, byte[] payload, Random random) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 8);
    out.write(0x80 | opcode);
    if (payload.length < 126) {
      out.write(0x80 | payload.length);
    } else {
      out.write(0x80 | 126);
      out.write(payload.length >>> 8);
      out.write(payload.length & 0xFF);
    }
    byte[] mask = new byte[4];
    random.nextBytes(mask);
    out.writeBytes(mask);
    for (int i = 0; i < payload.length; i++) {
      out.write(payload[i] ^ mask[i % 4]);
    }
    return out.toByteArray();
  }

  static byte[] text(String text, Random random) {
    return masked(TEXT, text.getBytes(StandardCharsets.UTF_8), random);
  }

  /** A normal-closure (1000) close frame. */
  static byte[] close(Random random) {
    return masked(CLOSE, new byte[] {(byte) 0x03, (byte) 0xE8}, random);
  }

  /** The Sec-WebSocket-Accept a server must answer to {@code key}. */
  static String accept(String key) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      return Base64.getEncoder()
          .encodeToString(sha1.digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int readByte(InputStream in) throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("the connection ended");
    }
    return b;
  }
}
