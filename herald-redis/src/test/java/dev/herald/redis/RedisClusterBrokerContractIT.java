package dev.herald.redis;

import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The broker contract for the Redis broker on a Redis Cluster of three masters: channels spread
 * over the masters by hash slot.
 */
class RedisClusterBrokerContractIT extends RedisBrokerContractIT {
  @RegisterExtension static final RedisClusterFixture cluster = new RedisClusterFixture();

  @Override
  RedisTarget target() {
    return cluster;
  }
}
