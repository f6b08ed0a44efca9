package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.AppTestBase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * Every REST endpoint refuses outsiders: no session gives 401, a user who may not see a project
 * gets 404 for it and everything in it (and for other people's notifications), a state-changing
 * request without the CSRF token gets 403. The route table is checked against the routes ApiRouter
 * registers, so a new route cannot slip in untested.
 */
class AuthorizationIT extends AppTestBase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger REFS = new AtomicInteger();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /** What a route touches, which decides what an outsider gets. */
  enum Scope {
    /** Needs no session (login). */
    OPEN,
    /** The caller's own data (session, own notifications, project list, new project). */
    OWN,
    /** A project or something in it (item, activity, reply, member). */
    PROJECT,
    /** Someone else's notification. */
    FOREIGN_NOTIFICATION
  }

  /**
   * One route with concrete ids and a valid body, so that refusals come from access rules rather
   * than validation; {@code ownStatus} is what a logged-in outsider gets for an OWN route.
   */
  record Call(String method, String route, String path, String body, Scope scope, int ownStatus) {
    String key() {
      return method + " " + route;
    }

    boolean changesState() {
      return !method.equals("GET");
    }
  }

  /**
   * A project of alice and bob, with an item, alice's post mentioning bob, bob's reply, and bob's
   * notification.
   */
  record Fixture(long project, long item, long activity, long reply, long bobsNotification) {}

  private Fixture fixture() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p =
        alice
            .post("/api/projects", "{\"name\":\"Secret plans\",\"members\":[\"bob\"]}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    long item =
        alice
            .post("/api/projects/" + p + "/items", itemBody())
            .expect(201)
            .json()
            .get("id")
            .asLong();
    long a =
        alice
            .post("/api/projects/" + p + "/activities", "{\"message\":\"@bob have a look\"}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    long r =
        bob.post("/api/activities/" + a + "/replies", "{\"message\":\"On it\"}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    long n = -1;
    for (JsonNode x : bob.get("/api/notifications?limit=100").expect(200).json().get("items")) {
      if (x.get("link").asText().equals("/projects/" + p + "#activity-" + a)) {
        n = x.get("id").asLong();
      }
    }
    assertThat(n).as("bob's mention notification").isPositive();
    return new Fixture(p, item, a, r, n);
  }

  private static String itemBody() {
    return "{\"contentRef\":\"page/authz"
        + REFS.incrementAndGet()
        + "\",\"contentVersion\":1,\"title\":\"Plan\",\"type\":\"page\"}";
  }

  /** Every route of ApiRouter, with real ids from the fixture. */
  private static List<Call> routes(Fixture f) {
    String p = "/api/projects/" + f.project();
    String msg = "{\"message\":\"let me in\"}";
    String at = "{\"at\":\"" + OffsetDateTime.now().plusDays(2) + "\"}";
    List<Call> c = new ArrayList<>();
    c.add(
        new Call(
            "POST",
            "/api/login",
            "/api/login",
            "{\"username\":\"eve\",\"password\":\"pw-eve\"}",
            Scope.OPEN,
            200));
    c.add(new Call("POST", "/api/logout", "/api/logout", null, Scope.OWN, 204));
    c.add(new Call("GET", "/api/me", "/api/me", null, Scope.OWN, 200));
    c.add(new Call("GET", "/api/users", "/api/users?q=b", null, Scope.OWN, 200));
    // the admin console: admins only (AdminIT and AdminConsoleIT cover the admin side)
    c.add(new Call("GET", "/api/admin/stats", "/api/admin/stats", null, Scope.OWN, 403));
    c.add(new Call("GET", "/api/admin/nodes", "/api/admin/nodes", null, Scope.OWN, 403));
    c.add(
        new Call(
            "GET",
            "/api/admin/users/:userId/connections",
            "/api/admin/users/bob/connections",
            null,
            Scope.OWN,
            403));
    c.add(
        new Call(
            "POST",
            "/api/admin/users/:userId/disconnect",
            "/api/admin/users/bob/disconnect",
            null,
            Scope.OWN,
            403));
    c.add(
        new Call(
            "POST",
            "/api/admin/connections/:connectionId/disconnect",
            "/api/admin/connections/c-1/disconnect",
            null,
            Scope.OWN,
            403));
    c.add(
        new Call(
            "GET",
            "/api/admin/channels/:channel",
            "/api/admin/channels/project:" + f.project(),
            null,
            Scope.OWN,
            403));
    c.add(
        new Call(
            "POST",
            "/api/admin/publish",
            "/api/admin/publish",
            "{\"channel\":\"project:" + f.project() + "\",\"data\":{}}",
            Scope.OWN,
            403));
    c.add(new Call("GET", "/api/projects", "/api/projects", null, Scope.OWN, 200));
    c.add(
        new Call(
            "POST", "/api/projects", "/api/projects", "{\"name\":\"Eve's own\"}", Scope.OWN, 201));
    c.add(new Call("GET", "/api/projects/:id", p, null, Scope.PROJECT, 0));
    c.add(new Call("GET", "/api/projects/:id/snapshot", p + "/snapshot", null, Scope.PROJECT, 0));
    c.add(
        new Call(
            "GET", "/api/projects/:id/changes", p + "/changes?since=0", null, Scope.PROJECT, 0));
    c.add(
        new Call(
            "POST",
            "/api/projects/:id/members",
            p + "/members",
            "{\"userId\":\"eve\"}",
            Scope.PROJECT,
            0));
    c.add(
        new Call(
            "DELETE",
            "/api/projects/:id/members/:userId",
            p + "/members/bob",
            null,
            Scope.PROJECT,
            0));
    c.add(new Call("GET", "/api/projects/:id/items", p + "/items", null, Scope.PROJECT, 0));
    c.add(new Call("POST", "/api/projects/:id/items", p + "/items", itemBody(), Scope.PROJECT, 0));
    c.add(
        new Call(
            "DELETE",
            "/api/projects/:id/items/:itemId",
            p + "/items/" + f.item(),
            null,
            Scope.PROJECT,
            0));
    c.add(
        new Call(
            "POST",
            "/api/projects/:id/items/:itemId/ready",
            p + "/items/" + f.item() + "/ready",
            null,
            Scope.PROJECT,
            0));
    c.add(
        new Call(
            "POST",
            "/api/projects/:id/items/:itemId/reject",
            p + "/items/" + f.item() + "/reject",
            "{\"reason\":\"no\"}",
            Scope.PROJECT,
            0));
    c.add(new Call("POST", "/api/projects/:id/publish", p + "/publish", null, Scope.PROJECT, 0));
    c.add(new Call("POST", "/api/projects/:id/schedule", p + "/schedule", at, Scope.PROJECT, 0));
    c.add(
        new Call("DELETE", "/api/projects/:id/schedule", p + "/schedule", null, Scope.PROJECT, 0));
    c.add(
        new Call("GET", "/api/projects/:id/activities", p + "/activities", null, Scope.PROJECT, 0));
    c.add(
        new Call(
            "POST",
            "/api/projects/:id/activities",
            p + "/activities",
            "{\"message\":\"hi\",\"itemId\":" + f.item() + "}",
            Scope.PROJECT,
            0));
    c.add(
        new Call(
            "PATCH",
            "/api/activities/:id",
            "/api/activities/" + f.activity(),
            msg,
            Scope.PROJECT,
            0));
    c.add(
        new Call(
            "DELETE",
            "/api/activities/:id",
            "/api/activities/" + f.activity(),
            null,
            Scope.PROJECT,
            0));
    c.add(
        new Call(
            "POST",
            "/api/activities/:id/replies",
            "/api/activities/" + f.activity() + "/replies",
            msg,
            Scope.PROJECT,
            0));
    c.add(
        new Call("PATCH", "/api/replies/:id", "/api/replies/" + f.reply(), msg, Scope.PROJECT, 0));
    c.add(
        new Call(
            "DELETE", "/api/replies/:id", "/api/replies/" + f.reply(), null, Scope.PROJECT, 0));
    c.add(new Call("GET", "/api/notifications", "/api/notifications", null, Scope.OWN, 200));
    c.add(
        new Call(
            "GET",
            "/api/notifications/unread-count",
            "/api/notifications/unread-count",
            null,
            Scope.OWN,
            200));
    c.add(
        new Call(
            "GET",
            "/api/notifications/changes",
            "/api/notifications/changes?since=0",
            null,
            Scope.OWN,
            200));
    c.add(
        new Call(
            "POST",
            "/api/notifications/read-all",
            "/api/notifications/read-all",
            null,
            Scope.OWN,
            200));
    c.add(
        new Call(
            "POST",
            "/api/notifications/:id/read",
            "/api/notifications/" + f.bobsNotification() + "/read",
            null,
            Scope.FOREIGN_NOTIFICATION,
            0));
    return c;
  }

  /** The routes ApiRouter registers, read from its source: "METHOD /path". */
  private static Set<String> registeredRoutes() throws IOException {
    Path source = Path.of("src/main/java/dev/herald/app/web/ApiRouter.java");
    if (!Files.exists(source)) {
      source = Path.of("herald-app").resolve(source);
    }
    String text = Files.readString(source);
    Matcher m = Pattern.compile("router\\s*\\.\\s*(\\w+)\\s*\\(\\s*\"([^\"]*)\"").matcher(text);
    Set<String> out = new TreeSet<>();
    while (m.find()) {
      if (m.group(1).equals("route") && m.group(2).equals("/api/*")) {
        continue; // the body handler and the catch-all 404
      }
      out.add(m.group(1).toUpperCase() + " " + m.group(2));
    }
    assertThat(text)
        .as("routes registered another way would escape this test")
        .doesNotContain("routeWithRegex")
        .doesNotContainPattern("\\.method\\(\\s*HttpMethod")
        .doesNotContainPattern("router\\s*\\.\\s*route\\s*\\(\\s*\\)");
    return out;
  }

  @Test
  void theRouteTableCoversEveryRegisteredRoute() throws IOException {
    Set<String> registered = registeredRoutes();
    Set<String> table =
        routes(new Fixture(1, 2, 3, 4, 5)).stream()
            .map(Call::key)
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(registered)
        .as("ApiRouter registers at least the known routes")
        .hasSizeGreaterThanOrEqualTo(31);
    assertThat(table)
        .as("routes registered in ApiRouter but missing from this test's table")
        .containsAll(registered);
    assertThat(registered)
        .as("routes in this test's table that ApiRouter does not register")
        .containsAll(table);
    assertThat(routes(new Fixture(1, 2, 3, 4, 5))).as("no duplicates").hasSameSizeAs(table);
  }

  @Test
  void withoutASessionEveryRouteButLoginIs401() {
    Fixture f = fixture();
    ApiClient bob = app.login("bob");
    String stale = bob.sessionCookie();
    bob.post("/api/logout", null).expect(204);
    SoftAssertions soft = new SoftAssertions();
    for (Call c : routes(f)) {
      if (c.scope() == Scope.OPEN) {
        continue;
      }
      for (String cookie :
          new String[] {null, "herald_session=forged", "herald_session=" + stale}) {
        Raw r = raw(c, cookie, null);
        soft.assertThat(r.status())
            .as("%s with cookie %s: %s", c.key(), cookie, r.body())
            .isEqualTo(401);
        soft.assertThat(r.errorCode())
            .as("%s with cookie %s", c.key(), cookie)
            .isEqualTo("unauthorized");
      }
    }
    soft.assertAll();
    Call login = routes(f).get(0);
    assertThat(raw(login, null, null).status()).as("login is open").isEqualTo(200);
    assertThat(
            raw(
                    new Call(
                        "POST",
                        "/api/login",
                        "/api/login",
                        "{\"username\":\"eve\",\"password\":\"nope\"}",
                        Scope.OPEN,
                        0),
                    null,
                    null)
                .errorCode())
        .isEqualTo("invalid_credentials");
    assertUntouched(f);
  }

  @Test
  void aUserWhoMayNotSeeTheProjectGets404ForEverythingInIt() {
    Fixture f = fixture();
    ApiClient eve = app.login("eve");
    SoftAssertions soft = new SoftAssertions();
    for (Call c : routes(f)) {
      if (c.scope() == Scope.OPEN) {
        continue;
      }
      ApiClient client =
          c.route().equals("/api/logout") ? app.login("eve") : eve; // keep eve's main session
      ApiClient.Response r = send(client, c);
      int expected = c.scope() == Scope.OWN ? c.ownStatus() : 404;
      soft.assertThat(r.status()).as("%s as eve: %s", c.key(), r.raw().body()).isEqualTo(expected);
      if (expected == 404) {
        soft.assertThat(r.errorCode()).as("%s as eve", c.key()).isEqualTo("not_found");
      }
    }
    soft.assertAll();

    // The 404 does not tell a hidden project from a missing one.
    ApiClient.Response hidden = eve.get("/api/projects/" + f.project());
    ApiClient.Response missing = eve.get("/api/projects/" + (f.project() + 1_000_000));
    assertThat(hidden.status()).isEqualTo(missing.status());
    assertThat(hidden.errorCode()).isEqualTo(missing.errorCode());
    assertThat(
            hidden
                .json()
                .get("error")
                .get("message")
                .asText()
                .replace(String.valueOf(f.project()), "#"))
        .isEqualTo(
            missing
                .json()
                .get("error")
                .get("message")
                .asText()
                .replace(String.valueOf(f.project() + 1_000_000), "#"));

    // Eve's own lists show nothing of the project or of bob's notifications.
    assertThat(eve.get("/api/projects").json())
        .extracting(p -> p.get("id").asLong())
        .doesNotContain(f.project());
    assertThat(eve.get("/api/notifications?limit=100").json().get("items"))
        .extracting(n -> n.get("id").asLong())
        .doesNotContain(f.bobsNotification());
    for (JsonNode change :
        eve.get("/api/notifications/changes?since=0").expect(200).json().get("changes")) {
      assertThat(change.get("type").asText() + "/" + change.get("id").asText())
          .isNotEqualTo("notification/" + f.bobsNotification());
    }
    assertThat(eve.get("/api/users?q=b").json())
        .extracting(u -> u.get("id").asText())
        .contains("bob");
    assertUntouched(f);

    // The notification is real: bob himself can mark it read.
    app.login("bob").post("/api/notifications/" + f.bobsNotification() + "/read", null).expect(204);
  }

  @Test
  void stateChangingRoutesWithoutTheCsrfTokenAre403() throws IOException {
    Fixture f = fixture();
    ApiClient alice = app.login("alice");
    String token = alice.csrf();
    SoftAssertions soft = new SoftAssertions();
    int checked = 0;
    for (Call c : routes(f)) {
      if (!c.changesState() || c.scope() == Scope.OPEN) {
        continue;
      }
      checked++;
      for (String csrf : new String[] {null, "forged", ""}) {
        alice.csrf(csrf);
        ApiClient.Response r = send(alice, c);
        soft.assertThat(r.status())
            .as("%s with CSRF token %s: %s", c.key(), csrf, r.raw().body())
            .isEqualTo(403);
        soft.assertThat(r.errorCode())
            .as("%s with CSRF token %s", c.key(), csrf)
            .isEqualTo("csrf_failed");
      }
    }
    // Another session's token does not do either.
    alice.csrf(app.login("alice").csrf());
    soft.assertThat(send(alice, routes(f).get(1)).status())
        .as("logout with another session's token")
        .isEqualTo(403);
    soft.assertAll();
    long stateChanging =
        registeredRoutes().stream()
            .filter(r -> !r.startsWith("GET ") && !r.equals("POST /api/login"))
            .count();
    assertThat(checked).as("every state-changing route was tried").isEqualTo(stateChanging);

    alice.csrf(token);
    alice.get("/api/me").expect(200);
    assertUntouched(f);
    assertThat(
            raw(
                    new Call("GET", "/api/me", "/api/me", null, Scope.OWN, 200),
                    "herald_session=" + alice.sessionCookie(),
                    null)
                .status())
        .as("GET needs no token")
        .isEqualTo(200);
  }

  @Test
  void anAdminMaySeeEveryProject() {
    Fixture f = fixture();
    ApiClient carol = app.login("carol");
    SoftAssertions soft = new SoftAssertions();
    for (Call c : routes(f)) {
      if (c.scope() == Scope.PROJECT && !c.changesState()) {
        ApiClient.Response r = send(carol, c);
        soft.assertThat(r.status()).as("%s as admin: %s", c.key(), r.raw().body()).isEqualTo(200);
      }
    }
    soft.assertAll();
    assertThat(carol.get("/api/projects").json())
        .extracting(p -> p.get("id").asLong())
        .contains(f.project());
    assertThat(
            carol
                .get("/api/projects/" + f.project() + "/snapshot")
                .json()
                .get("project")
                .get("name")
                .asText())
        .isEqualTo("Secret plans");
    carol
        .post("/api/projects/" + f.project() + "/activities", "{\"message\":\"Admin was here\"}")
        .expect(201);
    carol.post("/api/notifications/" + f.bobsNotification() + "/read", null).expect(404);
  }

  /** Nothing the refused requests aimed at has changed. */
  private void assertUntouched(Fixture f) {
    ApiClient alice = app.login("alice");
    JsonNode project = alice.get("/api/projects/" + f.project()).expect(200).json();
    assertThat(project.get("members")).extracting(JsonNode::asText).containsExactly("alice", "bob");
    assertThat(project.get("status").asText()).isEqualTo("active");
    JsonNode items = alice.get("/api/projects/" + f.project() + "/items").expect(200).json();
    assertThat(items).hasSize(1);
    assertThat(items.get(0).get("status").asText()).isEqualTo("draft");
    assertThat(items.get(0).get("version").asLong()).isEqualTo(1);
    JsonNode feed = alice.get("/api/projects/" + f.project() + "/activities").expect(200).json();
    JsonNode post = null;
    for (JsonNode a : feed) {
      assertThat(a.get("author").asText(null)).as("no outsider posted").isNotEqualTo("eve");
      if (a.get("id").asLong() == f.activity()) {
        post = a;
      }
    }
    assertThat(post).isNotNull();
    assertThat(post.get("message").asText()).isEqualTo("@bob have a look");
    assertThat(post.get("replies")).hasSize(1);
    assertThat(post.get("replies").get(0).get("message").asText()).isEqualTo("On it");
    JsonNode bobs = null;
    for (JsonNode n : app.login("bob").get("/api/notifications?limit=100").json().get("items")) {
      if (n.get("id").asLong() == f.bobsNotification()) {
        bobs = n;
      }
    }
    assertThat(bobs).isNotNull();
    assertThat(bobs.get("read").asBoolean()).as("bob's notification is still unread").isFalse();
  }

  private static ApiClient.Response send(ApiClient client, Call c) {
    switch (c.method()) {
      case "GET":
        return client.get(c.path());
      case "POST":
        return client.post(c.path(), c.body());
      case "PATCH":
        return client.patch(c.path(), c.body());
      case "DELETE":
        return client.delete(c.path());
      default:
        throw new IllegalArgumentException(c.method());
    }
  }

  record Raw(int status, String body) {
    String errorCode() {
      try {
        return JSON.readTree(body).path("error").path("code").asText(null);
      } catch (IOException e) {
        return null;
      }
    }
  }

  /** A request with exactly the given Cookie and CSRF headers (no cookie jar). */
  private static Raw raw(Call c, String cookie, String csrf) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(app.baseUrl() + c.path()))
            .timeout(Duration.ofSeconds(20))
            .header("Content-Type", "application/json")
            .method(
                c.method(),
                c.body() == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(c.body()));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    if (csrf != null) {
      b.header("X-CSRF-Token", csrf);
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Raw(r.statusCode(), r.body());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
