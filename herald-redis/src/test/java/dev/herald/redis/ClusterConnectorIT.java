package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The cluster connector's routing against a real Redis Cluster of three masters. */
class ClusterConnectorIT {
  @RegisterExtension static final RedisClusterFixture redis = new RedisClusterFixture();

  /**
   * A slot moved to another master while the connector's layout is old (its periodic read is an
   * hour away): the command goes to the old master, which answers MOVED; the connector reads the
   * layout and sends it once more, to the new master, which runs it.
   */
  @Test
  void aMovedAnswerIsFollowedToTheNewMaster() throws Exception {
    ClusterConnector c =
        new ClusterConnector(
            redis.vertx(),
            redis.settings("connector-it", "a", Duration.ofSeconds(10)),
            TimeUnit.HOURS.toMillis(1));
    try {
      c.startCommandsOnly(() -> {});
      await().atMost(Duration.ofSeconds(30)).until(c::up);
      String key = "connector-it:{moving}:k";
      c.send(key, Request.cmd(Command.SET).arg(key).arg("before")).get(30, TimeUnit.SECONDS);
      RedisServer from = redis.cluster().masterOfKey(key);
      RedisServer to =
          redis.cluster().masters().stream().filter(m -> m != from).findFirst().orElseThrow();

      redis.cluster().moveSlot(ClusterSlots.slot(key), from, to);
      assertThat(from.cli("GET", key)).as("the old master no longer serves it").startsWith("MOVED");

      assertThat(c.send(key, Request.cmd(Command.GET).arg(key)).get(30, TimeUnit.SECONDS))
          .hasToString("before");
      c.send(key, Request.cmd(Command.SET).arg(key).arg("after")).get(30, TimeUnit.SECONDS);
      assertThat(to.cli("GET", key)).isEqualTo("after");
    } finally {
      c.close();
    }
  }
}
