package dev.herald.core.limits;

import java.util.concurrent.CompletableFuture;

/**
 * Who counts the connected sessions of each user against {@code limits.connections-per-user}. On
 * one node the hub counts in memory ({@link #local()}); a cluster counts across its nodes (the
 * Redis implementation in herald-redis), so a user holds at most the limit in the whole cluster
 * rather than on each node.
 *
 * <p>A connection is acquired once its {@code connect} is authenticated and released once when it
 * closes; {@code connectionId} is unique per connection. An implementation that cannot reach its
 * shared store decides on its own whether to admit (and documents it); {@link #acquire} does not
 * fail. Counts of a node that dies without releasing must not stay forever.
 */
public interface UserConnections extends AutoCloseable {

  /**
   * Counts connection {@code connectionId} of {@code userId} unless the user already holds {@code
   * limit} connections; completes with whether it was counted. {@code limit <= 0}: no limit (always
   * true).
   */
  CompletableFuture<Boolean> acquire(String userId, String connectionId, int limit);

  /** Stops counting a connection that {@link #acquire} counted. */
  void release(String userId, String connectionId);

  @Override
  default void close() {}

  /** Counts this node's connections only, in memory. */
  static UserConnections local() {
    ConnectionCounter counter = new ConnectionCounter(0);
    return new UserConnections() {
      @Override
      public CompletableFuture<Boolean> acquire(String userId, String connectionId, int limit) {
        return CompletableFuture.completedFuture(counter.tryAcquire(userId, limit));
      }

      @Override
      public void release(String userId, String connectionId) {
        counter.release(userId);
      }
    };
  }
}
