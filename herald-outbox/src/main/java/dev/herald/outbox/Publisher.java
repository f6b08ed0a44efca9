package dev.herald.outbox;

import java.util.concurrent.CompletionStage;

/**
 * Where the relay publishes: the embedded Herald ({@code herald::publish}), a {@code Hub}, or a
 * client of Herald's HTTP publish API.
 *
 * <p>{@link #publish} must not block: it starts the publication and returns. The stage completes
 * normally once the hub has taken the publication (it is in the channel's stream and will reach
 * subscribers and history), exceptionally if it was not taken. The relay calls it for one channel
 * at a time, waiting for each stage before the next publication on that channel, so the hub
 * receives a channel's events in sequence order. Publications on different channels may be in
 * flight together. A stage that does not complete within the relay's publish timeout counts as
 * failed and the event is published again later (at least once).
 */
@FunctionalInterface
public interface Publisher {
  CompletionStage<?> publish(String channel, String json);
}
