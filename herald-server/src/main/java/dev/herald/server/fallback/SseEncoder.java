package dev.herald.server.fallback;

import dev.herald.core.transport.OutboundMessage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes Server-Sent Events. Every line break a value may hold (CR, LF or CRLF) starts a new
 * {@code data:} line, so no value can inject SSE fields such as {@code event:} or {@code id:}; NUL
 * is replaced by U+FFFD, as the SSE parser would do. Protocol messages are compact JSON without raw
 * line breaks, so in practice each message is one {@code data:} line, and a batch of messages is
 * one event whose data the browser joins with LF: exactly the protocol's batch format.
 */
public final class SseEncoder {
  private SseEncoder() {}

  /** One event holding the batch (one data line per message). */
  public static byte[] event(List<OutboundMessage> batch) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + batch.size() * 128);
    for (OutboundMessage m : batch) {
      dataLines(out, m.bytes());
    }
    out.write('\n');
    return out.toByteArray();
  }

  /** A named event with a text value. */
  public static byte[] event(String name, String data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + data.length());
    byte[] n = sanitizeName(name).getBytes(StandardCharsets.UTF_8);
    out.writeBytes("event: ".getBytes(StandardCharsets.UTF_8));
    out.writeBytes(n);
    out.write('\n');
    dataLines(out, data.getBytes(StandardCharsets.UTF_8));
    out.write('\n');
    return out.toByteArray();
  }

  /**
   * A comment line of {@code size} spaces. Sent first on a new stream: some proxies hold back small
   * responses, and a first chunk of a couple of kilobytes gets the stream flowing.
   */
  public static byte[] padding(int size) {
    byte[] b = new byte[size + 2];
    b[0] = ':';
    for (int i = 1; i <= size; i++) {
      b[i] = ' ';
    }
    b[size + 1] = '\n';
    return b;
  }

  private static void dataLines(ByteArrayOutputStream out, byte[] value) {
    out.writeBytes(DATA);
    for (int i = 0; i < value.length; i++) {
      byte c = value[i];
      if (c == '\r') {
        out.write('\n');
        out.writeBytes(DATA);
        if (i + 1 < value.length && value[i + 1] == '\n') {
          i++;
        }
      } else if (c == '\n') {
        out.write('\n');
        out.writeBytes(DATA);
      } else if (c == 0) {
        out.writeBytes(REPLACEMENT);
      } else {
        out.write(c);
      }
    }
    out.write('\n');
  }

  private static String sanitizeName(String name) {
    return name.replaceAll("[\\r\\n\\x00:]", "_");
  }

  private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] REPLACEMENT = "\uFFFD".getBytes(StandardCharsets.UTF_8);
}
