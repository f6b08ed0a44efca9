package dev.herald.core.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One client connection, on whichever node holds it.
 *
 * @param id the connection id ({@code c-...}), the {@code client} of presence entries
 * @param user the authenticated user id
 * @param transport {@code websocket}, {@code sse} or {@code long-polling}
 * @param node the name of the node that holds the connection ({@code hub.node})
 * @param since when the connection completed its {@code connect}
 * @param channels the channels it is subscribed to, in subscription order
 * @param address the client's remote address as the node sees it (after trusted proxies)
 */
public record ConnectionInfo(
    String id,
    String user,
    String transport,
    String node,
    Instant since,
    List<String> channels,
    String address) {
  public ConnectionInfo {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(since, "since");
    channels = List.copyOf(channels);
    Objects.requireNonNull(address, "address");
  }
}
