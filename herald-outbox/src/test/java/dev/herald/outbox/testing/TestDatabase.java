package dev.herald.outbox.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.herald.outbox.OutboxSchema;
import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fresh database with the outbox tables: an H2 file database in a temporary directory (in
 * AUTO_SERVER mode, so a child process may use it too), or a new database on the throwaway {@link
 * PostgresServer}. Tests run the same scenarios on both.
 */
public final class TestDatabase implements AutoCloseable {
  /** Which database. */
  public enum Kind {
    H2,
    POSTGRES
  }

  private static final AtomicInteger COUNT = new AtomicInteger();

  private final Kind kind;
  private final String url;
  private final String user;
  private final HikariDataSource pool;

  private TestDatabase(Kind kind, String url, String user) {
    this.kind = kind;
    this.url = url;
    this.user = user;
    this.pool = pool(url, user, 8);
    try (Connection c = pool.getConnection()) {
      OutboxSchema.create(c);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  public static TestDatabase create(Kind kind) {
    if (kind == Kind.POSTGRES) {
      return new TestDatabase(kind, PostgresServer.get().newDatabase("outbox"), "postgres");
    }
    try {
      String dir = Files.createTempDirectory("herald-outbox-h2").toString();
      return new TestDatabase(
          kind,
          "jdbc:h2:file:"
              + dir
              + "/db"
              + COUNT.incrementAndGet()
              + ";WRITE_DELAY=0;AUTO_SERVER=TRUE",
          "sa");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static HikariDataSource pool(String url, String user, int size) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(url);
    c.setUsername(user);
    c.setPassword("");
    c.setMaximumPoolSize(size);
    return new HikariDataSource(c);
  }

  public Kind kind() {
    return kind;
  }

  public String url() {
    return url;
  }

  public String user() {
    return user;
  }

  public HikariDataSource dataSource() {
    return pool;
  }

  /** Runs {@code sql} in auto-commit mode. */
  public void execute(String sql) {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A single number from {@code sql}. */
  public long queryLong(String sql) {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Closes the pool (H2 releases its file). */
  @Override
  public void close() {
    pool.close();
  }
}
