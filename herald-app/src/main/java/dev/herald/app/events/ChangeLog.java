package dev.herald.app.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.outbox.ChangePage;
import dev.herald.outbox.Event;
import dev.herald.outbox.Outbox;
import org.jdbi.v3.core.Handle;

/**
 * The app's events, recorded through herald-outbox in the same transaction as the change they
 * describe (docs/outbox.md, docs/live-data.md). A {@link dev.herald.outbox.Relay} publishes them
 * after commit; the same tables answer "changes since" for resync.
 *
 * <p>Event payload, as published and as returned by the changes API:
 *
 * <pre>{"seq":123,"type":"item","id":"57","action":"updated","version":3,"data":{...}}</pre>
 *
 * {@code seq} counts 1, 2, 3, ... per channel, in commit order; {@code version} is the entity's own
 * version; {@code data} is the entity after the change (for deletions, just its id and parent ids).
 */
public final class ChangeLog {
  /** Most changes read by one "changes since" request (a page). */
  public static final int PAGE = 10_000;

  private final ObjectMapper json;
  private final Outbox outbox;

  public ChangeLog(ObjectMapper json, Outbox outbox) {
    this.json = json;
    this.outbox = outbox;
  }

  /** Records a change inside the caller's (write) transaction; returns its seq on the channel. */
  public long record(
      Handle h, String channel, String type, String id, String action, long version, Object data) {
    String text;
    try {
      text = json.writeValueAsString(data);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("event data of " + type + " " + id + " is not JSON", e);
    }
    return outbox.record(
        h.getConnection(), channel, new Event(type, id, Event.Action.of(action), version, text));
  }

  /** The newest seq on a channel, 0 if none. Read it before the state of a snapshot. */
  public long head(Handle h, String channel) {
    return outbox.head(h.getConnection(), channel);
  }

  /** A page of changes on a channel after {@code since}, compacted (see {@link ChangePage}). */
  public ChangePage since(Handle h, String channel, long since) {
    return outbox.changesSince(h.getConnection(), channel, since, PAGE);
  }
}
