package dev.herald.core.broker;

import dev.herald.core.testkit.BrokerContract;
import dev.herald.core.testkit.ManualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/** The broker contract for the in-memory broker, on fake time. */
class MemoryBrokerContractTest extends BrokerContract {
  private final ManualScheduler scheduler = new ManualScheduler();
  private final List<MemoryBroker> brokers = new ArrayList<>();

  @AfterEach
  void close() {
    brokers.forEach(MemoryBroker::close);
  }

  @Override
  protected Node node() {
    MemoryBroker b = new MemoryBroker(scheduler);
    Events events = new Events();
    b.start(events);
    brokers.add(b);
    return new Node(b, events);
  }

  @Override
  protected HistoryPolicy policy(Duration streamTtl) {
    return new HistoryPolicy(1000, Duration.ofMinutes(1).toMillis(), streamTtl.toMillis());
  }

  @Override
  protected Duration shortStreamTtl() {
    return Duration.ofMinutes(2);
  }

  @Override
  protected void interrupt(Node node) {
    // in-process: there is no link to cut
  }

  @Override
  protected boolean loseAllStreams(Node node) {
    // The only way an in-memory stream goes is its TTL, and not while a node subscribes to it.
    expireQuietStreams(node, Duration.ofDays(2));
    return false;
  }

  @Override
  protected void expireQuietStreams(Node node, Duration ttl) {
    scheduler.advance(ttl.multipliedBy(2).plusMinutes(2)); // the sweep runs every minute
  }

  @Override
  protected boolean remembers(Node node, String channel) {
    return ((MemoryBroker) node.broker()).hasStream(channel);
  }
}
