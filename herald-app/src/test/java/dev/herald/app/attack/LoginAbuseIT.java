package dev.herald.app.attack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.TestApp;
import dev.herald.core.testkit.ManualScheduler;
import dev.herald.server.it.RawClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Abuse of the login and session machinery, each test on a freshly started app (H2): locking a user
 * out on purpose, a shared address throttling everybody, a parallel burst slipping past the
 * throttle, a login over an old session, server-side session expiry, and how secrets are stored.
 */
class LoginAbuseIT {
  private TestApp app;

  /**
   * The app's and the hub's time: throttle delays and session lifetimes pass only when a test
   * advances it, so a slow machine cannot let a delay run out between two requests.
   */
  private final ManualScheduler time = new ManualScheduler(Instant.now());

  private TestApp start(Map<String, String> extra) {
    Map<String, String> config = TestApp.config(TestApp.Db.H2);
    config.putAll(extra);
    app =
        TestApp.start(
            TestApp.Db.H2, config, dev.herald.app.projects.ContentPublisher.alwaysSucceeds(), time);
    return app;
  }

  @AfterEach
  void stop() {
    if (app != null) {
      app.close();
    }
  }

  private static RawClient socket(TestApp app, String sessionCookie) {
    RawClient ws =
        RawClient.open(
            app.wsUri(), Map.of("Cookie", "herald_session=" + sessionCookie), "herald.v1.json");
    JsonNode r = ws.request("{\"type\":\"connect\"}");
    assertThat(r.has("result")).as("connect: %s", r).isTrue();
    return ws;
  }

