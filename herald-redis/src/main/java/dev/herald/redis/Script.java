package dev.herald.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A Lua script and its SHA-1, the name Redis caches it under. Calls go by that name ({@code
 * EVALSHA}: a few dozen bytes instead of the whole text, and Redis neither reads nor hashes the
 * text again); {@link RedisConnector} loads every script on each command connection before using
 * it, and falls back to {@code EVAL} once if Redis answers {@code NOSCRIPT}.
 */
final class Script {
  private final String text;
  private final String sha;

  private Script(String text) {
    this.text = text;
    this.sha = sha1(text);
  }

  static Script of(String text) {
    return new Script(text);
  }

  String text() {
    return text;
  }

  /** Lower-case hex SHA-1 of the text, as {@code SCRIPT LOAD} answers it. */
  String sha() {
    return sha;
  }

  private static String sha1(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform has SHA-1 (MessageDigest's required algorithms).
      throw new IllegalStateException(e);
    }
  }

  /**
   * Redis answered {@code NOSCRIPT}: it does not know the script by its SHA-1 (its script cache was
   * flushed). {@link Connector#eval} then makes the call once more with the text.
   */
  static final class NotLoaded extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotLoaded() {
      super("NOSCRIPT", null, false, false);
    }

    /** Whether a failed command's cause is Redis's NOSCRIPT answer. */
    static boolean answered(Throwable cause) {
      String m = cause.getMessage();
      return m != null && m.startsWith("NOSCRIPT");
    }
  }

  @Override
  public String toString() {
    return "script " + sha;
  }
}
