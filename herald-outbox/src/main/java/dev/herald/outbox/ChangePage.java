package dev.herald.outbox;

import dev.herald.outbox.internal.Json;
import java.util.List;

/**
 * One answer to "changes since N" on a channel ({@link Outbox#changesSince}).
 *
 * <ul>
 *   <li>{@code changes}: the events after N, as published (JSON envelopes), <b>compacted</b>: of
 *       the events that name an entity ({@code type} and {@code id}) only the newest is kept, at
 *       its own place in sequence order. Events without an id are all kept.
 *   <li>{@code more == false}: that was everything; {@code seq} is the channel's newest sequence
 *       number (at least that of the last change). Continue live from {@code seq}.
 *   <li>{@code more == true}: the page was cut at {@code limit} events read; {@code seq} is the
 *       last one read. Ask again with {@code since = seq}.
 *   <li>{@code snapshotRequired == true}: N cannot be continued: events after it were removed by
 *       retention, or N is ahead of the channel (another database, a restore). {@code changes} is
 *       empty; load a snapshot (its sequence number read first) instead. {@code seq} is the
 *       channel's newest sequence number.
 * </ul>
 */
public record ChangePage(long seq, boolean more, boolean snapshotRequired, List<String> changes) {
  public ChangePage {
    changes = List.copyOf(changes);
  }

  static ChangePage snapshot(long head) {
    return new ChangePage(head, false, true, List.of());
  }

  /**
   * The answer as JSON: {@code {"seq":N,"more":false,"changes":[...]}}, with {@code
   * "snapshotRequired":true} when it applies. Serve it with status 200.
   */
  public String toJson() {
    return Json.page(seq, more, snapshotRequired, changes);
  }

  /**
   * Parses a {@code since} request parameter: a whole number {@code >= 0}. Throws {@link
   * IllegalArgumentException} with a message for people otherwise (answer 400 with it).
   */
  public static long parseSince(String since) {
    if (since == null || since.isBlank()) {
      throw new IllegalArgumentException("required, the last seq you have (0 for everything)");
    }
    long n;
    try {
      n = Long.parseLong(since.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("must be a whole number >= 0");
    }
    if (n < 0) {
      throw new IllegalArgumentException("must be a whole number >= 0");
    }
    return n;
  }
}