  /** GET /api/me with exactly this session cookie (whatever the client's cookie store holds). */
  private static int me(TestApp app, String sessionCookie) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(app.baseUrl() + "/api/me"))
                .header("Cookie", "herald_session=" + sessionCookie)
                .timeout(Duration.ofSeconds(20))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static long retryAfter(ApiClient.Response r) {
    return Long.parseLong(r.raw().headers().firstValue("Retry-After").orElseThrow());
  }

  @Test
  void anAttackerFailingOnPurposeDoesNotKeepTheRealUserOut() {
    start(Map.of());
    ApiClient daveBrowser = app.anonymous();
    daveBrowser.login("dave", "pw-dave").expect(200); // the browser now holds a device cookie
    daveBrowser.post("/api/logout", null).expect(204);

    ApiClient attacker = app.anonymous();
    for (int i = 0; i < 5; i++) {
      attacker.login("dave", "guess-" + i).expect(401);
    }
    ApiClient.Response refused = attacker.login("dave", "guess-5");
    assertThat(refused.status()).isEqualTo(429);

    // A browser that never logged in to the account gets the documented delay only.
    ApiClient.Response fresh = app.anonymous().login("dave", "pw-dave");
    assertThat(fresh.status()).isEqualTo(429);
    assertThat(fresh.errorCode()).isEqualTo("too_many_attempts");
    assertThat(retryAfter(fresh)).isBetween(1L, 60L);

    // The real user's browser gets in at once, though the attack is still being answered with 429.
    daveBrowser.login("dave", "pw-dave").expect(200);
    assertThat(attacker.login("dave", "guess-6").status()).isEqualTo(429);
    // A wrong password from the real user's browser is just a wrong password.
    daveBrowser.login("dave", "typo").expect(401);
  }

  @Test
  void failuresFromASharedAddressDoNotKeepOutUsersWhoLoggedInBefore() {
    start(Map.of("app.login.max-failures-per-address", "10"));
    ApiClient eveBrowser = app.anonymous();
    eveBrowser.login("eve", "pw-eve").expect(200);

    // Someone behind the same address (127.0.0.1 for everybody here) tries many accounts.
    ApiClient stuffer = app.anonymous();
    for (int i = 0; i < 10; i++) {
      stuffer.login("nobody-" + i, "password").expect(401);
    }
    ApiClient.Response next = stuffer.login("nobody-else", "password");
    assertThat(next.status()).isEqualTo(429);
    assertThat(retryAfter(next)).isBetween(1L, 60L);

    // Eve's browser is not held back by what others did from the shared address.
    eveBrowser.login("eve", "pw-eve").expect(200);
  }

  @Test
  void aParallelBurstOfWrongPasswordsIsCountedAttemptByAttempt() throws Exception {
    start(Map.of());
    int n = 20;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int guess = i;
        results.add(
            pool.submit(
                () -> {
                  ApiClient c = app.anonymous();
                  go.await();
                  return c.login("dave", "guess-" + guess).status();
                }));
      }
      go.countDown();
      List<Integer> statuses = new ArrayList<>();
      for (Future<Integer> f : results) {
        statuses.add(f.get());
      }
      // Exactly the threshold's worth of passwords were checked; every other attempt was refused.
      assertThat(statuses.stream().filter(s -> s == 401).count()).as("%s", statuses).isEqualTo(5);
      assertThat(statuses.stream().filter(s -> s == 429).count()).as("%s", statuses).isEqualTo(15);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void loggingInOverAnOldSessionEndsItAndItsLiveConnections() throws Exception {
    start(Map.of());
    ApiClient alice = app.login("alice");
    String before = alice.sessionCookie();
    try (RawClient ws = socket(app, before)) {
      alice.login("alice", "pw-alice").expect(200);
      assertThat(alice.sessionCookie()).isNotEqualTo(before);
      assertThat(ws.awaitType("disconnect").path("code").asInt()).isEqualTo(4501);
      assertThat(ws.awaitClose()).isEqualTo(4501);
      assertThat(me(app, before)).isEqualTo(401);
      assertThat(me(app, alice.sessionCookie())).isEqualTo(200);
    }
  }

  @Test
  void aSessionPastItsLifetimeIsRefusedAndItsLiveConnectionCloses() throws Exception {
    start(Map.of("app.session-ttl", "3s"));
    ApiClient alice = app.login("alice");
    String cookie = alice.sessionCookie();
    assertThat(me(app, cookie)).isEqualTo(200);
    try (RawClient ws = socket(app, cookie)) {
      time.advance(Duration.ofMillis(2999));
      assertThat(me(app, cookie)).as("a millisecond before its end").isEqualTo(200);
      JsonNode live = ws.request("{\"type\":\"subscribe\",\"channel\":\"user:alice\"}");
      assertThat(live.has("result")).as("still open: %s", live).isTrue();
      time.advance(Duration.ofMillis(1));
      assertThat(ws.awaitClose()).isEqualTo(4005);
    }
    // The server refuses the session by itself, whatever the browser still sends.
    assertThat(me(app, cookie)).isEqualTo(401);
  }

  @Test
  void passwordsAreArgon2idWithTheDocumentedParametersAndSessionsAreStoredHashed() {
    start(Map.of());
    ApiClient alice = app.login("alice");
    String hash =
        app.app()
            .db()
            .read(
                h ->
                    h.createQuery("SELECT password_hash FROM users WHERE id = 'alice'")
                        .mapTo(String.class)
                        .one());
    assertThat(hash).startsWith("$argon2id$v=19$m=19456,t=2,p=1$");
    List<String> stored =
        app.app()
            .db()
            .read(
                h ->
                    h.createQuery("SELECT token_hash FROM sessions WHERE user_id = 'alice'")
                        .mapTo(String.class)
                        .list());
    assertThat(stored).isNotEmpty().doesNotContain(alice.sessionCookie());
    assertThat(stored).allSatisfy(s -> assertThat(s).doesNotContain(alice.sessionCookie()));
  }

  @Test
  void overLongUserNamesAre400() {
    start(Map.of());
    ApiClient.Response r = app.anonymous().login("a".repeat(201), "x");
    assertThat(r.status()).isEqualTo(400);
  }
}
