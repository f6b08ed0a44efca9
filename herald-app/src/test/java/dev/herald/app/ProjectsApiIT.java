package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.AppTestBase;
import java.time.OffsetDateTime;
import org.junit.jupiter.api.Test;

/** Projects, items and publishing through the REST API: rules, status codes and bodies. */
class ProjectsApiIT extends AppTestBase {

  private long newProject(ApiClient c, String name, String members) {
    return c.post(
            "/api/projects",
            "{\"name\":\"" + name + "\",\"description\":\"d\",\"members\":" + members + "}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  private long addItem(ApiClient c, long project, String ref, int version) {
    return c.post(
            "/api/projects/" + project + "/items",
            "{\"contentRef\":\""
                + ref
                + "\",\"contentVersion\":"
                + version
                + ",\"title\":\"T "
                + ref
                + "\",\"type\":\"page\"}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  @Test
  void createListAndGetAProject() {
    ApiClient alice = app.login("alice");
    long id = newProject(alice, "Launch", "[\"bob\"]");
    JsonNode p = alice.get("/api/projects/" + id).expect(200).json();
    assertThat(p.get("name").asText()).isEqualTo("Launch");
    assertThat(p.get("status").asText()).isEqualTo("active");
    assertThat(p.get("createdBy").asText()).isEqualTo("alice");
    assertThat(p.get("members")).extracting(JsonNode::asText).containsExactly("alice", "bob");
    assertThat(p.get("counts").get("draft").asInt()).isZero();
    assertThat(app.login("bob").get("/api/projects").expect(200).json())
        .extracting(n -> n.get("id").asLong())
        .contains(id);
    assertThat(app.login("eve").get("/api/projects").expect(200).json())
        .extracting(n -> n.get("id").asLong())
        .doesNotContain(id);
    assertThat(app.login("carol").get("/api/projects/" + id).status())
        .as("admins see every project")
        .isEqualTo(200);
  }

  @Test
  void validationErrorsNameTheFields() {
    ApiClient alice = app.login("alice");
    ApiClient.Response r =
        alice.post("/api/projects", "{\"name\":\"\",\"members\":[\"nobody\"]}").expect(400);
    assertThat(r.errorCode()).isEqualTo("validation_failed");
    assertThat(r.json().get("error").get("fields").has("name")).isTrue();
    assertThat(r.json().get("error").get("fields").get("members").asText()).contains("nobody");
    long id = newProject(alice, "V", "[]");
    ApiClient.Response item =
        alice
            .post(
                "/api/projects/" + id + "/items",
                "{\"contentRef\":\"bad ref\",\"contentVersion\":0,\"type\":\"video\"}")
            .expect(400);
    assertThat(item.json().get("error").get("fields")).extracting(n -> n.asText()).hasSize(4);
    alice.post("/api/projects/" + id + "/items", "not json").expect(400);
    alice.post("/api/projects/" + id + "/items", "{\"contentVersion\":\"three\"}").expect(400);
  }

  @Test
  void itemLifecycleAndCounts() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "Items", "[\"bob\"]");
    long item = addItem(alice, p, "page/100", 1);
    JsonNode ready =
        alice.post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(200).json();
    assertThat(ready.get("status").asText()).isEqualTo("ready");
    assertThat(ready.get("version").asLong()).isEqualTo(2);
    alice.post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(409);
    ApiClient bob = app.login("bob");
    JsonNode rejected =
        bob.post("/api/projects/" + p + "/items/" + item + "/reject", "{\"reason\":\"Too long.\"}")
            .expect(200)
            .json();
    assertThat(rejected.get("status").asText()).isEqualTo("rejected");
    assertThat(rejected.get("changedBy").asText()).isEqualTo("bob");
    assertThat(alice.get("/api/projects/" + p).json().get("counts").get("rejected").asInt())
        .isEqualTo(1);
    alice.delete("/api/projects/" + p + "/items/" + item).expect(204);
    assertThat(alice.get("/api/projects/" + p + "/items").json()).isEmpty();
    alice.delete("/api/projects/" + p + "/items/" + item).expect(404);
  }

  @Test
  void aVersionBelongsToAtMostOneProject() {
    ApiClient alice = app.login("alice");
    long a = newProject(alice, "A", "[]");
    long b = newProject(alice, "B", "[]");
    addItem(alice, a, "page/200", 3);
    ApiClient.Response r =
        alice
            .post(
                "/api/projects/" + b + "/items",
                "{\"contentRef\":\"page/200\",\"contentVersion\":3,\"title\":\"x\",\"type\":\"page\"}")
            .expect(409);
    assertThat(r.json().get("error").get("message").asText()).contains("create a new draft");
    addItem(alice, b, "page/200", 4);
  }

  @Test
  void publishingPublishesReadyItemsAndRefusesWhenNoneIsReady() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "Pub", "[]");
    long i1 = addItem(alice, p, "page/300", 1);
    long i2 = addItem(alice, p, "block/300", 1);
    ApiClient.Response refused = alice.post("/api/projects/" + p + "/publish", null).expect(409);
    assertThat(refused.json().get("error").get("message").asText())
        .contains("no item")
        .contains("ready to publish");
    alice.post("/api/projects/" + p + "/items/" + i1 + "/ready", null).expect(200);
    JsonNode published = alice.post("/api/projects/" + p + "/publish", null).expect(200).json();
    assertThat(published.get("status").asText()).isEqualTo("active");
    assertThat(published.get("counts").get("published").asInt()).isEqualTo(1);
    assertThat(published.get("counts").get("draft").asInt()).isEqualTo(1);
    JsonNode items = alice.get("/api/projects/" + p + "/items").json();
    assertThat(items.get(0).get("status").asText()).isEqualTo("published");
    assertThat(items.get(1).get("id").asLong()).isEqualTo(i2);
    alice
        .post("/api/projects/" + p + "/items/" + i1 + "/reject", "{\"reason\":\"Too long.\"}")
        .expect(409);
    alice.delete("/api/projects/" + p + "/items/" + i1).expect(409);
  }

  @Test
  void publishingInterruptedByAStopIsRepairedAtStartup() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "Interrupted", "[\"bob\"]");
    long i = addItem(alice, p, "page/600", 1);
    alice.post("/api/projects/" + p + "/items/" + i + "/ready", null).expect(200);
    // What a process that died between the two publishing transactions leaves behind:
    app.app()
        .db()
        .write(
            h ->
                h.createUpdate("UPDATE projects SET status = 'publishing' WHERE id = :p")
                    .bind("p", p)
                    .execute());
    alice.post("/api/projects/" + p + "/publish", null).expect(409);
    assertThat(app.app().projects().repairInterruptedPublishing()).isEqualTo(1);
    JsonNode repaired = alice.get("/api/projects/" + p).expect(200).json();
    assertThat(repaired.get("status").asText()).isEqualTo("publish_failed");
    assertThat(
            app.login("bob")
                .get("/api/notifications")
                .json()
                .get("items")
                .get(0)
                .get("kind")
                .asText())
        .isEqualTo("publish_failed");
    assertThat(
            alice
                .post("/api/projects/" + p + "/publish", null)
                .expect(200)
                .json()
                .get("status")
                .asText())
        .isEqualTo("active");
  }

  @Test
  void removingSomeoneWhoIsNotAMemberIs404() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "Members", "[\"bob\"]");
    alice.delete("/api/projects/" + p + "/members/dave").expect(404);
    alice.delete("/api/projects/" + p + "/members/bob").expect(200);
    alice.delete("/api/projects/" + p + "/members/alice").expect(409);
  }

  @Test
  void scheduleAndUnschedule() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "Sched", "[]");
    long i = addItem(alice, p, "page/400", 1);
    String at = OffsetDateTime.now().plusDays(1).toString();
    alice.post("/api/projects/" + p + "/schedule", "{\"at\":\"" + at + "\"}").expect(409);
    alice.post("/api/projects/" + p + "/items/" + i + "/ready", null).expect(200);
    alice.post("/api/projects/" + p + "/schedule", "{\"at\":\"yesterday\"}").expect(400);
    alice
        .post(
            "/api/projects/" + p + "/schedule",
            "{\"at\":\"" + OffsetDateTime.now().minusHours(1) + "\"}")
        .expect(400);
    JsonNode s =
        alice
            .post("/api/projects/" + p + "/schedule", "{\"at\":\"" + at + "\"}")
            .expect(200)
            .json();
    assertThat(s.get("status").asText()).isEqualTo("scheduled");
    assertThat(s.get("scheduledAt").isNull()).isFalse();
    assertThat(s.get("counts").get("scheduled").asInt()).isEqualTo(1);
    JsonNode u = alice.delete("/api/projects/" + p + "/schedule").expect(200).json();
    assertThat(u.get("status").asText()).isEqualTo("active");
    assertThat(u.get("counts").get("ready").asInt()).isEqualTo(1);
    alice.delete("/api/projects/" + p + "/schedule").expect(409);
  }

  @Test
  void scheduledProjectIsPublishedWhenItsTimeComes() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "Due", "[]");
    long i = addItem(alice, p, "page/500", 1);
    alice.post("/api/projects/" + p + "/items/" + i + "/ready", null).expect(200);
    alice
        .post(
            "/api/projects/" + p + "/schedule",
            "{\"at\":\"" + OffsetDateTime.now().plusSeconds(1) + "\"}")
        .expect(200);
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(
                        alice
                            .get("/api/projects/" + p)
                            .json()
                            .get("counts")
                            .get("published")
                            .asInt())
                    .isEqualTo(1));
    assertThat(alice.get("/api/projects/" + p).json().get("status").asText()).isEqualTo("active");
  }

  @Test
  void loginLogoutAndSessionRules() {
    ApiClient anon = app.anonymous();
    assertThat(anon.get("/api/projects").expect(401).errorCode()).isEqualTo("unauthorized");
    assertThat(anon.login("alice", "wrong").status()).isEqualTo(401);
    assertThat(anon.login("nobody", "pw").status()).isEqualTo(401);
    ApiClient alice = app.login("alice");
    assertThat(alice.get("/api/me").expect(200).json().get("user").get("role").asText())
        .isEqualTo("editor");
    String csrf = alice.csrf();
    alice.csrf("forged");
    assertThat(alice.post("/api/projects", "{\"name\":\"x\"}").expect(403).errorCode())
        .isEqualTo("csrf_failed");
    alice.csrf(csrf);
    alice.post("/api/logout", null).expect(204);
    alice.get("/api/me").expect(401);
  }

  @Test
  void sessionCookieIsHttpOnlySameSiteAndRotatedAtLogin() {
    ApiClient c = app.anonymous();
    ApiClient.Response first = c.login("alice", "pw-alice");
    String header =
        first.raw().headers().allValues("set-cookie").stream()
            .filter(v -> v.startsWith("herald_session="))
            .findFirst()
            .orElseThrow();
    assertThat(header)
        .contains("herald_session=")
        .containsIgnoringCase("HttpOnly")
        .contains("SameSite=Lax")
        .contains("Path=/");
    String before = c.sessionCookie();
    c.login("alice", "pw-alice");
    assertThat(c.sessionCookie()).isNotEqualTo(before);
  }

  @Test
  void bodiesMustBeJsonSoCrossSiteFormsCannotLogIn() throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    var form =
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(app.baseUrl() + "/api/login"))
            .header("Content-Type", "text/plain")
            .POST(
                java.net.http.HttpRequest.BodyPublishers.ofString(
                    "{\"username\":\"alice\",\"password\":\"pw-alice\"}"))
            .build();
    var r = http.send(form, java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(415);
    assertThat(r.headers().firstValue("set-cookie")).isEmpty();
  }

  @Test
  void readinessIncludesTheDatabase() throws Exception {
    var r =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(app.baseUrl() + "/health/ready"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"database\":\"up\"");
  }

  @Test
  void unknownEndpointsAndIdsAre404() {
    ApiClient alice = app.login("alice");
    alice.get("/api/nothing-here").expect(404);
    alice.get("/api/projects/abc").expect(404);
    alice.get("/api/projects/999999").expect(404);
  }
}
