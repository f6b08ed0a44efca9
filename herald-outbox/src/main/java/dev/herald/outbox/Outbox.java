package dev.herald.outbox;

import dev.herald.outbox.internal.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The writing and reading side of the transactional outbox: {@link #record} an event inside the
 * transaction that makes the change, and answer "changes since N" ({@link #changesSince}) and
 * "where is the channel now" ({@link #head}) for clients that resync. Publishing is the {@link
 * Relay}'s job.
 *
 * <p>Plain JDBC: every method takes the caller's {@link Connection}, so it works with a {@code
 * DataSource} ({@code connection.setAutoCommit(false)} ... {@code commit()}), Jdbi ({@code
 * handle.getConnection()} inside {@code inTransaction}), or Spring ({@code
 * DataSourceUtils.getConnection(dataSource)} inside a {@code @Transactional} method). Tables: see
 * {@link OutboxSchema}. Thread-safe; one instance per application is enough.
 *
 * <p><b>Ordering.</b> Each channel has its own sequence: 1, 2, 3, ... {@link #record} increments
 * the channel's counter row, which the transaction then holds locked until it commits or rolls
 * back. Transactions recording on the same channel therefore take turns (those on other channels do
 * not wait), and a channel's sequence numbers become visible in order and without gaps: a
 * rolled-back transaction gives its number back.
 */
public final class Outbox {
  /** Longest channel name, type and id (the columns' sizes). */
  public static final int MAX_CHANNEL = 200;

  public static final int MAX_TYPE = 64;
  public static final int MAX_ID = 200;

  /** Default and upper bound of {@link Builder#maxDataChars}: the column's size. */
  public static final int MAX_DATA_CHARS = 1_000_000;

  private final Clock clock;
  private final int maxDataChars;

  private Outbox(Builder b) {
    this.clock = b.clock;
    this.maxDataChars = b.maxDataChars;
  }

  public static Outbox create() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Records an event on {@code channel} as part of the connection's current transaction and returns
   * its sequence number. It is published after the transaction commits, and never if it rolls back.
   *
   * @throws IllegalArgumentException for a bad channel, type, id or data (data must be one JSON
   *     value of at most {@link Builder#maxDataChars} characters); nothing is written
   * @throws IllegalStateException when the connection is in auto-commit mode: the event would not
   *     be part of the change's transaction
   * @throws OutboxException when the database fails
   */
  public long record(Connection connection, String channel, Event event) {
    check(channel, event);
    try {
      if (connection.getAutoCommit()) {
        throw new IllegalStateException(
            "Outbox.record needs the change's transaction: the connection is in auto-commit mode");
      }
      long seq = nextSeq(connection, channel);
      try (PreparedStatement s =
          connection.prepareStatement(
              "INSERT INTO herald_outbox (channel, seq, type, entity_id, action, version, data,"
                  + " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        s.setString(1, channel);
        s.setLong(2, seq);
        s.setString(3, event.type());
        s.setString(4, event.id());
        s.setString(5, event.action() == null ? null : event.action().wire());
        s.setLong(6, event.version());
        s.setString(7, event.data());
        s.setObject(8, OffsetDateTime.now(clock));
        s.executeUpdate();
      }
      return seq;
    } catch (SQLException e) {
      throw new OutboxException("recording an event on " + channel + " failed", e);
    }
  }

  /** Shorthand for {@code record(connection, channel, Event.of(type, data))}. */
  public long record(Connection connection, String channel, String type, String data) {
    return record(connection, channel, Event.of(type, data));
  }

  private void check(String channel, Event event) {
    Objects.requireNonNull(event, "event");
    if (channel == null || channel.isEmpty() || channel.length() > MAX_CHANNEL) {
      throw new IllegalArgumentException(
          "channel: required, at most " + MAX_CHANNEL + " characters");
    }
    if (event.type().isEmpty() || event.type().length() > MAX_TYPE) {
      throw new IllegalArgumentException("type: required, at most " + MAX_TYPE + " characters");
    }
    if (event.id() != null && (event.id().isEmpty() || event.id().length() > MAX_ID)) {
      throw new IllegalArgumentException("id: 1 to " + MAX_ID + " characters, or none");
    }
    if (event.data().length() > maxDataChars) {
      throw new IllegalArgumentException(
          "data: " + event.data().length() + " characters, at most " + maxDataChars);
    }
    Json.requireValid(event.data());
  }

  /** Takes the channel's next sequence number; the counter row stays locked until commit. */
  private static long nextSeq(Connection c, String channel) throws SQLException {
    while (true) {
      try (PreparedStatement up =
          c.prepareStatement(
              "UPDATE herald_outbox_channel SET head = head + 1 WHERE channel = ?")) {
        up.setString(1, channel);
        if (up.executeUpdate() == 1) {
          return readLong(c, "SELECT head FROM herald_outbox_channel WHERE channel = ?", channel);
        }
      }
      // First event on the channel. Another transaction may insert the row at the same time: the
      // loser's insert fails on the key, is undone to the savepoint (the transaction goes on), and
      // the update above then waits for the winner's commit.
      Savepoint sp = c.setSavepoint();
      try (PreparedStatement in =
          c.prepareStatement("INSERT INTO herald_outbox_channel (channel, head) VALUES (?, 1)")) {
        in.setString(1, channel);
        in.executeUpdate();
        c.releaseSavepoint(sp);
        return 1;
      } catch (SQLException e) {
        if (!isUniqueViolation(e)) {
          throw e;
        }
        c.rollback(sp);
      }
    }
  }

  static boolean isUniqueViolation(SQLException e) {
    // SQLSTATE 23505 (PostgreSQL, H2); class 23 covers the integrity-constraint family elsewhere.
    return e.getSQLState() != null && e.getSQLState().startsWith("23");
  }

  /**
   * The channel's newest sequence number, 0 before its first event. For a snapshot that clients
   * resync from, read this <b>first</b>, then the state, both on the same connection: the state is
   * then at least as new as the number (it may already contain later events, which clients drop or
   * apply again harmlessly, see docs/live-data.md).
   */
  public long head(Connection connection, String channel) {
    try {
      return readLong(
          connection, "SELECT head FROM herald_outbox_channel WHERE channel = ?", channel);
    } catch (SQLException e) {
      throw new OutboxException("reading the head of " + channel + " failed", e);
    }
  }

  /**
   * The events on {@code channel} after sequence number {@code since}, compacted, at most {@code
   * limit} read (see {@link ChangePage}). Includes committed events the relay has not published
   * yet.
   */
  public ChangePage changesSince(Connection connection, String channel, long since, int limit) {
    if (since < 0) {
      throw new IllegalArgumentException("since must be >= 0: " + since);
    }
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1: " + limit);
    }
    try {
      // Head first, then the events, then the floor: retention removes events and raises the
      // floor in one transaction, so if the read below missed removed events, the floor read
      // after it shows it.
      long head = head(connection, channel);
      if (since > head) {
        return ChangePage.snapshot(head);
      }
      List<Row> rows = new ArrayList<>();
      try (PreparedStatement s =
          connection.prepareStatement(
              "SELECT seq, type, entity_id, action, version, data FROM herald_outbox"
                  + " WHERE channel = ? AND seq > ? ORDER BY seq")) {
        s.setString(1, channel);
        s.setLong(2, since);
        s.setMaxRows(limit + 1);
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            rows.add(
                new Row(
                    rs.getLong(1),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getString(4),
                    rs.getLong(5),
                    rs.getString(6)));
          }
        }
      }
      long floor =
          readLong(connection, "SELECT seq FROM herald_outbox_floor WHERE channel = ?", channel);
      if (since < floor) {
        return ChangePage.snapshot(head);
      }
      boolean more = rows.size() > limit;
      if (more) {
        rows = rows.subList(0, limit);
      }
      // Compaction: only the newest event per entity, each at its own place in seq order.
      Map<String, Long> newest = new HashMap<>();
      for (Row r : rows) {
        if (r.id != null) {
          newest.put(r.type + '\u0000' + r.id, r.seq);
        }
      }
      List<String> changes = new ArrayList<>();
      long last = since;
      for (Row r : rows) {
        last = r.seq;
        if (r.id == null || Objects.equals(newest.get(r.type + '\u0000' + r.id), r.seq)) {
          changes.add(Json.envelope(r.seq, r.type, r.id, r.action, r.version, r.data));
        }
      }
      return new ChangePage(more ? last : Math.max(head, last), more, false, changes);
    } catch (SQLException e) {
      throw new OutboxException("reading changes of " + channel + " failed", e);
    }
  }

  private record Row(long seq, String type, String id, String action, long version, String data) {}

  private static long readLong(Connection c, String sql, String channel) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, channel);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }

  /** Options of an {@link Outbox}. */
  public static final class Builder {
    private Clock clock = Clock.systemUTC();
    private int maxDataChars = MAX_DATA_CHARS;

    private Builder() {}

    /** The clock that stamps events when recorded (the relay's lag is measured from it). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Largest event data accepted, in characters (default and at most {@value #MAX_DATA_CHARS}).
     * Keep it within what the hub accepts for a publication.
     */
    public Builder maxDataChars(int max) {
      if (max < 1 || max > MAX_DATA_CHARS) {
        throw new IllegalArgumentException("maxDataChars must be 1.." + MAX_DATA_CHARS);
      }
      this.maxDataChars = max;
      return this;
    }

    public Outbox build() {
      return new Outbox(this);
    }
  }
}
