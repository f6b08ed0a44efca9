package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code limits.connections-per-user} counted across nodes on a real Redis. */
class RedisUserConnectionsIT {
  @RegisterExtension static final RedisFixture fixture = new RedisFixture();
  private static final Duration LONG_TTL = Duration.ofSeconds(60);
  private final List<RedisUserConnections> nodes = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    nodes.forEach(RedisUserConnections::close);
  }

  @Test
  void theLimitHoldsAcrossNodesPerUserAndAReleaseFreesAPlace() {
    String prefix = "uc" + System.nanoTime();
    RedisUserConnections a = node(prefix, "a", LONG_TTL);
    RedisUserConnections b = node(prefix, "b", LONG_TTL);

    assertThat(a.acquire("alice", "c1", 2).join()).isTrue();
    assertThat(b.acquire("alice", "c2", 2).join()).isTrue();
    assertThat(a.acquire("alice", "c3", 2).join()).as("third on a").isFalse();
    assertThat(b.acquire("alice", "c3", 2).join()).as("third on b").isFalse();
    assertThat(b.acquire("bob", "c4", 2).join()).as("another user").isTrue();
    assertThat(b.acquire("carol", "c5", 0).join()).as("no limit").isTrue();

    a.release("alice", "c1");
    await().atMost(Duration.ofSeconds(30)).until(() -> b.acquire("alice", "c6", 2).join());
    assertThat(a.acquire("alice", "c7", 2).join()).isFalse();
  }

  @Test
  void aDeadNodesConnectionsStopCountingAfterItsTtlWhileALiveNodesStay() {
    String prefix = "ucd" + System.nanoTime();
    // The node that dies refreshes every third of a 5 s TTL (long enough for its entry to outlive
    // a stalled test thread until it is counted below); the survivors use a long one, so their
    // entries cannot expire however slow the machine is.
    RedisUserConnections dying = node(prefix, "dying", Duration.ofSeconds(5));
    RedisUserConnections alive = node(prefix, "alive", LONG_TTL);
    RedisUserConnections other = node(prefix, "other", LONG_TTL);
    assertThat(dying.acquire("alice", "d1", 2).join()).isTrue();
    assertThat(alive.acquire("alice", "a1", 2).join()).isTrue();
    assertThat(other.acquire("alice", "o1", 2).join()).isFalse();

    dying.close(); // as kill -9: no release, no more heartbeats
    nodes.remove(dying);

    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> other.acquire("alice", "o2", 2).join());
    assertThat(other.acquire("alice", "o3", 2).join())
        .as("the live node's connection still counts")
        .isFalse();
    assertThat(fixture.server().cli("ZRANGE", prefix + ":user:{alice}:conns", "0", "-1"))
        .contains("alive/a1", "other/o2")
        .doesNotContain("dying/d1");
  }

  @Test
  void aRedisRestartedEmptyCountsTheNodesConnectionsAgainOnReconnect() {
    String prefix = "ucr" + System.nanoTime();
    // No timer refresh during the test: only the reconnect can bring the entries back.
    RedisUserConnections a =
        track(
            new RedisUserConnections(
                fixture.vertx(), fixture.settings(prefix, "a", LONG_TTL), 3_600_000));
    RedisUserConnections b = node(prefix, "b", LONG_TTL);
    assertThat(a.acquire("alice", "c1", 2).join()).isTrue();
    assertThat(a.acquire("alice", "c2", 2).join()).isTrue();

    fixture.server().kill();
    fixture.server().restart();

    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () -> fixture.server().cli("ZCARD", prefix + ":user:{alice}:conns").trim().equals("2"));
    await().atMost(Duration.ofSeconds(60)).until(b::connected);
    assertThat(b.acquire("alice", "c3", 2).join()).isFalse();
  }

  @Test
  void whileRedisIsDownANodeAdmitsUpToTheLimitOnItsOwnAndCountsThemOnceRedisIsBack() {
    String prefix = "ucf" + System.nanoTime();
    RedisUserConnections a = node(prefix, "a", LONG_TTL);
    RedisUserConnections b = node(prefix, "b", LONG_TTL);
    assertThat(a.acquire("alice", "warm", 0).join()).isTrue();

    fixture.server().kill();
    try {
      assertThat(a.acquire("alice", "c1", 1).join()).as("fails open").isTrue();
      assertThat(a.acquire("alice", "c2", 1).join()).as("this node's own count").isFalse();
    } finally {
      fixture.server().restart();
    }

    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () ->
                fixture
                    .server()
                    .cli("ZRANGE", prefix + ":user:{alice}:conns", "0", "-1")
                    .contains("a/c1"));
    await().atMost(Duration.ofSeconds(60)).until(b::connected);
    assertThat(b.acquire("alice", "c3", 1).join()).isFalse();
  }

  private RedisUserConnections node(String prefix, String name, Duration ttl) {
    return track(new RedisUserConnections(fixture.vertx(), fixture.settings(prefix, name, ttl)));
  }

  private RedisUserConnections track(RedisUserConnections n) {
    nodes.add(n);
    return n;
  }
}
