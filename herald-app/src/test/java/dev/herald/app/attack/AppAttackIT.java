package dev.herald.app.attack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.AppTestBase;
import dev.herald.server.it.HttpTransportClient;
import dev.herald.server.it.HttpTransportClient.Kind;
import dev.herald.server.it.RawClient;
import dev.herald.server.it.attack.Bystander;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Attacks through the reference app with real session cookies, on H2 and PostgreSQL: subscribing to
 * another user's project or notification channel, CSRF with a missing or foreign token, password
 * brute force, a stolen-then-logged-out session, and a member removed from a project. Each is
 * refused with its documented code while a bystander (a project member on its own socket) keeps
 * receiving every publication in order.
 */
class AppAttackIT extends AppTestBase {

  private static Map<String, String> cookie(ApiClient user) {
    return Map.of("Cookie", "herald_session=" + user.sessionCookie());
  }

  private static RawClient socket(ApiClient user) {
    RawClient ws = RawClient.open(app.wsUri(), cookie(user), "herald.v1.json");
    JsonNode r = ws.request("{\"type\":\"connect\"}");
    assertThat(r.has("result")).as("connect: %s", r).isTrue();
    return ws;
  }

  private static long project(ApiClient owner, String members) {
    return owner
        .post("/api/projects", "{\"name\":\"Target\",\"members\":" + members + "}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  private static Bystander bystander(long project) {
    return Bystander.start(
        app.app().herald(), socket(app.login("bob")), "project:" + project + ":bystander");
  }

  private static int subscribeError(RawClient ws, String channel) {
    return ws.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}")
        .path("error")
        .path("code")
        .asInt();
  }

