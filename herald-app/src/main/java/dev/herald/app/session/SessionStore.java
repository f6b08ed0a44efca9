package dev.herald.app.session;

import dev.herald.app.db.Database;
import dev.herald.app.users.User;
import dev.herald.app.users.UserRepository;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Server-side sessions. The cookie holds a random 256-bit token; the database holds only its
 * SHA-256, so a leaked database does not leak live sessions. Each session has its own CSRF token
 * and a fixed lifetime; logout deletes the row.
 */
public final class SessionStore {
  public static final String COOKIE = "herald_session";

  private final Database db;
  private final Clock clock;
  private final Duration ttl;
  private final SecureRandom random = new SecureRandom();

  public SessionStore(Database db, Clock clock, Duration ttl) {
    this.db = db;
    this.clock = clock;
    this.ttl = ttl;
  }

  /** A session: the raw cookie token (only known at creation), its CSRF token and user. */
  public record Session(String token, String csrfToken, User user, OffsetDateTime expiresAt) {}

  public Session create(User user) {
    String token = randomToken();
    String csrf = randomToken();
    OffsetDateTime now = OffsetDateTime.now(clock);
    OffsetDateTime expires = now.plus(ttl);
    db.write(
        h ->
            h.createUpdate(
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (:t, :u, :c, :now, :exp)")
                .bind("t", hash(token))
                .bind("u", user.id())
                .bind("c", csrf)
                .bind("now", now)
                .bind("exp", expires)
                .execute());
    return new Session(token, csrf, user, expires);
  }

  /** The live session for a cookie token, if any. */
  public Optional<Session> find(@Nullable String token) {
    if (token == null || token.isEmpty() || token.length() > 100) {
      return Optional.empty();
    }
    OffsetDateTime now = OffsetDateTime.now(clock);
    return db.read(
        h ->
            h.createQuery(
                    "SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = :t AND expires_at > :now")
                .bind("t", hash(token))
                .bind("now", now)
                .map(
                    (rs, ctx) ->
                        new Object[] {
                          rs.getString(1), rs.getString(2), rs.getObject(3, OffsetDateTime.class)
                        })
                .findOne()
                .flatMap(
                    row ->
                        UserRepository.find(h, (String) row[0])
                            .map(
                                u ->
                                    new Session(
                                        token, (String) row[1], u, (OffsetDateTime) row[2]))));
  }

  public void delete(String token) {
    if (token != null) {
      db.write(
          h ->
              h.createUpdate("DELETE FROM sessions WHERE token_hash = :t")
                  .bind("t", hash(token))
                  .execute());
    }
  }

  /** Removes expired sessions; returns how many. */
  public int purgeExpired() {
    return db.write(
        h ->
            h.createUpdate("DELETE FROM sessions WHERE expires_at <= :now")
                .bind("now", OffsetDateTime.now(clock))
                .execute());
  }

  public Duration ttl() {
    return ttl;
  }

  private String randomToken() {
    byte[] b = new byte[32];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /**
   * The id under which real-time connections opened with this session's cookie are known (the
   * principal's credential), so logout can end exactly those connections.
   */
  public static String credentialId(String token) {
    return hash(token);
  }

  static String hash(String token) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
