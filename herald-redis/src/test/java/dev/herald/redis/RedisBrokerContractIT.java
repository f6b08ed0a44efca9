package dev.herald.redis;

import static org.awaitility.Awaitility.await;

import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.testkit.BrokerContract;
import dev.herald.protocol.JsonCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The broker contract for the Redis broker, against a real redis-server. */
class RedisBrokerContractIT extends BrokerContract {
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  @RegisterExtension static final RedisFixture redis = new RedisFixture();
  private final List<RedisBroker> brokers = new ArrayList<>();
  private final String prefix = "contract" + PREFIXES.incrementAndGet();

  @AfterEach
  void close() {
    brokers.forEach(RedisBroker::close);
  }

  /** The Redis these tests run against. */
  RedisTarget target() {
    return redis;
  }

  private RedisSettings settings() {
    return target().settings(prefix, "node-" + brokers.size(), Duration.ofSeconds(2));
  }

  @Override
  protected Node node() {
    RedisBroker b = new RedisBroker(target().vertx(), settings(), new JsonCodec());
    Events events = new Events();
    b.start(events);
    brokers.add(b);
    await().atMost(WAIT).until(b::healthy);
    return new Node(b, events);
  }

  @Override
  protected HistoryPolicy policy(Duration streamTtl) {
    return new HistoryPolicy(1000, Math.min(60_000, streamTtl.toMillis()), streamTtl.toMillis());
  }

  @Override
  protected Duration shortStreamTtl() {
    return Duration.ofMillis(1500);
  }

  @Override
  protected void interrupt(Node node) {
    RedisBroker b = (RedisBroker) node.broker();
    b.simulateConnectionLoss();
    await().atMost(WAIT).until(b::healthy);
  }

  @Override
  protected boolean loseAllStreams(Node node) {
    target().flushAll();
    return true;
  }

  @Override
  protected void expireQuietStreams(Node node, Duration ttl) {
    // Redis's own clock: the awaits of the contract wait for the expiry.
  }

  @Override
  protected boolean remembers(Node node, String channel) {
    return target().exists(settings().key(channel, "m"));
  }
}
