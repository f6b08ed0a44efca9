package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.JsonCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Redis that restarts empty: what this node keeps in Redis (its registry entry, its presence
 * entries) is written again as soon as the node is reconnected, not on its next periodic refresh.
 * The refresh period here is an hour, so only the reconnect can bring the data back.
 */
class RedisRestartIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final long NEVER_MS = 3_600_000;
  @RegisterExtension static final RedisFixture fixture = new RedisFixture();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private RedisSettings settings(String node) {
    return fixture.settings("restart" + System.nanoTime(), node, Duration.ofSeconds(30));
  }

  @Test
  void theNodeRegistryRegistersAgainOnReconnect() {
    RedisSettings s = settings("node-a");
    RedisNodeRegistry registry = new RedisNodeRegistry(fixture.vertx(), s, NEVER_MS);
    closeables.add(registry);
    registry.register("http://10.0.0.5:8080").join();
    assertThat(registry.lookup("node-a").join()).contains("http://10.0.0.5:8080");

    fixture.server().kill();
    fixture.server().restart();

    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(() -> registry.lookup("node-a").join().equals(Optional.of("http://10.0.0.5:8080")));
  }

  @Test
  void presenceEntriesAreWrittenAgainOnReconnect() {
    RedisSettings s = settings("node-a");
    JsonCodec codec = new JsonCodec();
    RedisPresenceStore store = new RedisPresenceStore(fixture.vertx(), s, codec, NEVER_MS);
    closeables.add(store);
    ClientInfo alice = new ClientInfo("c-1", "alice", null, null);
    store.put("room", alice).join();
    assertThat(store.get("room").join()).containsExactly(alice);

    fixture.server().kill();
    fixture.server().restart();

    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(() -> store.get("room").join().equals(List.of(alice)));
  }
}
