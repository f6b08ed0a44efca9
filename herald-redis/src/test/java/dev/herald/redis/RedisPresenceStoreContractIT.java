package dev.herald.redis;

import dev.herald.core.presence.PresenceStore;
import dev.herald.core.testkit.PresenceStoreContract;
import dev.herald.protocol.JsonCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The presence store contract for the Redis presence store, against a real redis-server. */
class RedisPresenceStoreContractIT extends PresenceStoreContract {
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  @RegisterExtension static final RedisFixture redis = new RedisFixture();
  private final List<RedisPresenceStore> stores = new ArrayList<>();

  @AfterEach
  void close() {
    stores.forEach(RedisPresenceStore::close);
  }

  /** The Redis these tests run against. */
  RedisTarget target() {
    return redis;
  }

  @Override
  protected PresenceStore store() {
    RedisPresenceStore s =
        new RedisPresenceStore(
            target().vertx(),
            target()
                .settings(
                    "presence" + PREFIXES.incrementAndGet(), "node-1", Duration.ofSeconds(30)),
            new JsonCodec());
    stores.add(s);
    return s;
  }

  @Override
  protected CompletableFuture<Void> refreshNow(PresenceStore store) {
    return ((RedisPresenceStore) store).heartbeatNow();
  }
}
