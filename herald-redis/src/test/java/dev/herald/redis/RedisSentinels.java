package dev.herald.redis;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Redis master, one replica and three sentinels (quorum 2), all real processes on free ports. The
 * sentinels call the master down after one second without an answer, so a failover takes a few
 * seconds. Started once every sentinel knows the replica and the two other sentinels (without that,
 * no sentinel could win the election a failover needs).
 */
public final class RedisSentinels implements AutoCloseable {
  public static final String MASTER_NAME = "herald-test";
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final RedisServer master;
  private final RedisServer replica;
  private final List<RedisServer> sentinels = new ArrayList<>();

  private RedisSentinels(RedisServer master, RedisServer replica) {
    this.master = master;
    this.replica = replica;
  }

  public static RedisSentinels start() {
    RedisServer master = RedisServer.start();
    RedisSentinels s = new RedisSentinels(master, RedisServer.replicaOf(master));
    try {
      await()
          .atMost(WAIT)
          .until(() -> s.replica.cli("info", "replication").contains("master_link_status:up"));
      for (int i = 0; i < 3; i++) {
        s.sentinels.add(RedisServer.sentinel(master, MASTER_NAME, 2, 1000));
      }
      String replicaAddress = "127.0.0.1:" + s.replica.port();
      for (RedisServer sentinel : s.sentinels) {
        await()
            .atMost(WAIT)
            .until(
                () ->
                    sentinel.cli("sentinel", "replicas", MASTER_NAME).contains(replicaAddress)
                        && sentinel
                                .cli("sentinel", "sentinels", MASTER_NAME)
                                .lines()
                                .filter("name"::equals)
                                .count()
                            == 2);
      }
      return s;
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }

  public RedisServer master() {
    return master;
  }

  public RedisServer replica() {
    return replica;
  }

  /** The sentinels' URLs, for {@link RedisSettings#withSentinels}. */
  public List<String> urls() {
    return sentinels.stream().map(RedisServer::url).toList();
  }

  /** The port of the server the first sentinel names master now. */
  public int masterPort() {
    List<String> addr =
        sentinels.get(0).cli("sentinel", "get-master-addr-by-name", MASTER_NAME).lines().toList();
    return Integer.parseInt(addr.get(addr.size() - 1).trim());
  }

  @Override
  public void close() {
    sentinels.forEach(RedisServer::close);
    replica.close();
    master.close();
  }
}
