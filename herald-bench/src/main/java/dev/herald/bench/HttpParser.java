package dev.herald.bench;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Incremental HTTP/1.1 response parser for the load generator: status, the few headers it needs,
 * and a body by Content-Length or chunked encoding, handed on in slices without copying.
 */
final class HttpParser {
  interface Sink {
    void headers(int status, String headerBlock);

    void body(ByteBuf buf, int from, int to);

    void end();
  }

  private static final byte[] CRLFCRLF = Bytes.ascii("\r\n\r\n");
  private static final byte[] CRLF = Bytes.ascii("\r\n");

  private enum State {
    HEADERS,
    FIXED,
    CHUNK_SIZE,
    CHUNK_DATA,
    CHUNK_CRLF,
    TRAILER
  }

  private State state = State.HEADERS;
  private long remaining;

  /** True while between responses (nothing partial buffered in the parser's state). */
  boolean idle() {
    return state == State.HEADERS;
  }

  /** Consumes what it can of {@code in}; returns when it needs more bytes. */
  void feed(ByteBuf in, Sink sink) {
    while (in.isReadable()) {
      int ri = in.readerIndex();
      int wi = in.writerIndex();
      switch (state) {
        case HEADERS -> {
          int end = Bytes.indexOf(in, ri, wi, CRLFCRLF);
          if (end < 0) {
            return;
          }
          String block = in.toString(ri, end - ri, StandardCharsets.ISO_8859_1);
          in.readerIndex(end + 4);
          int status = Integer.parseInt(block.substring(9, 12));
          sink.headers(status, block);
          String lower = block.toLowerCase(Locale.ROOT);
          if (status == 101) {
            return; // the caller switches protocols; the rest of the buffer is not HTTP
          }
          if (lower.contains("transfer-encoding: chunked")) {
            state = State.CHUNK_SIZE;
          } else {
            long length = header(lower, "content-length");
            if (status == 204 || status == 304 || length <= 0) {
              sink.end();
            } else {
              remaining = length;
              state = State.FIXED;
            }
          }
        }
        case FIXED, CHUNK_DATA -> {
          int n = (int) Math.min(remaining, wi - ri);
          sink.body(in, ri, ri + n);
          in.readerIndex(ri + n);
          remaining -= n;
          if (remaining == 0) {
            if (state == State.FIXED) {
              state = State.HEADERS;
              sink.end();
            } else {
              state = State.CHUNK_CRLF;
            }
          }
        }
        case CHUNK_CRLF -> {
          if (wi - ri < 2) {
            return;
          }
          in.skipBytes(2);
          state = State.CHUNK_SIZE;
        }
        case CHUNK_SIZE -> {
          int end = Bytes.indexOf(in, ri, wi, CRLF);
          if (end < 0) {
            return;
          }
          long size = 0;
          for (int i = ri; i < end; i++) {
            int d = Character.digit(in.getByte(i), 16);
            if (d < 0) {
              break;
            }
            size = size * 16 + d;
          }
          in.readerIndex(end + 2);
          if (size == 0) {
            state = State.TRAILER;
          } else {
            remaining = size;
            state = State.CHUNK_DATA;
          }
        }
        case TRAILER -> {
          int end = Bytes.indexOf(in, ri, wi, CRLF);
          if (end < 0) {
            return;
          }
          in.readerIndex(end + 2);
          if (end == ri) {
            state = State.HEADERS;
            sink.end();
          }
        }
      }
    }
  }

  /** Value of a numeric header in a lower-cased header block, or -1. */
  static long header(String lowerBlock, String name) {
    int i = lowerBlock.indexOf("\r\n" + name + ":");
    if (i < 0) {
      return -1;
    }
    int start = i + name.length() + 3;
    int end = lowerBlock.indexOf("\r\n", start);
    String v = (end < 0 ? lowerBlock.substring(start) : lowerBlock.substring(start, end)).trim();
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
