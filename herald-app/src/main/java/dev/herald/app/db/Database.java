package dev.herald.app.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.function.Function;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The app's database: a HikariCP pool, Flyway migrations and Jdbi. H2 (file) by default, PostgreSQL
 * by setting a {@code jdbc:postgresql:} URL.
 *
 * <p>Writes go through {@link #write}: each write transaction first locks the single {@code
 * write_lock} row, so writes are serialised and checks made inside a write (unique names, status
 * transitions) see no concurrent write. An editorial workload writes tens of changes per second;
 * one lock sustains thousands. (Event sequence numbers do not depend on it: herald-outbox keeps
 * them in commit order per channel by itself, and its relay takes no lock while publishing.)
 */
public final class Database implements AutoCloseable {
  private final HikariDataSource pool;
  private final Jdbi jdbi;
  private final boolean postgres;
  private final String url;

  public Database(String url, String user, String password, int maxPoolSize) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(url);
    c.setUsername(user);
    c.setPassword(password);
    c.setMaximumPoolSize(maxPoolSize);
    c.setPoolName("herald-app");
    this.pool = new HikariDataSource(c);
    this.jdbi = Jdbi.create(pool);
    this.postgres = url.startsWith("jdbc:postgresql:");
    this.url = url;
  }

  /** Applies pending migrations; returns how many ran. */
  public int migrate() {
    return migrateWithResult().migrationsExecuted;
  }

  /** Applies pending migrations; returns Flyway's account of what ran. */
  public org.flywaydb.core.api.output.MigrateResult migrateWithResult() {
    return Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
  }

  /** The JDBC URL (may hold a password: mask before logging). */
  public String url() {
    return url;
  }

  /** Reads in a transaction (no write lock). */
  public <T> T read(Function<Handle, T> work) {
    return jdbi.inTransaction(h -> work.apply(h));
  }

  /** Writes in a transaction holding the write lock; commits when {@code work} returns. */
  public <T> T write(Function<Handle, T> work) {
    return jdbi.inTransaction(
        h -> {
          h.createQuery("SELECT id FROM write_lock WHERE id = 1 FOR UPDATE")
              .mapTo(Integer.class)
              .one();
          return work.apply(h);
        });
  }

  /**
   * Whether a connection can be had and answers within two seconds. Blocks: call off the event
   * loop.
   */
  public boolean ping() {
    try (java.sql.Connection c = pool.getConnection()) {
      return c.isValid(2);
    } catch (java.sql.SQLException | RuntimeException e) {
      return false;
    }
  }

  public boolean isPostgres() {
    return postgres;
  }

  /** The connection pool, for herald-outbox's relay. */
  public javax.sql.DataSource dataSource() {
    return pool;
  }

  public Jdbi jdbi() {
    return jdbi;
  }

  @Override
  public void close() {
    pool.close();
  }
}
