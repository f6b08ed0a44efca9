package dev.herald.app.events;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;

/**
 * The change log: every committed change, written in the same transaction as the change itself. It
 * is the transactional outbox ({@link OutboxRelay} publishes unpublished rows on their channel
 * after commit, and again after a crash) and the source of "changes since" resync.
 *
 * <p>Event payload, as published and as returned by the changes API:
 *
 * <pre>{"seq":123,"type":"item","id":"57","action":"updated","version":3,"data":{...}}</pre>
 *
 * {@code seq} orders all changes and de-duplicates re-deliveries after a crash; {@code version} is
 * the entity's own version; {@code data} is the entity after the change (for deletions, just its id
 * and parent ids).
 */
public final class ChangeLog {
  private final ObjectMapper json;
  private final Clock clock;

  public ChangeLog(ObjectMapper json, Clock clock) {
    this.json = json;
    this.clock = clock;
  }

  /** Records a change inside the caller's (write) transaction; returns its seq. */
  public long record(
      Handle h, String channel, String type, String id, String action, long version, Object data) {
    long seq =
        h.createUpdate(
                "INSERT INTO change_log (channel, entity_type, entity_id, action, payload, created_at) VALUES (:c, :t, :i, :a, '{}', :now)")
            .bind("c", channel)
            .bind("t", type)
            .bind("i", id)
            .bind("a", action)
            .bind("now", OffsetDateTime.now(clock))
            .executeAndReturnGeneratedKeys("seq")
            .mapTo(Long.class)
            .one();
    ObjectNode payload = json.createObjectNode();
    payload.put("seq", seq);
    payload.put("type", type);
    payload.put("id", id);
    payload.put("action", action);
    payload.put("version", version);
    payload.set("data", json.valueToTree(data));
    String text;
    try {
      text = json.writeValueAsString(payload);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    h.createUpdate("UPDATE change_log SET payload = :p WHERE seq = :s")
        .bind("p", text)
        .bind("s", seq)
        .execute();
    return seq;
  }

  /** One pending outbox entry. */
  public record Entry(long seq, String channel, String payload) {}

  public static List<Entry> pending(Handle h, int limit) {
    return h.createQuery(
            "SELECT seq, channel, payload FROM change_log WHERE published_at IS NULL ORDER BY seq")
        .setMaxRows(limit)
        .map((rs, ctx) -> new Entry(rs.getLong(1), rs.getString(2), rs.getString(3)))
        .list();
  }

  public void markPublished(Handle h, long seq) {
    h.createUpdate("UPDATE change_log SET published_at = :now WHERE seq = :s")
        .bind("now", OffsetDateTime.now(clock))
        .bind("s", seq)
        .execute();
  }

  /**
   * A page of changes on a channel after a seq, compacted: only the latest change per entity, in
   * seq order. {@code seq} is where the page ends: the channel's newest seq when {@code more} is
   * false, else the last row read, to ask again from.
   */
  public record Page(long seq, boolean more, List<String> payloads) {}

  public static Page since(Handle h, String channel, long since, int limit) {
    List<Object[]> rows =
        h.createQuery(
                "SELECT seq, entity_type, entity_id, payload FROM change_log WHERE channel = :c AND seq > :s ORDER BY seq")
            .bind("c", channel)
            .bind("s", since)
            .setMaxRows(limit + 1)
            .map(
                (rs, ctx) ->
                    new Object[] {
                      rs.getLong(1), rs.getString(2) + "/" + rs.getString(3), rs.getString(4)
                    })
            .list();
    boolean more = rows.size() > limit;
    if (more) {
      rows = rows.subList(0, limit);
    }
    Map<String, String> latest = new LinkedHashMap<>();
    for (Object[] r : rows) {
      latest.remove((String) r[1]);
      latest.put((String) r[1], (String) r[2]);
    }
    long end = more ? (long) rows.get(rows.size() - 1)[0] : Math.max(since, head(h, channel));
    return new Page(end, more, new ArrayList<>(latest.values()));
  }

  /** The newest seq on a channel, 0 if none. */
  public static long head(Handle h, String channel) {
    return h.createQuery("SELECT COALESCE(MAX(seq), 0) FROM change_log WHERE channel = :c")
        .bind("c", channel)
        .mapTo(Long.class)
        .one();
  }
}
