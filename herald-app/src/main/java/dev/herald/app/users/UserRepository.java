package dev.herald.app.users;

import dev.herald.app.db.Database;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jspecify.annotations.Nullable;

/** Users: creation, lookup, login check and the mention autocomplete search. */
public final class UserRepository {
  /** Login names double as channel segments ({@code user:alice:notifications}). */
  public static final Pattern ID = Pattern.compile("[a-z][a-z0-9_.-]{1,31}");

  private final Database db;
  private final PasswordHasher hasher;
  private final Clock clock;

  public UserRepository(Database db, PasswordHasher hasher, Clock clock) {
    this.db = db;
    this.hasher = hasher;
    this.clock = clock;
  }

  public User create(String id, String displayName, Role role, String password) {
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException("user id must match " + ID.pattern());
    }
    String hash = hasher.hash(password);
    db.write(
        h ->
            h.createUpdate(
                    "INSERT INTO users (id, display_name, role, password_hash, created_at) VALUES (:id, :name, :role, :hash, :now)")
                .bind("id", id)
                .bind("name", displayName)
                .bind("role", role.wire())
                .bind("hash", hash)
                .bind("now", OffsetDateTime.now(clock))
                .execute());
    return new User(id, displayName, role);
  }

  public boolean exists(String id) {
    return find(id).isPresent();
  }

  public Optional<User> find(String id) {
    return db.read(h -> find(h, id));
  }

  public static Optional<User> find(Handle h, String id) {
    return h.createQuery("SELECT id, display_name, role FROM users WHERE id = :id")
        .bind("id", id)
        .map(
            (rs, ctx) ->
                new User(
                    rs.getString("id"),
                    rs.getString("display_name"),
                    Role.of(rs.getString("role"))))
        .findOne();
  }

  /** Checks a password; a constant amount of hashing work whether or not the user exists. */
  public Optional<User> authenticate(@Nullable String id, @Nullable String password) {
    Optional<String> hash =
        db.read(
            h ->
                h.createQuery("SELECT password_hash FROM users WHERE id = :id")
                    .bind("id", id == null ? "" : id)
                    .mapTo(String.class)
                    .findOne());
    if (id == null || hash.isEmpty()) {
      hasher.matches(password == null ? "" : password, DUMMY_HASH);
      return Optional.empty();
    }
    return hasher.matches(password, hash.get()) ? find(id) : Optional.empty();
  }

  public List<User> all() {
    return db.read(
        h ->
            h.createQuery("SELECT id, display_name, role FROM users ORDER BY id")
                .map(
                    (rs, ctx) ->
                        new User(
                            rs.getString("id"),
                            rs.getString("display_name"),
                            Role.of(rs.getString("role"))))
                .list());
  }

  /** A fixed hash to spend the same time on unknown users as on known ones. */
  private static final String DUMMY_HASH =
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0l3Lr6pRkU0Ws3X2yA4j3E0r0Gdq8mB9tJ8cQH8Y0n4";
}