  @Test
  void aUserCannotSubscribeToAProjectOrNotificationsThatAreNotTheirs() {
    ApiClient alice = app.login("alice");
    long p = project(alice, "[\"bob\"]");
    try (Bystander bystander = bystander(p);
        RawClient eve = socket(app.login("eve"))) {
      assertThat(subscribeError(eve, "project:" + p)).isEqualTo(103);
      assertThat(subscribeError(eve, "project:" + p + ":bystander")).isEqualTo(103);
      assertThat(subscribeError(eve, "user:alice:notifications")).isEqualTo(103);
      assertThat(subscribeError(eve, "project:not-a-number")).isEqualTo(103);
      assertThat(subscribeError(eve, "secret")).isEqualTo(102);
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void stateChangesWithoutOrWithAForeignCsrfTokenAreRefused() {
    ApiClient alice = app.login("alice");
    ApiClient eve = app.login("eve");
    int before = alice.get("/api/projects").expect(200).json().size();
    alice.csrf(null);
    assertThat(alice.post("/api/projects", "{\"name\":\"csrf\"}").expect(403).errorCode())
        .isEqualTo("csrf_failed");
    alice.csrf(eve.csrf()); // a valid token, but of another session
    assertThat(alice.post("/api/projects", "{\"name\":\"csrf\"}").expect(403).errorCode())
        .isEqualTo("csrf_failed");
    assertThat(alice.get("/api/projects").expect(200).json().size()).isEqualTo(before);
  }

  @Test
  void oversizeRestBodiesAreRefusedWith413() {
    long p = project(app.login("alice"), "[\"bob\"]");
    try (Bystander bystander = bystander(p)) {
      ApiClient alice = app.login("alice");
      String big = "{\"name\":\"" + "x".repeat(70 * 1024) + "\"}";
      ApiClient.Response r = alice.post("/api/projects", big);
      assertThat(r.status()).isEqualTo(413);
      assertThat(r.raw().body()).contains("too large");
      ApiClient.Response login = app.anonymous().post("/api/login", big);
      assertThat(login.status()).isEqualTo(413);
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void passwordBruteForceIsThrottledWith429WithoutLockingOutOthers() {
    long p = project(app.login("alice"), "[\"bob\"]");
    try (Bystander bystander = bystander(p)) {
      ApiClient attacker = app.anonymous();
      for (int i = 0; i < 5; i++) {
        assertThat(attacker.login("dave", "guess-" + i).status()).isEqualTo(401);
      }
      ApiClient.Response refused = attacker.login("dave", "pw-dave"); // even the right password
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.errorCode()).isEqualTo("too_many_attempts");
      assertThat(refused.raw().headers().firstValue("Retry-After")).isPresent();
      // Another account from the same address is not affected.
      assertThat(app.anonymous().login("eve", "pw-eve").status()).isEqualTo(200);
      // The delay ends: the real user gets in (refused attempts do not extend it).
      ApiClient dave = app.anonymous();
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(300))
          .until(() -> dave.login("dave", "pw-dave").status() == 200);
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void logoutEndsThatSessionsLiveConnectionsOnEveryTransportWith4501() {
    long p = project(app.login("alice"), "[\"bob\"]");
    ApiClient alice = app.login("alice");
    ApiClient aliceElsewhere = app.login("alice");
    try (Bystander bystander = bystander(p);
        RawClient ws = socket(alice);
        RawClient other = socket(aliceElsewhere);
        HttpTransportClient poll =
            HttpTransportClient.open(app.baseUrl(), Kind.LONG_POLLING, cookie(alice));
        HttpTransportClient sse =
            HttpTransportClient.open(app.baseUrl(), Kind.SSE, cookie(alice))) {
      for (HttpTransportClient h : new HttpTransportClient[] {poll, sse}) {
        assertThat(h.request("{\"type\":\"connect\"}").has("result")).isTrue();
      }
      String stolenCookie = alice.sessionCookie();
      alice.post("/api/logout", null).expect(204);

      assertThat(ws.awaitType("disconnect").path("code").asInt()).isEqualTo(4501);
      assertThat(ws.awaitClose()).isEqualTo(4501);
      for (HttpTransportClient h : new HttpTransportClient[] {poll, sse}) {
        JsonNode d = h.awaitType("disconnect");
        assertThat(d.path("code").asInt()).isEqualTo(4501);
        assertThat(d.path("reconnect").asBoolean()).isFalse();
      }
      // The other login session of the same user is untouched.
      other.send("{\"type\":\"ping\"}");
      assertThat(other.awaitType("pong")).isNotNull();
      // The old cookie opens nothing any more.
      try (RawClient replay =
          RawClient.open(
              app.wsUri(), Map.of("Cookie", "herald_session=" + stolenCookie), "herald.v1.json")) {
        JsonNode r = replay.request("{\"type\":\"connect\"}");
        assertThat(r.path("error").path("code").asInt()).isEqualTo(101);
        assertThat(replay.awaitClose()).isEqualTo(4500);
      }
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void aRemovedMemberLosesTheProjectSubscriptionAtOnce() {
    ApiClient alice = app.login("alice");
    ApiClient dave = app.login("dave");
    long p = project(alice, "[\"bob\",\"dave\"]");
    String channel = "project:" + p;
    try (Bystander bystander = bystander(p);
        RawClient d = socket(dave)) {
      assertThat(
              d.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}").has("result"))
          .isTrue();
      alice.delete("/api/projects/" + p + "/members/dave").expect(200);

      JsonNode u =
          d.await(
              m ->
                  m.path("type").asText().equals("unsubscribed")
                      && m.path("channel").asText().equals(channel));
      assertThat(u.path("code").asInt()).isEqualTo(103);
      // Publications queued before the revocation (such as the membership change itself) may
      // precede it; nothing may follow it.
      d.takeReceived(m -> m.path("type").asText().equals("pub"));
      // Subscribing again is refused, and later publications do not reach the removed member.
      assertThat(subscribeError(d, channel)).isEqualTo(103);
      app.app().herald().publish(channel, "{\"marker\":true}").join();
      d.send("{\"type\":\"ping\"}");
      d.awaitType("pong");
      assertThat(
              d.takeReceived(
                  m ->
                      m.path("type").asText().equals("pub")
                          && m.path("channel").asText().equals(channel)))
          .isEmpty();
      bystander.assertEverythingArrived();
    }
  }
}
