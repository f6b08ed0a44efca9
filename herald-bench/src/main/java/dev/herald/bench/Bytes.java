package dev.herald.bench;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** Allocation-free scanning of received bytes: the load generator never parses JSON per message. */
final class Bytes {
  static final byte[] SEQ = ascii("\"bseq\":");
  static final byte[] TS = ascii("\"bts\":");

  private Bytes() {}

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** Index of {@code key} in {@code buf[from, to)}, or -1. */
  static int indexOf(ByteBuf buf, int from, int to, byte[] key) {
    int last = to - key.length;
    outer:
    for (int i = from; i <= last; i++) {
      for (int k = 0; k < key.length; k++) {
        if (buf.getByte(i + k) != key[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /**
   * Index of the last {@code key} in {@code buf[from, to)}, or -1. The benchmark's fields sit at
   * the end of every message (the data comes last), so searching backwards finds them after a few
   * bytes whatever the length of the envelope before them.
   */
  static int lastIndexOf(ByteBuf buf, int from, int to, byte[] key) {
    outer:
    for (int i = to - key.length; i >= from; i--) {
      for (int k = 0; k < key.length; k++) {
        if (buf.getByte(i + k) != key[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** The non-negative integer right after the last {@code key} in {@code buf[from, to)}, or -1. */
  static long number(ByteBuf buf, int from, int to, byte[] key) {
    int i = lastIndexOf(buf, from, to, key);
    if (i < 0) {
      return -1;
    }
    i += key.length;
    long v = 0;
    boolean any = false;
    for (; i < to; i++) {
      byte c = buf.getByte(i);
      if (c < '0' || c > '9') {
        break;
      }
      v = v * 10 + (c - '0');
      any = true;
    }
    return any ? v : -1;
  }

  static boolean startsWith(ByteBuf buf, int from, int to, byte[] prefix) {
    if (to - from < prefix.length) {
      return false;
    }
    for (int k = 0; k < prefix.length; k++) {
      if (buf.getByte(from + k) != prefix[k]) {
        return false;
      }
    }
    return true;
  }

  static boolean contains(ByteBuf buf, int from, int to, byte[] key) {
    return indexOf(buf, from, to, key) >= 0;
  }
}
