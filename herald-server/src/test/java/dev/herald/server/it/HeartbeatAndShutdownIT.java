package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeartbeatAndShutdownIT {

  private static TestServer fastHeartbeats() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("heartbeat.interval", "200ms");
    cfg.put("heartbeat.timeout", "300ms");
    cfg.put("connect.timeout", "500ms");
    return TestServer.start(cfg);
  }

  @Test
  void deadPeerIsClosedWithHeartbeatTimeoutWhileALiveOneStays() {
    try (TestServer server = fastHeartbeats();
        RawClient dead = RawClient.connected(server, "alice");
        RawClient alive = RawClient.connected(server, "bob")) {
      dead.autoPong(false);
      assertThat(dead.awaitClose()).isEqualTo(4002);
      // the live peer answered every ping meanwhile: several pings seen, still open
      for (int i = 0; i < 3; i++) {
        alive.awaitType("ping");
      }
      assertThat(alive.isClosed()).isFalse();
      alive.send("{\"type\":\"ping\"}");
      alive.awaitType("pong");
    }
  }

  @Test
  void silentConnectionIsClosedWithConnectTimeout() {
    try (TestServer server = fastHeartbeats();
        RawClient silent = RawClient.open(server.wsUri())) {
      assertThat(silent.awaitClose()).isEqualTo(4004);
    }
  }

  @Test
  void shutdownDisconnectsWithASuggestedReconnectDelay() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("shutdown.retry-min", "1s");
    cfg.put("shutdown.retry-max", "3s");
    TestServer server = TestServer.start(cfg);
    RawClient c = RawClient.connected(server, "alice");
    server.herald().stop(Duration.ofSeconds(5));
    JsonNode d = c.awaitType("disconnect");
    assertThat(d.get("code").asInt()).isEqualTo(4001);
    assertThat(d.get("reconnect").asBoolean()).isTrue();
    assertThat(d.get("retry_ms").asLong()).isBetween(1000L, 3000L);
    assertThat(c.awaitClose()).isEqualTo(4001);
    assertThat(c.closeReason()).matches("server restart; retry_ms=\\d+");
  }
}
