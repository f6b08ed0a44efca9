package dev.herald.protocol;

import java.util.Objects;

/**
 * A position in a channel's stream: the epoch names one continuous history, the offset counts
 * publications in it (the first publication has offset 1; offset 0 means "nothing yet"). A client
 * that holds the position of the last publication it saw can ask to recover from it.
 */
public record StreamPosition(String epoch, long offset) {
  public StreamPosition {
    Objects.requireNonNull(epoch, "epoch");
    if (offset < 0) {
      throw new IllegalArgumentException("offset must be >= 0: " + offset);
    }
  }
}
