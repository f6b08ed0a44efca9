package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.AppTestBase;
import dev.herald.server.it.RawClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Committed changes arrive as events on real WebSocket connections authenticated with the app's
 * session cookie; channels follow the same access rules as the REST API.
 */
class LiveEventsIT extends AppTestBase {

  private RawClient socket(ApiClient user) {
    RawClient ws =
        RawClient.open(
            app.wsUri(),
            Map.of("Cookie", "herald_session=" + user.sessionCookie()),
            "herald.v1.json");
    JsonNode r = ws.request("{\"type\":\"connect\"}");
    assertThat(r.has("result")).as("connect: %s", r).isTrue();
    return ws;
  }

  private long project(ApiClient c, String members) {
    return c.post("/api/projects", "{\"name\":\"Live\",\"members\":" + members + "}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  private static JsonNode event(RawClient ws, String channel, String type, String action) {
    return ws.await(
            m ->
                m.path("type").asText().equals("pub")
                    && m.path("channel").asText().equals(channel)
                    && m.path("data").path("type").asText().equals(type)
                    && m.path("data").path("action").asText().equals(action))
        .get("data");
  }

  @Test
  void sessionCookieAuthenticatesTheSocketAndChannelsFollowProjectAccess() {
    ApiClient alice = app.login("alice");
    long p = project(alice, "[\"bob\"]");
    try (RawClient a = socket(alice);
        RawClient e = socket(app.login("eve"));
        RawClient c = socket(app.login("carol"))) {
      assertThat(
              a.request("{\"type\":\"subscribe\",\"channel\":\"project:" + p + "\"}").has("result"))
          .isTrue();
      assertThat(
              e.request("{\"type\":\"subscribe\",\"channel\":\"project:" + p + "\"}")
                  .get("error")
                  .get("code")
                  .asInt())
          .isEqualTo(103);
      assertThat(
              c.request("{\"type\":\"subscribe\",\"channel\":\"project:" + p + "\"}").has("result"))
          .as("admin")
          .isTrue();
      assertThat(
              a.request("{\"type\":\"subscribe\",\"channel\":\"user:bob:notifications\"}")
                  .get("error")
                  .get("code")
                  .asInt())
          .isEqualTo(103);
      assertThat(
              a.request("{\"type\":\"subscribe\",\"channel\":\"user:alice:notifications\"}")
                  .has("result"))
          .isTrue();
      assertThat(
              a.request("{\"type\":\"publish\",\"channel\":\"project:" + p + "\",\"data\":{}}")
                  .get("error")
                  .get("code")
                  .asInt())
          .isEqualTo(108);
    }
    try (RawClient nobody =
        RawClient.open(app.wsUri(), Map.of("Cookie", "herald_session=forged"), "herald.v1.json")) {
      assertThat(nobody.request("{\"type\":\"connect\"}").get("error").get("code").asInt())
          .isEqualTo(101);
      assertThat(nobody.awaitClose()).isEqualTo(4500);
    }
  }

  @Test
  void restChangesArriveAsOrderedEventsWithTypeIdAndVersion() {
    ApiClient alice = app.login("alice");
    long p = project(alice, "[\"bob\"]");
    long item =
        alice
            .post(
                "/api/projects/" + p + "/items",
                "{\"contentRef\":\"page/77\",\"contentVersion\":1,\"title\":\"Home\",\"type\":\"page\"}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    ApiClient bob = app.login("bob");
    try (RawClient b = socket(bob)) {
      b.request("{\"type\":\"subscribe\",\"channel\":\"project:" + p + "\"}");
      alice.post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(200);
      JsonNode updated = event(b, "project:" + p, "item", "updated");
      assertThat(updated.get("id").asText()).isEqualTo(String.valueOf(item));
      assertThat(updated.get("version").asLong()).isEqualTo(2);
      assertThat(updated.get("data").get("status").asText()).isEqualTo("ready");
      assertThat(updated.get("data").get("changedBy").asText()).isEqualTo("alice");
      JsonNode activity = event(b, "project:" + p, "activity", "created");
      assertThat(activity.get("data").get("systemType").asText()).isEqualTo("item_status");
      JsonNode project = event(b, "project:" + p, "project", "updated");
      assertThat(project.get("data").get("counts").get("ready").asInt()).isEqualTo(1);
      assertThat(
              List.of(
                  updated.get("seq").asLong(),
                  activity.get("seq").asLong(),
                  project.get("seq").asLong()))
          .isSorted();

      alice
          .post(
              "/api/projects/" + p + "/activities",
              "{\"message\":\"Looks good @bob\",\"itemId\":" + item + "}")
          .expect(201);
      JsonNode comment = event(b, "project:" + p, "activity", "created");
      assertThat(comment.get("data").get("message").asText()).isEqualTo("Looks good @bob");
      assertThat(comment.get("data").get("mentions"))
          .extracting(JsonNode::asText)
          .containsExactly("bob");
    }
  }

  @Test
  void mentionReachesTheUsersNotificationChannelWithTheUnreadCount() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = project(alice, "[\"bob\"]");
    int unreadBefore = bob.get("/api/notifications/unread-count").json().get("unread").asInt();
    try (RawClient b = socket(bob)) {
      b.request("{\"type\":\"subscribe\",\"channel\":\"user:bob:notifications\"}");
      alice
          .post("/api/projects/" + p + "/activities", "{\"message\":\"@bob please review\"}")
          .expect(201);
      JsonNode n = event(b, "user:bob:notifications", "notification", "created");
      assertThat(n.get("data").get("kind").asText()).isEqualTo("mentioned");
      assertThat(n.get("data").get("sender").asText()).isEqualTo("alice");
      assertThat(n.get("data").get("link").asText()).startsWith("/projects/" + p);
      JsonNode unread = event(b, "user:bob:notifications", "unread", "updated");
      assertThat(unread.get("data").get("unread").asInt()).isEqualTo(unreadBefore + 1);
      bob.post("/api/notifications/read-all", null).expect(200);
      assertThat(
              event(b, "user:bob:notifications", "unread", "updated")
                  .get("data")
                  .get("unread")
                  .asInt())
          .isZero();
    }
  }

  @Test
  void presenceOnAProjectShowsWhoIsViewing() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = project(alice, "[\"bob\"]");
    try (RawClient a = socket(alice);
        RawClient b = socket(bob)) {
      a.request("{\"type\":\"subscribe\",\"channel\":\"project:" + p + "\"}");
      b.request("{\"type\":\"subscribe\",\"channel\":\"project:" + p + "\"}");
      JsonNode join =
          a.await(
              m -> m.path("type").asText().equals("join") && m.path("user").asText().equals("bob"));
      assertThat(join.get("info").get("name").asText()).isEqualTo("Bob");
      JsonNode list =
          a.request("{\"type\":\"presence\",\"channel\":\"project:" + p + "\"}")
              .get("result")
              .get("clients");
      assertThat(list)
          .extracting(n -> n.get("user").asText())
          .containsExactlyInAnyOrder("alice", "bob");
    }
  }

