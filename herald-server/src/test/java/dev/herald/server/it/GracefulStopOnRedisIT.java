package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.redis.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A node on Redis stopped gracefully (SIGTERM runs {@code Herald.stop}): the drained connections'
 * presence entries are removed from Redis before the node lets go of Redis, so nothing is left for
 * the presence TTL to clean up and no cleanup fails.
 */
class GracefulStopOnRedisIT {
  private static RedisServer redis;

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  @Test
  void drainedConnectionsLeavePresenceBeforeTheNodeLetsGoOfRedis() {
    String prefix = "stop" + System.nanoTime();
    Map<String, String> config = new java.util.HashMap<>(TestServer.baseConfig());
    config.put("broker.type", "redis");
    config.put("redis.url", redis.url());
    config.put("redis.prefix", prefix);
    config.put("node.name", "stopping-node");
    config.put("shutdown.batch-size", "10");
    config.put("shutdown.batch-interval", "20ms");
    config.put("shutdown.retry-min", "5s");
    config.put("shutdown.retry-max", "10s");
    TestServer server = TestServer.start(config);
    // Ready means connected to Redis: before that a subscribe is answered 115 (broker unavailable).
    Awaitility.await("ready")
        .atMost(Duration.ofSeconds(30))
        .until(() -> server.get("/health/ready", Map.of()).statusCode() == 200);
    String channel = "test:leaving";
    String key = prefix + ":{" + channel + "}:pz";
    List<RawClient> clients = new ArrayList<>();
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    root.addAppender(logs);
    try {
      for (int i = 0; i < 60; i++) {
        RawClient c = RawClient.connected(server, "user" + i);
        clients.add(c);
        JsonNode reply = c.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
        assertThat(reply.has("result")).as("subscribe reply %s", reply).isTrue();
      }
      assertThat(redis.cli("ZCARD", key)).isEqualTo("60");

      server.herald().stop(Duration.ofSeconds(10)).join();

      assertThat(redis.cli("ZCARD", key)).as("presence entries left in Redis").isEqualTo("0");
      assertThat(
              logs.list.stream()
                  .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                  .map(ILoggingEvent::getFormattedMessage)
                  .filter(m -> m.contains("failed"))
                  .toList())
          .as("cleanups that failed")
          .isEmpty();
    } finally {
      root.detachAppender(logs);
      clients.forEach(RawClient::close);
    }
  }
}
