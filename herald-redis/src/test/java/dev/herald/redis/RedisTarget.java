package dev.herald.redis;

import io.vertx.core.Vertx;
import java.time.Duration;

/** The Redis a test class runs against (one server or a Redis Cluster), with its Vert.x. */
interface RedisTarget {
  Vertx vertx();

  /** Settings for one node: fast reconnects, the given presence TTL. */
  RedisSettings settings(String prefix, String node, Duration presenceTtl);

  /** Empties Redis (every master of a cluster), as a restart without persistence would. */
  void flushAll();

  /** Whether a key exists. */
  boolean exists(String key);
}
