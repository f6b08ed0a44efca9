package dev.herald.outbox.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.jspecify.annotations.Nullable;

/**
 * Leader election among relays through one row of {@code herald_outbox_lease}, without trusting
 * clocks across machines: the leader bumps the row's {@code version} to renew; a contender takes
 * over only after it has seen the same version, by its own clock, for a whole lease ({@code ttl}),
 * by a compare-and-set on that version. The leader counts itself leader only for {@code ttl / 2}
 * after the start of its last renewal, so it stops publishing well before anyone may take over
 * (clocks may differ in time, not in rate). Statements run in auto-commit mode: no lock outlives
 * one statement.
 *
 * <p>Not thread-safe: the relay calls it from its worker only.
 */
public final class Lease {
  private final String name;
  private final String owner;
  private final long ttl;

  private long version = -1; // the version we wrote last as leader; -1 when not leader
  private long validUntil;
  private long renewAt;
  private @Nullable String seenOwner;
  private long seenVersion = -1;
  private long seenSince;

  public Lease(String name, String owner, long ttlMillis) {
    this.name = name;
    this.owner = owner;
    this.ttl = ttlMillis;
  }

  /** Whether this relay may publish at {@code now}. */
  public boolean valid(long now) {
    return version >= 0 && now < validUntil;
  }

  /** Whether {@link #ensure} would touch the database at {@code now}. */
  public boolean due(long now) {
    return !valid(now) || now >= renewAt;
  }

  /**
   * Renews the lease, or takes it when it is free or abandoned. Returns whether this relay is the
   * leader. {@code now} is read before the first statement.
   */
  public boolean ensure(Connection c, long now) throws SQLException {
    if (valid(now) && now < renewAt) {
      return true;
    }
    String currentOwner;
    long currentVersion;
    try (PreparedStatement s =
        c.prepareStatement("SELECT owner, version FROM herald_outbox_lease WHERE name = ?")) {
      s.setString(1, name);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return insert(c, now);
        }
        currentOwner = rs.getString(1);
        currentVersion = rs.getLong(2);
      }
    }
    if (owner.equals(currentOwner)) {
      // Ours: renew (also after drop(): this relay has nothing in flight once it has dropped).
      return cas(c, currentVersion, now);
    }
    version = -1; // someone else holds it (or took it from us)
    if (currentOwner == null) {
      return cas(c, currentVersion, now);
    }
    if (!currentOwner.equals(seenOwner) || currentVersion != seenVersion) {
      seenOwner = currentOwner;
      seenVersion = currentVersion;
      seenSince = now;
      return false;
    }
    return now - seenSince >= ttl && cas(c, currentVersion, now);
  }

  private boolean insert(Connection c, long now) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "INSERT INTO herald_outbox_lease (name, owner, version) VALUES (?, ?, 1)")) {
      s.setString(1, name);
      s.setString(2, owner);
      s.executeUpdate();
    } catch (SQLException e) {
      if (e.getSQLState() != null && e.getSQLState().startsWith("23")) {
        return false; // another relay inserted it first
      }
      throw e;
    }
    lead(1, now);
    return true;
  }

  private boolean cas(Connection c, long expected, long now) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "UPDATE herald_outbox_lease SET owner = ?, version = ? WHERE name = ? AND version = ?")) {
      s.setString(1, owner);
      s.setLong(2, expected + 1);
      s.setString(3, name);
      s.setLong(4, expected);
      if (s.executeUpdate() != 1) {
        version = -1;
        return false;
      }
    }
    lead(expected + 1, now);
    return true;
  }

  private void lead(long v, long now) {
    version = v;
    validUntil = now + ttl / 2;
    renewAt = now + ttl / 4;
  }

  /** Gives the lease up (clean shutdown), so another relay takes over at once. */
  public void release(Connection c) throws SQLException {
    if (version < 0) {
      return;
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "UPDATE herald_outbox_lease SET owner = NULL, version = version + 1"
                + " WHERE name = ? AND owner = ? AND version = ?")) {
      s.setString(1, name);
      s.setString(2, owner);
      s.setLong(3, version);
      s.executeUpdate();
    }
    version = -1;
  }

  /** Forgets leadership without touching the database (after a database error). */
  public void drop() {
    version = -1;
  }

  public boolean leader() {
    return version >= 0;
  }
}
