package dev.herald.redis;

import io.vertx.core.Vertx;
import java.time.Duration;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A redis-server and a Vert.x instance for one test class: register it as a static
 * {@code @RegisterExtension} field. Both are stopped after the class's tests.
 */
final class RedisFixture implements BeforeAllCallback, AfterAllCallback, RedisTarget {
  private RedisServer redis;
  private Vertx vertx;

  @Override
  public void beforeAll(ExtensionContext context) {
    redis = RedisServer.start();
    vertx = Vertx.vertx();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    vertx.close().toCompletionStage().toCompletableFuture().join();
    redis.close();
  }

  RedisServer server() {
    return redis;
  }

  @Override
  public Vertx vertx() {
    return vertx;
  }

  @Override
  public void flushAll() {
    redis.cli("FLUSHALL");
  }

  @Override
  public boolean exists(String key) {
    return redis.cli("EXISTS", key).equals("1");
  }

  /** Settings for one node on this server: fast reconnects, the given presence TTL. */
  @Override
  public RedisSettings settings(String prefix, String node, Duration presenceTtl) {
    return new RedisSettings(
        redis.url(), prefix, node, presenceTtl, Duration.ofMillis(50), Duration.ofMillis(500));
  }
}
