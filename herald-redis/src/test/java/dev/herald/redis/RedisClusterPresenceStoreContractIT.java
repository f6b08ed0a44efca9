package dev.herald.redis;

import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The presence store contract on a Redis Cluster of three masters: channels' presence spread over
 * the masters by hash slot.
 */
class RedisClusterPresenceStoreContractIT extends RedisPresenceStoreContractIT {
  @RegisterExtension static final RedisClusterFixture cluster = new RedisClusterFixture();

  @Override
  RedisTarget target() {
    return cluster;
  }
}
