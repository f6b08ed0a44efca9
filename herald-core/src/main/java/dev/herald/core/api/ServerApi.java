package dev.herald.core.api;

import dev.herald.core.broker.IdempotencyKey;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.StreamPosition;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * What a back end or an operator does to a running Herald beyond what clients do: publish, find and
 * end connections, unsubscribe a user, read presence and history, list channels and nodes. The same
 * calls are served over HTTP with an API key (docs/server-api.md).
 *
 * <p><b>Cluster-wide.</b> On Redis ({@code broker.type=redis}) every call made on one node covers
 * the whole cluster: actions (disconnect, unsubscribe) are carried to every node, which acts on the
 * connections it holds and answers how many it acted on; reads of per-node state (connections,
 * channels, nodes) are gathered from every node. Each node answers within {@code
 * cluster.api-timeout}; a {@link ClusterResult} says which nodes answered and which did not, so a
 * call never hangs on a node that is down. Presence and history live in the shared stores and are
 * read from there.
 *
 * <p><b>Errors.</b> Every method completes exceptionally with a {@code HubException} carrying a
 * documented {@link dev.herald.protocol.ErrorCode} for bad input: {@code UNKNOWN_CHANNEL} (102) for
 * an invalid channel name or a namespace that is not configured, {@code BAD_REQUEST} (107) for an
 * empty user id or connection id, or a limit out of range, {@code NOT_AVAILABLE} (108) for presence
 * of a namespace without presence, {@code NOT_FOUND} (118) for a connection no node holds, {@code
 * UNAVAILABLE} (115) when the broker or presence store cannot be reached. None of them blocks the
 * calling thread.
 */
public interface ServerApi {

  /** The most publications {@link #history} returns at once. */
  int MAX_HISTORY_LIMIT = 1000;

  /**
   * Publishes JSON data to a channel, at most once per idempotency key ({@link IdempotencyKey}).
   * The same as {@code Hub.publish}.
   *
   * @param once the publication's key, or null to publish unconditionally
   * @return the publication's position
   */
  CompletableFuture<StreamPosition> publish(
      String channel, RawJson data, @Nullable IdempotencyKey once);

  /**
   * Every connection of {@code userId} on every node (connected ones; a connection still
   * authenticating has no user yet), ordered by node then {@code since}.
   */
  CompletableFuture<ClusterResult<List<ConnectionInfo>>> connections(String userId);

  /**
   * The connection with this id, on whichever node holds it; fails with {@code NOT_FOUND} when no
   * node that answered holds it.
   */
  CompletableFuture<ClusterResult<ConnectionInfo>> connection(String connectionId);

  /**
   * Ends every connection of {@code userId} on every node. With {@code reconnect} the connections
   * close with {@code 4007} (clients reconnect and recover at once, e.g. to pick up new
   * credentials); without, with {@code 4501} (clients stay disconnected until the page is
   * reloaded), and a connect of the user still authenticating at this moment is refused too (as
   * {@code Hub.revokeUser} does).
   *
   * @param reason the close reason the clients see, or null for the code's default
   * @return how many connections were told to close, summed over the nodes that answered
   */
  CompletableFuture<ClusterResult<Integer>> disconnectUser(
      String userId, boolean reconnect, @Nullable String reason);

  /**
   * Ends one connection, on whichever node holds it, with {@code 4007} or {@code 4501} as {@link
   * #disconnectUser} does. Fails with {@code NOT_FOUND} when no node that answered holds it.
   *
   * @return 1, with the node that held it among {@link ClusterResult#nodes}
   */
  CompletableFuture<ClusterResult<Integer>> disconnectConnection(
      String connectionId, boolean reconnect, @Nullable String reason);

  /**
   * Ends every subscription of {@code userId} to {@code channel} on every node: each client gets
   * {@code unsubscribed} with code {@code 103} and leaves the channel's presence; the connections
   * and their other subscriptions go on. Nothing stops the user from subscribing again: revoke the
   * permission in the authorizer first to keep them out.
   *
   * @return how many subscriptions ended, summed over the nodes that answered (0 when the user was
   *     not subscribed)
   */
  CompletableFuture<ClusterResult<Integer>> unsubscribe(String userId, String channel);

  /** Who is present in a channel, across the cluster (from the presence store). */
  CompletableFuture<PresenceInfo> presence(String channel);

  /** How many connections and distinct users are present in a channel, across the cluster. */
  CompletableFuture<PresenceStats> presenceStats(String channel);

  /**
   * The last {@code limit} publications the channel's history holds, oldest first, and the stream's
   * current position. A channel nobody published to answers no publications and a fresh position.
   *
   * @param limit 1 to {@link #MAX_HISTORY_LIMIT}
   */
  CompletableFuture<HistoryPage> history(String channel, int limit);

  /**
   * Channels with at least one subscriber on some node, with their subscriber counts summed over
   * the nodes, sorted by name.
   *
   * @param prefix only channels whose name starts with it ({@code ""} for all)
   */
  CompletableFuture<ClusterResult<List<ChannelInfo>>> channels(String prefix);

  /** Every node of the cluster that answered, this one first. */
  CompletableFuture<ClusterResult<List<NodeInfo>>> nodes();

  /** This node. */
  NodeInfo node();
}
