package dev.herald.core.api;

import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.List;
import java.util.Objects;

/**
 * The most recent publications of a channel that its history still holds.
 *
 * @param channel the channel
 * @param top the stream's current position (epoch and last offset); a client subscribing with it as
 *     {@code since} receives what follows
 * @param publications at most the requested number of publications, oldest first, ending with the
 *     one at {@code top} (fewer when history holds fewer: its size and age limits per namespace)
 */
public record HistoryPage(String channel, StreamPosition top, List<Pub> publications) {
  public HistoryPage {
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(top, "top");
    publications = List.copyOf(publications);
  }
}