  @Test
  void changesSinceGivesACompactDeltaForAClientThatWasAway() {
    ApiClient alice = app.login("alice");
    long p = project(alice, "[]");
    JsonNode snapshot = alice.get("/api/projects/" + p + "/snapshot").expect(200).json();
    long seq = snapshot.get("seq").asLong();
    assertThat(snapshot.get("project").get("id").asLong()).isEqualTo(p);
    long item =
        alice
            .post(
                "/api/projects/" + p + "/items",
                "{\"contentRef\":\"page/78\",\"contentVersion\":1,\"title\":\"A\",\"type\":\"page\"}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    alice.post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(200);
    alice
        .post("/api/projects/" + p + "/items/" + item + "/reject", "{\"reason\":\"Too long.\"}")
        .expect(200);
    JsonNode delta = alice.get("/api/projects/" + p + "/changes?since=" + seq).expect(200).json();
    List<JsonNode> itemChanges = new ArrayList<>();
    delta
        .get("changes")
        .forEach(
            c -> {
              if (c.get("type").asText().equals("item")) {
                itemChanges.add(c);
              }
            });
    assertThat(itemChanges).hasSize(1);
    assertThat(itemChanges.get(0).get("data").get("status").asText()).isEqualTo("rejected");
    assertThat(itemChanges.get(0).get("version").asLong()).isEqualTo(3);
    List<Long> seqs = new ArrayList<>();
    delta.get("changes").forEach(c -> seqs.add(c.get("seq").asLong()));
    assertThat(seqs).isSorted().allMatch(s -> s > seq);
    assertThat(delta.get("seq").asLong()).isEqualTo(seqs.get(seqs.size() - 1));
    assertThat(
            alice
                .get("/api/projects/" + p + "/changes?since=" + delta.get("seq").asLong())
                .json()
                .get("changes"))
        .isEmpty();
    alice.get("/api/projects/" + p + "/changes").expect(400);
    app.login("eve").get("/api/projects/" + p + "/changes?since=0").expect(404);
  }

  @Test
  void seqCountsPerChannelWithoutGapsAndASeqAheadOfTheChannelAsksForASnapshot() {
    ApiClient alice = app.login("alice");
    long p = project(alice, "[]");
    long other = project(alice, "[]"); // events on another channel take no numbers from this one
    JsonNode all = alice.get("/api/projects/" + p + "/changes?since=0").expect(200).json();
    long head = all.get("seq").asLong();
    alice
        .post(
            "/api/projects/" + p + "/items",
            "{\"contentRef\":\"page/79\",\"contentVersion\":1,\"title\":\"B\",\"type\":\"page\"}")
        .expect(201);
    alice.get("/api/projects/" + other + "/changes?since=0").expect(200);
    JsonNode next = alice.get("/api/projects/" + p + "/changes?since=" + head).expect(200).json();
    List<Long> seqs = new ArrayList<>();
    next.get("changes").forEach(c -> seqs.add(c.get("seq").asLong()));
    assertThat(seqs.get(0)).as("the next number on the channel").isEqualTo(head + 1);
    assertThat(seqs)
        .as("one request's events, numbered without gaps")
        .isEqualTo(
            java.util.stream.LongStream.rangeClosed(head + 1, head + seqs.size()).boxed().toList());

    JsonNode ahead =
        alice.get("/api/projects/" + p + "/changes?since=" + (head + 1000)).expect(200).json();
    assertThat(ahead.get("snapshotRequired").asBoolean()).isTrue();
    assertThat(ahead.get("changes")).isEmpty();
    alice.get("/api/projects/" + p + "/changes?since=-1").expect(400);
    alice.get("/api/projects/" + p + "/changes?since=abc").expect(400);

    JsonNode summary =
        alice.get("/api/projects/" + p + "/snapshot?only=project").expect(200).json();
    assertThat(summary.get("seq").asLong()).isEqualTo(next.get("seq").asLong());
    assertThat(summary.get("project").get("id").asLong()).isEqualTo(p);
    assertThat(summary.has("items") || summary.has("activities")).isFalse();
    alice.get("/api/projects/" + p + "/snapshot?only=items").expect(400);
  }

  @Test
  void membershipChangesReachTheMembersOwnChannelAndARemovedMemberGetsNothingMore() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    String mine = "user:bob:notifications";
    try (RawClient b = socket(bob)) {
      assertThat(b.request("{\"type\":\"subscribe\",\"channel\":\"" + mine + "\"}").has("result"))
          .isTrue();

      // Created with bob as a member: his channel says so, with the project, and he is notified.
      long p = project(alice, "[\"bob\"]");
      JsonNode created = event(b, mine, "membership", "created");
      assertThat(created.get("id").asText()).isEqualTo(String.valueOf(p));
      assertThat(created.get("data").get("name").asText()).isEqualTo("Live");
      assertThat(created.get("data").get("members")).extracting(JsonNode::asText).contains("bob");
      JsonNode added = event(b, mine, "notification", "created").get("data");
      assertThat(added.get("kind").asText()).isEqualTo("added");
      assertThat(added.get("subject").asText()).isEqualTo("You were added to Live");
      assertThat(added.get("text").asText()).isEqualTo("Alice added you to Live.");
      assertThat(added.get("link").asText()).isEqualTo("/projects/" + p);

      // Added later: the same.
      long q =
          alice
              .post("/api/projects", "{\"name\":\"Later\",\"members\":[]}")
              .expect(201)
              .json()
              .get("id")
              .asLong();
      alice.post("/api/projects/" + q + "/members", "{\"userId\":\"bob\"}").expect(200);
      JsonNode joined = event(b, mine, "membership", "created");
      assertThat(joined.get("id").asText()).isEqualTo(String.valueOf(q));
      assertThat(event(b, mine, "notification", "created").get("data").get("subject").asText())
          .isEqualTo("You were added to Later");
      // Adding him again changes nothing for him.
      alice.post("/api/projects/" + q + "/members", "{\"userId\":\"bob\"}").expect(200);

      // Removed: his channel says so, his subscription to the project ends at once, and a change
      // made after the removal answered never reaches him.
      b.request("{\"type\":\"subscribe\",\"channel\":\"project:" + p + "\"}");
      b.request("{\"type\":\"subscribe\",\"channel\":\"project:" + q + "\"}");
      alice.delete("/api/projects/" + q + "/members/bob").expect(200);
      JsonNode removed = event(b, mine, "membership", "deleted");
      assertThat(removed.get("id").asText()).isEqualTo(String.valueOf(q));
      assertThat(removed.get("data").get("projectId").asLong()).isEqualTo(q);
      JsonNode ended =
          b.await(
              m ->
                  m.path("type").asText().equals("unsubscribed")
                      && m.path("channel").asText().equals("project:" + q));
      assertThat(ended.get("code").asInt()).isEqualTo(103);
      alice
          .post(
              "/api/projects/" + q + "/items",
              "{\"contentRef\":\"page/90\",\"contentVersion\":1,\"title\":\"Secret\",\"type\":\"page\"}")
          .expect(201);
      alice.post("/api/projects/" + p + "/activities", "{\"message\":\"marker\"}").expect(201);
      event(b, "project:" + p, "activity", "created");
      assertThat(
              b.takeReceived(
                  m ->
                      m.path("type").asText().equals("pub")
                          && m.path("channel").asText().equals("project:" + q)
                          && !m.path("data").path("type").asText().equals("project")))
          .as("nothing of the project after the removal")
          .isEmpty();
      assertThat(
              b.takeReceived(
                  m ->
                      m.path("type").asText().equals("pub")
                          && m.path("data").path("type").asText().equals("membership")
                          && m.path("data").path("id").asText().equals(String.valueOf(q))))
          .as("re-adding a member publishes no second membership event")
          .isEmpty();
    }
  }
}
