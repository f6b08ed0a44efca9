package dev.herald.core.broker;

import java.security.SecureRandom;

/**
 * Random epoch names: 10 characters of base62, so a reset stream is never taken for the old one.
 */
public final class Epochs {
  private static final char[] ALPHABET =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  private Epochs() {}

  public static String next() {
    char[] out = new char[10];
    for (int i = 0; i < out.length; i++) {
      out[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
    }
    return new String(out);
  }
}
