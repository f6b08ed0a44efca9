package dev.herald.server.it.attack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.server.it.HttpTransportClient;
import dev.herald.server.it.HttpTransportClient.Kind;
import dev.herald.server.it.HttpTransportClient.OpenRefused;
import dev.herald.server.it.RawClient;
import dev.herald.server.it.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Floods of messages, connections and HTTP sessions: the attacker is refused with the documented
 * code (4006, 4008, 106, HTTP 429), the server stays up, and a bystander keeps receiving every
 * publication in order (see {@link Bystander}).
 */
class FloodAttackIT {
  private static TestServer start(Map<String, String> extra) {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.putAll(extra);
    return TestServer.start(cfg);
  }

  @Test
  void messageFloodPastTheBurstIsClosedWith4006() {
    try (TestServer srv =
            start(Map.of("limits.messages-per-second", "20", "limits.message-burst", "40"));
        Bystander bystander = Bystander.start(srv);
        RawClient attacker = RawClient.connected(srv, "mallory")) {
      // 500 messages in one frame, then more frames: far past a burst of 40.
      String flood = String.join("\n", java.util.Collections.nCopies(500, "{\"type\":\"ping\"}"));
      attacker.send(flood);
      JsonNode d = attacker.awaitType("disconnect");
      assertThat(d.path("code").asInt()).isEqualTo(4006);
      assertThat(d.path("reconnect").asBoolean()).isTrue();
      assertThat(attacker.awaitClose()).isEqualTo(4006);

      bystander.assertEverythingArrived();
      try (RawClient next = RawClient.connected(srv, "carol")) {
        assertThat(next.isClosed()).isFalse(); // the server stays up and admits others
      }
    }
  }

  @Test
  void connectionFloodFromOneAddressIsRefusedWith4008OverWebSocketAnd429OverHttp() {
    try (TestServer srv = start(Map.of("limits.connections-per-address", "6"));
        Bystander bystander = Bystander.start(srv)) {
      List<RawClient> attackers = new ArrayList<>();
      try {
        for (int i = 0; i < 5; i++) { // with the bystander: 6 from 127.0.0.1
          attackers.add(RawClient.connected(srv, "mallory-" + i));
        }
        try (RawClient refused = RawClient.open(srv.wsUri())) {
          assertThat(refused.awaitClose()).isEqualTo(4008);
        }
        assertHttpTransportsRefused(srv, 429, "too-many-connections");
        bystander.assertEverythingArrived();

        // Closing one frees its place.
        attackers.remove(0).close();
        Awaitility.await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> srv.herald().hub().admitsAddress("127.0.0.1"));
        attackers.add(RawClient.connected(srv, "mallory-again"));
      } finally {
        attackers.forEach(RawClient::close);
      }
    }
  }

  /**
   * The per-address cap at its default (5,000): 5,000 sessions from one address are admitted, the
   * next is refused on every transport. Sessions are opened over long-polling, the cheapest kind to
   * open in bulk (each holds its address's place until it ends); the connect timeout is raised so
   * that none ends on its own while the test fills the cap.
   */
  @Test
  void theDefaultPerAddressCapAdmitsFiveThousandAndRefusesTheNext() throws Exception {
    try (TestServer srv = start(Map.of("connect.timeout", "300s"))) {
      int cap = srv.herald().config().hub().abuse().connectionsPerAddress();
      assertThat(cap).isEqualTo(5000);
      java.net.http.HttpClient http =
          java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      java.net.http.HttpRequest open =
          java.net.http.HttpRequest.newBuilder(
                  java.net.URI.create(srv.baseUrl() + "/connection/poll"))
              .timeout(Duration.ofSeconds(30))
              .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
              .build();
      for (int i = 0; i < cap; i++) {
        java.net.http.HttpResponse<Void> r =
            http.send(open, java.net.http.HttpResponse.BodyHandlers.discarding());
        assertThat(r.statusCode()).as("session %d of %d", i + 1, cap).isEqualTo(200);
      }
      assertHttpTransportsRefused(srv, 429, "too-many-connections");
      try (RawClient refused = RawClient.open(srv.wsUri())) {
        assertThat(refused.awaitClose()).isEqualTo(4008);
      }
    }
  }

  @Test
  void oneUserOpeningTooManyConnectionsIsRefusedWith106And4008() {
    try (TestServer srv = start(Map.of("limits.connections-per-user", "3"));
        Bystander bystander = Bystander.start(srv)) {
      List<RawClient> tabs = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          tabs.add(RawClient.connected(srv, "mallory"));
        }
        try (RawClient fourth = RawClient.open(srv.wsUri())) {
          JsonNode reply =
              fourth.request("{\"type\":\"connect\",\"token\":\"" + srv.token("mallory") + "\"}");
          assertThat(reply.path("error").path("code").asInt()).isEqualTo(106);
          assertThat(fourth.awaitClose()).isEqualTo(4008);
        }
        try (RawClient otherUser = RawClient.connected(srv, "carol")) {
          assertThat(otherUser.isClosed()).isFalse();
        }
        bystander.assertEverythingArrived();
      } finally {
        tabs.forEach(RawClient::close);
      }
    }
  }

  @Test
  void pendingHttpSessionsAreCappedWith429() {
    try (TestServer srv = start(Map.of("limits.http-sessions", "3", "connect.timeout", "60s"));
        Bystander bystander = Bystander.start(srv)) {
      List<HttpTransportClient> sessions = new ArrayList<>();
      try {
        // Opened and never connected: the cheapest way to hold server resources.
        sessions.add(HttpTransportClient.open(srv, Kind.LONG_POLLING));
        sessions.add(HttpTransportClient.open(srv, Kind.SSE));
        sessions.add(HttpTransportClient.open(srv, Kind.LONG_POLLING));
        assertHttpTransportsRefused(srv, 429, "too-many-sessions");
        bystander.assertEverythingArrived();
      } finally {
        sessions.forEach(HttpTransportClient::close);
      }
    }
  }

  /** Opening a session on either HTTP transport is refused with this status and error. */
  static void assertHttpTransportsRefused(TestServer srv, int status, String error) {
    for (Kind kind : Kind.values()) {
      assertThatThrownBy(() -> HttpTransportClient.open(srv, kind).close())
          .isInstanceOfSatisfying(
              OpenRefused.class,
              e -> {
                assertThat(e.status).isEqualTo(status);
                assertThat(e.error).isEqualTo(error);
              });
    }
  }
}
