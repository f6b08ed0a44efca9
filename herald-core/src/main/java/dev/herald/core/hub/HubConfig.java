package dev.herald.core.hub;

import java.time.Duration;

/**
 * Hub-wide settings. Immutable; {@link #defaults()} gives safe production values.
 *
 * @param node this node's name, reported to clients
 * @param pingInterval how often the server pings a connected client; a client may ask for a shorter
 *     interval in connect ({@code ping_ms}), granted down to {@link #MIN_CLIENT_PING_INTERVAL_MS}
 * @param pongTimeout how long after a ping the server waits for any message before closing (4002)
 * @param connectTimeout how long a new connection may take to send connect (4004)
 * @param maxSubscriptionsPerConnection subscribe beyond this answers 106
 * @param outboxMaxBytes queued outbound bytes per connection before it is closed as a slow consumer
 *     (4003)
 * @param maxBatchBytes at most this many bytes go into one frame when messages are batched
 * @param maxMessageBytes the largest inbound frame; enforced by transports, reported to clients
 * @param maxPublishBytes the largest publication data, in UTF-16 characters of compact JSON
 * @param maxPresenceStateBytes the largest presence state
 * @param maxQueuedRequests requests waiting to be processed per connection; beyond, a request is
 *     answered 111 at once ({@code limits.queued-requests})
 * @param shutdownRetryMin lower bound of the reconnect delay suggested at shutdown
 * @param shutdownRetryMax upper bound; each client gets a random delay in between
 * @param abuse per-connection rate and per-user / per-address connection limits
 * @param drain how shutdown spreads its disconnects over time
 * @param writeDelay how long new messages may wait to be written together with those queued
 *     meanwhile, per event loop ({@code transport.write-delay}); zero writes at once
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
    AbuseLimits abuse,
    Drain drain,
    Duration writeDelay) {
  /**
   * The shortest heartbeat interval a client may ask for in connect ({@code ping_ms}): a ping a
   * second costs a few microseconds of CPU per connection and keeps any proxy idle timeout of 2 s
   * or more from cutting an idle connection.
   */
  public static final long MIN_CLIENT_PING_INTERVAL_MS = 1000;

  /** The interval granted to a client that asked for {@code requestedMs} (0: not asked). */
  public long grantedPingMillis(long requestedMs) {
    long dflt = pingInterval.toMillis();
    return requestedMs <= 0
        ? dflt
        : Math.min(dflt, Math.max(MIN_CLIENT_PING_INTERVAL_MS, requestedMs));
  }

  /**
   * Limits against abusive or broken clients. A value of 0 switches that limit off.
   *
   * @param messagesPerSecond sustained rate of inbound messages per connection (token bucket);
   *     beyond the burst the connection is closed with 4006
   * @param messageBurst how many messages a connection may send at once before the rate applies
   * @param connectionsPerUser connected sessions one user may hold on this node; more are refused
   *     with 4008
   * @param connectionsPerAddress sessions (connected or not) from one remote address on this node;
   *     more are refused with 4008 (HTTP 429 on the fallbacks)
   */
  public record AbuseLimits(
      int messagesPerSecond, int messageBurst, int connectionsPerUser, int connectionsPerAddress) {
    public AbuseLimits {
      if (messagesPerSecond < 0
          || messageBurst < 0
          || connectionsPerUser < 0
          || connectionsPerAddress < 0) {
        throw new IllegalArgumentException("abuse limits must be >= 0 (0 switches one off)");
      }
      if (messagesPerSecond > 0 && messageBurst < 1) {
        throw new IllegalArgumentException("messageBurst must be >= 1 when a rate is set");
      }
    }

    public static AbuseLimits defaults() {
      return new AbuseLimits(100, 200, 100, 5000);
    }

    public static AbuseLimits none() {
      return new AbuseLimits(0, 0, 0, 0);
    }
  }

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

  /** With the default abuse limits and drain. */
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
        AbuseLimits.defaults(),
        Drain.defaults(),
        Duration.ZERO);
  }

  public HubConfig {
    abuse = abuse == null ? AbuseLimits.defaults() : abuse;
    drain = drain == null ? Drain.defaults() : drain;
    writeDelay = writeDelay == null ? Duration.ZERO : writeDelay;
    if (writeDelay.isNegative() || writeDelay.toMillis() > 100) {
      throw new IllegalArgumentException("writeDelay must be between 0 and 100 ms");
    }
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
        256,
        Duration.ofMillis(500),
        Duration.ofSeconds(5));
  }

  public HubConfig withNode(String v) {
    return toBuilder().node(v).build();
  }

  public HubConfig withHeartbeat(Duration ping, Duration pong) {
    return toBuilder().pingInterval(ping).pongTimeout(pong).build();
  }

  public HubConfig withConnectTimeout(Duration v) {
    return toBuilder().connectTimeout(v).build();
  }

  public HubConfig withLimits(
      int maxSubscriptions, long outboxBytes, int messageBytes, int publishBytes) {
    return toBuilder()
        .maxSubscriptionsPerConnection(maxSubscriptions)
        .outboxMaxBytes(outboxBytes)
        .maxMessageBytes(messageBytes)
        .maxPublishBytes(publishBytes)
        .build();
  }

  public HubConfig withShutdownRetry(Duration min, Duration max) {
    return toBuilder().shutdownRetryMin(min).shutdownRetryMax(max).build();
  }

  public HubConfig withAbuse(AbuseLimits v) {
    return toBuilder().abuse(v).build();
  }

  public HubConfig withDrain(Drain d) {
    return toBuilder().drain(d).build();
  }

  public HubConfig withWriteDelay(Duration d) {
    return toBuilder().writeDelay(d).build();
  }

  /** A builder starting from these settings. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Changes some settings of an existing configuration; {@link #build()} validates them all. */
  public static final class Builder {
    private String node;
    private Duration pingInterval;
    private Duration pongTimeout;
    private Duration connectTimeout;
    private int maxSubscriptionsPerConnection;
    private long outboxMaxBytes;
    private int maxBatchBytes;
    private int maxMessageBytes;
    private int maxPublishBytes;
    private int maxPresenceStateBytes;
    private int maxQueuedRequests;
    private Duration shutdownRetryMin;
    private Duration shutdownRetryMax;
    private AbuseLimits abuse;
    private Drain drain;
    private Duration writeDelay;

    private Builder(HubConfig c) {
      node = c.node;
      pingInterval = c.pingInterval;
      pongTimeout = c.pongTimeout;
      connectTimeout = c.connectTimeout;
      maxSubscriptionsPerConnection = c.maxSubscriptionsPerConnection;
      outboxMaxBytes = c.outboxMaxBytes;
      maxBatchBytes = c.maxBatchBytes;
      maxMessageBytes = c.maxMessageBytes;
      maxPublishBytes = c.maxPublishBytes;
      maxPresenceStateBytes = c.maxPresenceStateBytes;
      maxQueuedRequests = c.maxQueuedRequests;
      shutdownRetryMin = c.shutdownRetryMin;
      shutdownRetryMax = c.shutdownRetryMax;
      abuse = c.abuse;
      drain = c.drain;
      writeDelay = c.writeDelay;
    }

    public Builder node(String v) {
      node = v;
      return this;
    }

    public Builder pingInterval(Duration v) {
      pingInterval = v;
      return this;
    }

    public Builder pongTimeout(Duration v) {
      pongTimeout = v;
      return this;
    }

    public Builder connectTimeout(Duration v) {
      connectTimeout = v;
      return this;
    }

    public Builder maxSubscriptionsPerConnection(int v) {
      maxSubscriptionsPerConnection = v;
      return this;
    }

    public Builder outboxMaxBytes(long v) {
      outboxMaxBytes = v;
      return this;
    }

    public Builder maxBatchBytes(int v) {
      maxBatchBytes = v;
      return this;
    }

    public Builder maxMessageBytes(int v) {
      maxMessageBytes = v;
      return this;
    }

    public Builder maxPublishBytes(int v) {
      maxPublishBytes = v;
      return this;
    }

    public Builder maxPresenceStateBytes(int v) {
      maxPresenceStateBytes = v;
      return this;
    }

    public Builder maxQueuedRequests(int v) {
      maxQueuedRequests = v;
      return this;
    }

    public Builder shutdownRetryMin(Duration v) {
      shutdownRetryMin = v;
      return this;
    }

    public Builder shutdownRetryMax(Duration v) {
      shutdownRetryMax = v;
      return this;
    }

    public Builder abuse(AbuseLimits v) {
      abuse = v;
      return this;
    }

    public Builder drain(Drain v) {
      drain = v;
      return this;
    }

    public Builder writeDelay(Duration v) {
      writeDelay = v;
      return this;
    }

    public HubConfig build() {
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
          abuse,
          drain,
          writeDelay);
    }
  }
}
