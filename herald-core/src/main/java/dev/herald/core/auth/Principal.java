package dev.herald.core.auth;

import dev.herald.protocol.RawJson;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Who is behind a connection.
 *
 * @param userId stable user id; several connections (tabs) may share it
 * @param info public JSON object shown to others in presence, e.g. {@code {"name":"Alice"}}
 * @param expiresAtMillis when the credential expires (the connection is then closed with 4005), or
 *     0 for never
 * @param credential an opaque id of the credential the connection was opened with (for example a
 *     hash of the login session), or null. {@link dev.herald.core.hub.Hub#disconnect} can end every
 *     connection opened with one credential, e.g. at logout
 */
public record Principal(
    String userId, RawJson info, long expiresAtMillis, @Nullable String credential) {
  public Principal(String userId, RawJson info, long expiresAtMillis) {
    this(userId, info, expiresAtMillis, null);
  }

  public Principal {
    Objects.requireNonNull(userId, "userId");
    if (userId.isEmpty()) {
      throw new IllegalArgumentException("userId must not be empty");
    }
    info = info == null ? RawJson.EMPTY_OBJECT : info;
  }

  public static Principal of(String userId) {
    return new Principal(userId, RawJson.EMPTY_OBJECT, 0);
  }
}
