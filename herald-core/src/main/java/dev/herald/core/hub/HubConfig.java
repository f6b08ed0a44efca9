package dev.herald.core.hub;

import java.time.Duration;

/**
 * Hub-wide settings. Immutable; {@link #defaults()} gives safe production values.
 *
 * @param node this node's name, reported to clients
 * @param pingInterval how often the server pings a connected client
 * @param pongTimeout how long after a ping the server waits for any message before closing (4002)
 * @param connectTimeout how long a new connection may take to send connect (4004)
 * @param maxSubscriptionsPerConnection subscribe beyond this answers 106
 * @param outboxMaxBytes queued outbound bytes per connection before it is closed as a slow consumer
 *     (4003)
 * @param maxBatchBytes at most this many bytes go into one frame when messages are batched
 * @param maxMessageBytes the largest inbound frame; enforced by transports, reported to clients
 * @param maxPublishBytes the largest publication data, in UTF-16 characters of compact JSON
 * @param maxPresenceStateBytes the largest presence state
 * @param maxQueuedRequests requests waiting to be processed per connection before 111
 * @param shutdownRetryMin lower bound of the reconnect delay suggested at shutdown
 * @param shutdownRetryMax upper bound; each client gets a random delay in between
 * @param drain how shutdown spreads its disconnects over time
 */
public record HubConfig(
    String node,
    Duration pingInterval,
    Duration pongTimeout,
    Duration connectTimeout,
    int maxSubscriptionsPerConnection,
    long outboxMaxBytes,
    int maxBatchBytes,
    int maxMessageBytes,
    int maxPublishBytes,
    int maxPresenceStateBytes,
    int maxQueuedRequests,
    Duration shutdownRetryMin,
    Duration shutdownRetryMax,
    Drain drain) {

  /**
   * Shutdown disconnects clients {@code batchSize} at a time, one batch every {@code interval}, so
   * that neither this node nor the nodes its clients move to take them all at once.
   */
  public record Drain(int batchSize, Duration interval) {
    public Drain {
      if (batchSize < 1 || interval == null || interval.isNegative()) {
        throw new IllegalArgumentException("drain batch size must be >= 1 and interval >= 0");
      }
    }

    public static Drain defaults() {
      return new Drain(1000, Duration.ofMillis(100));
    }
  }

  /** With the default drain (batches of 1000 every 100 ms). */
  public HubConfig(
      String node,
      Duration pingInterval,
      Duration pongTimeout,
      Duration connectTimeout,
      int maxSubscriptionsPerConnection,
      long outboxMaxBytes,
      int maxBatchBytes,
      int maxMessageBytes,
      int maxPublishBytes,
      int maxPresenceStateBytes,
      int maxQueuedRequests,
      Duration shutdownRetryMin,
      Duration shutdownRetryMax) {
    this(
        node,
        pingInterval,
        pongTimeout,
        connectTimeout,
        maxSubscriptionsPerConnection,
        outboxMaxBytes,
        maxBatchBytes,
        maxMessageBytes,
        maxPublishBytes,
        maxPresenceStateBytes,
        maxQueuedRequests,
        shutdownRetryMin,
        shutdownRetryMax,
        Drain.defaults());
  }

  public HubConfig {
    drain = drain == null ? Drain.defaults() : drain;
    positive(pingInterval, "pingInterval");
    positive(pongTimeout, "pongTimeout");
    positive(connectTimeout, "connectTimeout");
    if (maxSubscriptionsPerConnection < 1
        || outboxMaxBytes < 1024
        || maxBatchBytes < 1
        || maxMessageBytes < 256
        || maxPublishBytes < 1
        || maxPresenceStateBytes < 2
        || maxQueuedRequests < 1) {
      throw new IllegalArgumentException(
          "limits must be positive (outboxMaxBytes >= 1024, maxMessageBytes >= 256)");
    }
    if (shutdownRetryMax.compareTo(shutdownRetryMin) < 0 || shutdownRetryMin.isNegative()) {
      throw new IllegalArgumentException("need 0 <= shutdownRetryMin <= shutdownRetryMax");
    }
  }

  private static void positive(Duration d, String name) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be positive");
    }
  }

  public static HubConfig defaults() {
    return new HubConfig(
        "herald-1",
        Duration.ofSeconds(25),
        Duration.ofSeconds(10),
        Duration.ofSeconds(10),
        128,
        1 << 20,
        16 * 1024,
        64 * 1024,
        32 * 1024,
        1024,
        64,
        Duration.ofMillis(500),
        Duration.ofSeconds(5),
        Drain.defaults());
  }

  public HubConfig withNode(String v) {
    return new HubConfig(
        v,
        pingInterval,
        pongTimeout,
        connectTimeout,
        maxSubscriptionsPerConnection,
        outboxMaxBytes,
        maxBatchBytes,
        maxMessageBytes,
        maxPublishBytes,
        maxPresenceStateBytes,
        maxQueuedRequests,
        shutdownRetryMin,
        shutdownRetryMax,
        drain);
  }

  public HubConfig withHeartbeat(Duration ping, Duration pong) {
    return new HubConfig(
        node,
        ping,
        pong,
        connectTimeout,
        maxSubscriptionsPerConnection,
        outboxMaxBytes,
        maxBatchBytes,
        maxMessageBytes,
        maxPublishBytes,
        maxPresenceStateBytes,
        maxQueuedRequests,
        shutdownRetryMin,
        shutdownRetryMax,
        drain);
  }

  public HubConfig withConnectTimeout(Duration v) {
    return new HubConfig(
        node,
        pingInterval,
        pongTimeout,
        v,
        maxSubscriptionsPerConnection,
        outboxMaxBytes,
        maxBatchBytes,
        maxMessageBytes,
        maxPublishBytes,
        maxPresenceStateBytes,
        maxQueuedRequests,
        shutdownRetryMin,
        shutdownRetryMax,
        drain);
  }

  public HubConfig withLimits(
      int maxSubscriptions, long outboxBytes, int messageBytes, int publishBytes) {
    return new HubConfig(
        node,
        pingInterval,
        pongTimeout,
        connectTimeout,
        maxSubscriptions,
        outboxBytes,
        maxBatchBytes,
        messageBytes,
        publishBytes,
        maxPresenceStateBytes,
        maxQueuedRequests,
        shutdownRetryMin,
        shutdownRetryMax,
        drain);
  }

  public HubConfig withShutdownRetry(Duration min, Duration max) {
    return new HubConfig(
        node,
        pingInterval,
        pongTimeout,
        connectTimeout,
        maxSubscriptionsPerConnection,
        outboxMaxBytes,
        maxBatchBytes,
        maxMessageBytes,
        maxPublishBytes,
        maxPresenceStateBytes,
        maxQueuedRequests,
        min,
        max,
        drain);
  }

  public HubConfig withDrain(Drain d) {
    return new HubConfig(
        node,
        pingInterval,
        pongTimeout,
        connectTimeout,
        maxSubscriptionsPerConnection,
        outboxMaxBytes,
        maxBatchBytes,
        maxMessageBytes,
        maxPublishBytes,
        maxPresenceStateBytes,
        maxQueuedRequests,
        shutdownRetryMin,
        shutdownRetryMax,
        d);
  }
}
