package dev.herald.redis;

import io.vertx.core.Vertx;
import java.time.Duration;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Redis Cluster of three masters (no replicas) and a Vert.x instance for one test class: register
 * it as a static {@code @RegisterExtension} field. Both are stopped after the class's tests.
 */
final class RedisClusterFixture implements BeforeAllCallback, AfterAllCallback, RedisTarget {
  private RedisCluster cluster;
  private Vertx vertx;

  @Override
  public void beforeAll(ExtensionContext context) {
    cluster = RedisCluster.start(3, 0);
    vertx = Vertx.vertx();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    vertx.close().toCompletionStage().toCompletableFuture().join();
    cluster.close();
  }

  RedisCluster cluster() {
    return cluster;
  }

  @Override
  public Vertx vertx() {
    return vertx;
  }

  @Override
  public RedisSettings settings(String prefix, String node, Duration presenceTtl) {
    return new RedisSettings(
            "redis://127.0.0.1:1",
            prefix,
            node,
            presenceTtl,
            Duration.ofMillis(50),
            Duration.ofMillis(500))
        .withClusterNodes(cluster.urls());
  }

  @Override
  public void flushAll() {
    cluster.masters().forEach(m -> m.cli("FLUSHALL"));
  }

  @Override
  public boolean exists(String key) {
    return cluster.cli("EXISTS", key).equals("1");
  }
}
