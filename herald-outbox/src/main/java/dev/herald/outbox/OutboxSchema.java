package dev.herald.outbox;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The outbox's tables: {@code herald_outbox}, {@code herald_outbox_channel}, {@code
 * herald_outbox_floor}, {@code herald_outbox_lease}. The DDL is the resource {@value #RESOURCE}
 * (plain SQL that runs unchanged on PostgreSQL and H2): copy it into your migrations, or call
 * {@link #create} at startup.
 */
public final class OutboxSchema {
  public static final String RESOURCE = "/dev/herald/outbox/schema.sql";

  private OutboxSchema() {}

  /** The DDL statements, in order. Each is {@code CREATE ... IF NOT EXISTS}. */
  public static List<String> statements() {
    String text;
    try (InputStream in = OutboxSchema.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " missing from the classpath");
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    StringBuilder clean = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      int comment = line.indexOf("--");
      clean.append(comment >= 0 ? line.substring(0, comment) : line).append('\n');
    }
    List<String> out = new ArrayList<>();
    for (String s : clean.toString().split(";", -1)) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }

  /** Creates the tables that do not exist yet, in one transaction. */
  public static void create(Connection connection) {
    try {
      boolean auto = connection.getAutoCommit();
      connection.setAutoCommit(false);
      try (Statement s = connection.createStatement()) {
        for (String sql : statements()) {
          s.execute(sql);
        }
        connection.commit();
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      } finally {
        connection.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw new OutboxException("creating the outbox tables failed", e);
    }
  }
}
