package dev.herald.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.outbox.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Recording and "changes since", on H2 and on PostgreSQL. */
@ParameterizedClass(name = "on {0}")
@EnumSource(TestDatabase.Kind.class)
class OutboxIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameter TestDatabase.Kind kind;

  TestDatabase db;
  final Outbox outbox = Outbox.create();

  @BeforeEach
  void open() {
    db = TestDatabase.create(kind);
  }

  @AfterEach
  void close() {
    db.close();
  }

  /** Records in one transaction through a plain DataSource connection; commits or rolls back. */
  List<Long> tx(boolean commit, String channel, Event... events) throws SQLException {
    List<Long> seqs = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      for (Event e : events) {
        seqs.add(outbox.record(c, channel, e));
      }
      if (commit) {
        c.commit();
      } else {
        c.rollback();
      }
    }
    return seqs;
  }

  ChangePage since(String channel, long since, int limit) throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      return outbox.changesSince(c, channel, since, limit);
    }
  }

  static List<JsonNode> events(ChangePage p) {
    return p.changes().stream()
        .map(
            s -> {
              try {
                return JSON.readTree(s);
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            })
        .toList();
  }

  @Test
  void eachChannelCountsItsOwnSequenceAndARollbackGivesItsNumbersBack() throws SQLException {
    assertThat(tx(true, "a", Event.of("x", "1"), Event.of("x", "2"))).containsExactly(1L, 2L);
    assertThat(tx(true, "b", Event.of("x", "1"))).containsExactly(1L);
    assertThat(tx(false, "a", Event.of("x", "3"))).containsExactly(3L);
    assertThat(tx(true, "a", Event.of("x", "3"))).containsExactly(3L);
    try (Connection c = db.dataSource().getConnection()) {
      assertThat(outbox.head(c, "a")).isEqualTo(3);
      assertThat(outbox.head(c, "b")).isEqualTo(1);
      assertThat(outbox.head(c, "none")).isZero();
    }
    assertThat(db.queryLong("SELECT COUNT(*) FROM herald_outbox")).isEqualTo(4);
  }

  @Test
  void concurrentWritersOnOneChannelGetGapFreeNumbersInCommitOrder() throws Exception {
    int threads = 6;
    int each = 25;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < each; i++) {
                    tx(true, "hot", Event.of("x", "{}"));
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    ChangePage all = since("hot", 0, 10_000);
    assertThat(events(all).stream().map(e -> e.get("seq").asLong()))
        .containsExactlyElementsOf(
            java.util.stream.LongStream.rangeClosed(1, threads * each).boxed().toList());
  }

  @Test
  void recordRefusesAutoCommitAndBadInputWithoutWritingAnything() throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(true);
      assertThatThrownBy(() -> outbox.record(c, "a", Event.of("x", "{}")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("auto-commit");
      c.setAutoCommit(false);
      assertThatThrownBy(() -> outbox.record(c, "a", Event.of("x", "{\"broken\":")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not valid JSON");
      assertThatThrownBy(() -> outbox.record(c, "a", Event.of("x", "{} {}")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("more than one");
      assertThatThrownBy(() -> outbox.record(c, "", Event.of("x", "{}")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("channel");
      assertThatThrownBy(() -> outbox.record(c, "a", Event.of("t".repeat(65), "{}")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("type");
      Outbox small = Outbox.builder().maxDataChars(10).build();
      assertThatThrownBy(() -> small.record(c, "a", Event.of("x", "\"" + "y".repeat(20) + "\"")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("at most 10");
      c.commit();
    }
    assertThat(db.queryLong("SELECT COUNT(*) FROM herald_outbox")).isZero();
    assertThat(db.queryLong("SELECT COUNT(*) FROM herald_outbox_channel")).isZero();
  }

  @Test
  void worksInsideAJdbiTransactionAndRollsBackWithIt() {
    Jdbi jdbi = Jdbi.create(db.dataSource());
    long seq =
        jdbi.inTransaction(
            h -> outbox.record(h.getConnection(), "j", Event.created("item", "1", 1, "{}")));
    assertThat(seq).isEqualTo(1);
    assertThatThrownBy(
            () ->
                jdbi.useTransaction(
                    h -> {
                      outbox.record(h.getConnection(), "j", Event.updated("item", "1", 2, "{}"));
                      throw new IllegalStateException("the change failed");
                    }))
        .hasMessageContaining("the change failed");
    assertThat(db.queryLong("SELECT COUNT(*) FROM herald_outbox WHERE channel = 'j'")).isEqualTo(1);
    assertThat(db.queryLong("SELECT head FROM herald_outbox_channel WHERE channel = 'j'"))
        .isEqualTo(1);
  }

  @Test
  void changesSinceIsCompactedPerEntityInSequenceOrder() throws SQLException {
    tx(
        true,
        "p",
        Event.created("item", "1", 1, "{\"v\":1}"), // 1
        Event.created("item", "2", 1, "{\"v\":1}"), // 2
        Event.of("note", "\"hello\""), // 3
        Event.updated("item", "1", 2, "{\"v\":2}"), // 4
        Event.created("reply", "1", 1, "{}"), // 5: another type, same id
        Event.deleted("item", "2", 2, "{\"id\":2}")); // 6

    ChangePage all = since("p", 0, 100);
    assertThat(all.more()).isFalse();
    assertThat(all.snapshotRequired()).isFalse();
    assertThat(all.seq()).isEqualTo(6);
    List<JsonNode> e = events(all);
    assertThat(e.stream().map(x -> x.get("seq").asLong())).containsExactly(3L, 4L, 5L, 6L);
    assertThat(e.get(1).toString())
        .isEqualTo(
            "{\"seq\":4,\"type\":\"item\",\"id\":\"1\",\"action\":\"updated\",\"version\":2,"
                + "\"data\":{\"v\":2}}");
    assertThat(e.get(0).toString()).isEqualTo("{\"seq\":3,\"type\":\"note\",\"data\":\"hello\"}");
    assertThat(e.get(3).get("action").asText()).isEqualTo("deleted");

    ChangePage fromFour = since("p", 4, 100);
    assertThat(events(fromFour).stream().map(x -> x.get("seq").asLong())).containsExactly(5L, 6L);

    ChangePage upToDate = since("p", 6, 100);
    assertThat(upToDate.changes()).isEmpty();
    assertThat(upToDate.seq()).isEqualTo(6);
    assertThat(upToDate.toJson()).isEqualTo("{\"seq\":6,\"more\":false,\"changes\":[]}");
  }

  @Test
  void aLongHistoryComesInPagesThatEndWhereTheNextBegins() throws SQLException {
    for (int i = 1; i <= 7; i++) {
      tx(true, "p", Event.updated("item", String.valueOf(i % 2), i, "{}"));
    }
    ChangePage first = since("p", 0, 3);
    assertThat(first.more()).isTrue();
    assertThat(first.seq()).isEqualTo(3);
    // within the page: item 1 at 1 and 3 -> 3; item 0 at 2
    assertThat(events(first).stream().map(x -> x.get("seq").asLong())).containsExactly(2L, 3L);
    ChangePage second = since("p", first.seq(), 3);
    assertThat(second.seq()).isEqualTo(6);
    ChangePage last = since("p", second.seq(), 3);
    assertThat(last.more()).isFalse();
    assertThat(last.seq()).isEqualTo(7);
    assertThat(events(last).stream().map(x -> x.get("seq").asLong())).containsExactly(7L);
  }

  @Test
  void sinceAheadOfTheChannelAsksForASnapshot() throws SQLException {
    tx(true, "p", Event.of("x", "{}"));
    ChangePage ahead = since("p", 5, 100);
    assertThat(ahead.snapshotRequired()).isTrue();
    assertThat(ahead.seq()).isEqualTo(1);
    assertThat(ahead.toJson())
        .isEqualTo("{\"seq\":1,\"more\":false,\"snapshotRequired\":true,\"changes\":[]}");
    assertThat(since("never", 3, 100).snapshotRequired()).isTrue();
    assertThat(since("never", 0, 100).snapshotRequired()).isFalse();
  }

  @Test
  void sinceBelowTheFloorLeftByRetentionAsksForASnapshot() throws SQLException {
    tx(true, "p", Event.of("x", "1"), Event.of("x", "2"), Event.of("x", "3"));
    db.execute("INSERT INTO herald_outbox_floor (channel, seq) VALUES ('p', 2)");
    db.execute("DELETE FROM herald_outbox WHERE channel = 'p' AND seq <= 2");
    assertThat(since("p", 1, 100).snapshotRequired()).isTrue();
    ChangePage fromFloor = since("p", 2, 100);
    assertThat(fromFloor.snapshotRequired()).isFalse();
    assertThat(events(fromFloor)).hasSize(1);
  }
}
