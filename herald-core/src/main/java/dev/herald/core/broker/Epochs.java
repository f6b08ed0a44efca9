package dev.herald.core.broker;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Random epoch names: 10 characters of base62 (59 bits), so a reset stream is never taken for the
 * old one. Epochs must be unique, not secret: they come from the fast per-thread generator (seeded
 * unpredictably at startup), not a cryptographic one, since a node may create one per channel.
 */
public final class Epochs {
  private static final char[] ALPHABET =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

  private Epochs() {}

  public static String next() {
    return random(10);
  }

  /** {@code length} characters of base62 from the per-thread generator (up to 10 per long). */
  public static String random(int length) {
    char[] out = new char[length];
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long bits = 0;
    for (int i = 0; i < length; i++) {
      if (i % 10 == 0) {
        bits = r.nextLong() & Long.MAX_VALUE;
      }
      out[i] = ALPHABET[(int) (bits % ALPHABET.length)];
      bits /= ALPHABET.length;
    }
    return new String(out);
  }
}
