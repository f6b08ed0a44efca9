package dev.herald.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * API keys for back-end publishers, compared in constant time. Several keys may be configured so
 * that a key can be rotated without downtime.
 */
public final class ApiKeys {
  private final List<byte[]> keys;

  public ApiKeys(List<String> keys) {
    this.keys = keys.stream().map(k -> sha256(k)).toList();
  }

  public boolean isEmpty() {
    return keys.isEmpty();
  }

  /** Checks an {@code Authorization} header value of the form {@code Bearer <key>}. */
  public boolean allows(String authorizationHeader) {
    if (authorizationHeader == null
        || !authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] presented = sha256(authorizationHeader.substring(7).trim());
    boolean ok = false;
    for (byte[] k : keys) {
      ok |= MessageDigest.isEqual(k, presented);
    }
    return ok;
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
