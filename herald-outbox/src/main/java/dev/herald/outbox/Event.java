package dev.herald.outbox;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One event to record: what changed on a channel. Published (and returned by "changes since") as a
 * JSON object, with the sequence number the outbox gave it:
 *
 * <pre>{"seq":18,"type":"item","id":"57","action":"updated","version":3,"data":{...}}</pre>
 *
 * <p>{@code id}, {@code action} and {@code version} are optional ({@code null}, {@code null}, 0)
 * and left out of the JSON when absent. With an {@code id}, {@code (type, id)} names an entity:
 * "changes since" keeps only its newest event, and the relay's compaction removes older published
 * events of it. {@code version} is the entity's own version, for clients that must tell whether a
 * snapshot they read is newer than an event (see docs/live-data.md). {@code data} is any JSON
 * value, checked when the event is recorded.
 */
public record Event(
    String type, @Nullable String id, @Nullable Action action, long version, String data) {
  /** What happened to the entity. */
  public enum Action {
    CREATED,
    UPDATED,
    DELETED;

    /** The name on the wire: {@code created}, {@code updated}, {@code deleted}. */
    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The action for a wire name; {@code null} for {@code null}. */
    public static @Nullable Action of(@Nullable String wire) {
      return wire == null ? null : valueOf(wire.toUpperCase(java.util.Locale.ROOT));
    }
  }

  public Event {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(data, "data");
    if (version < 0) {
      throw new IllegalArgumentException("version must be >= 0: " + version);
    }
  }

  /** An event that names no entity: never compacted. */
  public static Event of(String type, String data) {
    return new Event(type, null, null, 0, data);
  }

  public static Event created(String type, String id, long version, String data) {
    return new Event(type, Objects.requireNonNull(id, "id"), Action.CREATED, version, data);
  }

  public static Event updated(String type, String id, long version, String data) {
    return new Event(type, Objects.requireNonNull(id, "id"), Action.UPDATED, version, data);
  }

  public static Event deleted(String type, String id, long version, String data) {
    return new Event(type, Objects.requireNonNull(id, "id"), Action.DELETED, version, data);
  }
}
