package dev.herald.core.broker;

import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.List;

/**
 * A stream's current position and the retained publications after the requested offset, oldest
 * first. {@code publications} may start later than requested when history was trimmed.
 */
public record HistoryResult(StreamPosition top, List<Pub> publications) {
  public HistoryResult {
    publications = List.copyOf(publications);
  }

  /**
   * Whether these publications are exactly those after {@code since}: same epoch and nothing
   * trimmed in between.
   */
  public boolean continues(StreamPosition since) {
    if (!top.epoch().equals(since.epoch()) || since.offset() > top.offset()) {
      return false;
    }
    long missed = top.offset() - since.offset();
    if (missed == 0) {
      return true;
    }
    return publications.size() == missed
        && publications.get(0).offset() == since.offset() + 1
        && publications.get(publications.size() - 1).offset() == top.offset();
  }
}
