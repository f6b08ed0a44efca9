package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.protocol.CloseCode;
import dev.herald.redis.RedisServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Two nodes on one Redis: a user revoked on one node loses its connections on the other as well;
 * other users keep theirs.
 */
class ClusterAccountActionsIT {
  @Test
  void revokingAUserOnOneNodeEndsItsConnectionsOnEveryNode() {
    String prefix = "acct" + System.nanoTime();
    try (RedisServer redis = RedisServer.start();
        TestServer a = node(redis, prefix, "acct-a");
        TestServer b = node(redis, prefix, "acct-b")) {
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(() -> redis.cli("PUBSUB", "NUMSUB", prefix + ":control").endsWith("2"));
      try (RawClient aliceOnB = RawClient.connected(b, "alice");
          RawClient aliceOnA = RawClient.connected(a, "alice");
          RawClient bobOnB = RawClient.connected(b, "bob")) {

        int told = a.herald().hub().revokeUser("alice", CloseCode.FORBIDDEN, "logged out");

        assertThat(told).as("connections closed on the calling node").isEqualTo(1);
        assertThat(aliceOnA.awaitClose()).isEqualTo(CloseCode.FORBIDDEN.code());
        assertThat(aliceOnB.awaitClose()).isEqualTo(CloseCode.FORBIDDEN.code());
        assertThat(aliceOnB.closeReason()).isEqualTo("logged out");
        assertThat(
                bobOnB.request("{\"type\":\"subscribe\",\"channel\":\"test:still\"}").has("result"))
            .isTrue();
        assertThat(bobOnB.isClosed()).isFalse();
      }
    }
  }

  private static TestServer node(RedisServer redis, String prefix, String name) {
    return TestServer.startOnRedis(redis.url(), prefix, name);
  }
}
