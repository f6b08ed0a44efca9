package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.AppTestBase;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The activity feed over REST: project and item comments, replies, editing and deleting one's own,
 * system activities, paging, validation and @mentions.
 */
class ActivityApiIT extends AppTestBase {
  private static final AtomicInteger REFS = new AtomicInteger();

  private static long newProject(ApiClient c, String members) {
    return c.post(
            "/api/projects",
            "{\"name\":\"Feed\",\"description\":\"d\",\"members\":" + members + "}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  private static long addItem(ApiClient c, long project, String title) {
    return c.post(
            "/api/projects/" + project + "/items",
            "{\"contentRef\":\"page/act"
                + REFS.incrementAndGet()
                + "\",\"contentVersion\":1,\"title\":\""
                + title
                + "\",\"type\":\"page\"}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  private static JsonNode post(ApiClient c, long project, String message) {
    return c.post("/api/projects/" + project + "/activities", body(message)).expect(201).json();
  }

  private static String body(String message) {
    return "{\"message\":\"" + message + "\"}";
  }

  private static List<JsonNode> feed(ApiClient c, long project, String query) {
    List<JsonNode> out = new ArrayList<>();
    c.get("/api/projects/" + project + "/activities" + query).expect(200).json().forEach(out::add);
    return out;
  }

  private static JsonNode activity(ApiClient c, long project, long id) {
    return feed(c, project, "?limit=100").stream()
        .filter(a -> a.get("id").asLong() == id)
        .findFirst()
        .orElse(null);
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  @Test
  void projectCommentHasAuthorNoItemAndAppearsInTheFeed() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "[\"bob\"]");
    JsonNode a = post(alice, p, "  Kick-off at ten  ");
    assertThat(a.get("id").asLong()).isPositive();
    assertThat(a.get("projectId").asLong()).isEqualTo(p);
    assertThat(a.get("itemId").isNull()).as("a project comment has no item").isTrue();
    assertThat(a.get("kind").asText()).isEqualTo("comment");
    assertThat(a.get("systemType").isNull()).isTrue();
    assertThat(a.get("author").asText()).isEqualTo("alice");
    assertThat(a.get("message").asText()).as("stripped").isEqualTo("Kick-off at ten");
    assertThat(a.get("mentions")).isEmpty();
    assertThat(a.get("replies")).isEmpty();
    assertThat(a.get("version").asLong()).isEqualTo(1);
    assertThat(OffsetDateTime.parse(a.get("createdAt").asText()))
        .isEqualTo(OffsetDateTime.parse(a.get("updatedAt").asText()));

    List<JsonNode> bobsView = feed(app.login("bob"), p, "");
    assertThat(bobsView).hasSize(1);
    assertThat(bobsView.get(0).get("id").asLong()).isEqualTo(a.get("id").asLong());
    assertThat(bobsView.get(0).get("message").asText()).isEqualTo("Kick-off at ten");
  }

  @Test
  void itemCommentCarriesTheItemAndTheItemMustBeInTheProject() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "[]");
    long other = newProject(alice, "[]");
    long item = addItem(alice, p, "Home page");
    long foreignItem = addItem(alice, other, "Elsewhere");
    JsonNode c =
        alice
            .post(
                "/api/projects/" + p + "/activities",
                "{\"message\":\"Hero image too big\",\"itemId\":" + item + "}")
            .expect(201)
            .json();
    assertThat(c.get("itemId").asLong()).isEqualTo(item);
    assertThat(c.get("kind").asText()).isEqualTo("comment");
    assertThat(activity(alice, p, c.get("id").asLong()).get("itemId").asLong()).isEqualTo(item);

    ApiClient.Response wrong =
        alice
            .post(
                "/api/projects/" + p + "/activities",
                "{\"message\":\"x\",\"itemId\":" + foreignItem + "}")
            .expect(400);
    assertThat(wrong.errorCode()).isEqualTo("validation_failed");
    assertThat(wrong.json().get("error").get("fields").has("itemId")).isTrue();
    alice
        .post("/api/projects/" + p + "/activities", "{\"message\":\"x\",\"itemId\":999999999}")
        .expect(400);
    ApiClient.Response notANumber =
        alice
            .post("/api/projects/" + p + "/activities", "{\"message\":\"x\",\"itemId\":\"one\"}")
            .expect(400);
    assertThat(notANumber.json().get("error").get("fields").has("itemId")).isTrue();
  }

  @Test
  void repliesAreListedUnderTheirActivityInOrder() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "[\"bob\"]");
    long a = post(alice, p, "Ready for review?").get("id").asLong();
    JsonNode r1 =
        bob.post("/api/activities/" + a + "/replies", body("Looking now")).expect(201).json();
    assertThat(r1.get("activityId").asLong()).isEqualTo(a);
    assertThat(r1.get("projectId").asLong()).isEqualTo(p);
    assertThat(r1.get("author").asText()).isEqualTo("bob");
    assertThat(r1.get("message").asText()).isEqualTo("Looking now");
    assertThat(r1.get("mentions")).isEmpty();
    assertThat(r1.get("version").asLong()).isEqualTo(1);
    assertThat(r1.has("createdAt") && r1.has("updatedAt")).isTrue();
    JsonNode r2 =
        alice.post("/api/activities/" + a + "/replies", body("Thanks")).expect(201).json();

    JsonNode replies = activity(alice, p, a).get("replies");
    assertThat(replies)
        .extracting(r -> r.get("id").asLong())
        .containsExactly(r1.get("id").asLong(), r2.get("id").asLong());
    assertThat(replies).extracting(r -> r.get("author").asText()).containsExactly("bob", "alice");
    alice.post("/api/activities/999999999/replies", body("into the void")).expect(404);
  }

  @Test
  void authorEditsAndDeletesOwnPost() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "[\"bob\"]");
    JsonNode a = post(alice, p, "Frist");
    long id = a.get("id").asLong();
    JsonNode edited = alice.patch("/api/activities/" + id, body("First")).expect(200).json();
    assertThat(edited.get("message").asText()).isEqualTo("First");
    assertThat(edited.get("version").asLong()).isEqualTo(2);
    assertThat(edited.get("author").asText()).isEqualTo("alice");
    assertThat(OffsetDateTime.parse(edited.get("updatedAt").asText()))
        .isAfterOrEqualTo(OffsetDateTime.parse(a.get("createdAt").asText()));
    assertThat(OffsetDateTime.parse(edited.get("createdAt").asText()))
        .isEqualTo(OffsetDateTime.parse(a.get("createdAt").asText()));
    assertThat(activity(alice, p, id).get("message").asText()).isEqualTo("First");

    app.login("bob")
        .post("/api/activities/" + id + "/replies", body("a reply goes with its post"))
        .expect(201);
    alice.delete("/api/activities/" + id).expect(204);
    assertThat(feed(alice, p, "")).isEmpty();
    alice.delete("/api/activities/" + id).expect(404);
    alice.patch("/api/activities/" + id, body("again")).expect(404);
    alice.post("/api/activities/" + id + "/replies", body("late")).expect(404);
  }

  @Test
  void authorEditsAndDeletesOwnReply() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "[\"bob\"]");
    long a = post(alice, p, "Question").get("id").asLong();
    long r =
        bob.post("/api/activities/" + a + "/replies", body("Answr"))
            .expect(201)
            .json()
            .get("id")
            .asLong();
    JsonNode edited = bob.patch("/api/replies/" + r, body("Answer")).expect(200).json();
    assertThat(edited.get("message").asText()).isEqualTo("Answer");
    assertThat(edited.get("version").asLong()).isEqualTo(2);
    assertThat(activity(alice, p, a).get("replies").get(0).get("message").asText())
        .isEqualTo("Answer");
    bob.delete("/api/replies/" + r).expect(204);
    assertThat(activity(alice, p, a).get("replies")).isEmpty();
    bob.delete("/api/replies/" + r).expect(404);
    bob.patch("/api/replies/" + r, body("again")).expect(404);
  }

  @Test
  void othersMayNotEditOrDeleteAPostOrReplyEvenAdmins() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    ApiClient carol = app.login("carol");
    long p = newProject(alice, "[\"bob\"]");
    long a = post(alice, p, "Mine").get("id").asLong();
    long r =
        alice
            .post("/api/activities/" + a + "/replies", body("Also mine"))
            .expect(201)
            .json()
            .get("id")
            .asLong();
    for (ApiClient other : List.of(bob, carol)) {
      assertThat(other.patch("/api/activities/" + a, body("hijacked")).expect(403).errorCode())
          .isEqualTo("forbidden");
      assertThat(other.delete("/api/activities/" + a).expect(403).errorCode())
          .isEqualTo("forbidden");
      assertThat(other.patch("/api/replies/" + r, body("hijacked")).expect(403).errorCode())
          .isEqualTo("forbidden");
      assertThat(other.delete("/api/replies/" + r).expect(403).errorCode()).isEqualTo("forbidden");
    }
    JsonNode still = activity(alice, p, a);
    assertThat(still.get("message").asText()).isEqualTo("Mine");
    assertThat(still.get("version").asLong()).isEqualTo(1);
    assertThat(still.get("replies").get(0).get("message").asText()).isEqualTo("Also mine");
    assertThat(still.get("replies").get(0).get("version").asLong()).isEqualTo(1);
  }

  @Test
  void statusChangesAppearAsSystemActivitiesThatNobodyCanEditOrDelete() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "[\"bob\"]");
    long item = addItem(alice, p, "Pricing");
    alice.post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(200);
    app.login("bob")
        .post("/api/projects/" + p + "/items/" + item + "/reject", "{\"reason\":\"Too long.\"}")
        .expect(200);

    List<JsonNode> feed = feed(alice, p, "");
    assertThat(feed)
        .allSatisfy(
            a -> {
              assertThat(a.get("kind").asText()).isEqualTo("system");
              assertThat(a.get("author").isNull()).isTrue();
              assertThat(a.get("mentions")).isEmpty();
            });
    assertThat(feed)
        .extracting(a -> a.get("systemType").asText())
        .containsExactly("item_status", "item_status", "item_added");
    assertThat(feed.get(0).get("message").asText()).isEqualTo("Bob rejected Pricing: Too long.");
    assertThat(feed.get(0).get("itemId").asLong()).isEqualTo(item);
    assertThat(feed.get(1).get("message").asText())
        .isEqualTo("Alice marked Pricing ready to publish.");
    assertThat(feed.get(2).get("message").asText()).isEqualTo("Alice added Pricing.");

    long sys = feed.get(0).get("id").asLong();
    for (String who : List.of("alice", "bob", "carol")) {
      ApiClient c = app.login(who);
      ApiClient.Response edit =
          c.patch("/api/activities/" + sys, body("rewritten history")).expect(403);
      assertThat(edit.errorCode()).isEqualTo("forbidden");
      assertThat(edit.json().get("error").get("message").asText()).contains("System activities");
      c.delete("/api/activities/" + sys).expect(403);
    }
    assertThat(activity(alice, p, sys).get("message").asText())
        .isEqualTo("Bob rejected Pricing: Too long.");

    alice.post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(200);
    alice.post("/api/projects/" + p + "/publish", null).expect(200);
    JsonNode published = feed(alice, p, "?limit=1").get(0);
    assertThat(published.get("systemType").asText()).isEqualTo("published");
    assertThat(published.get("message").asText()).isEqualTo("Alice published 1 item.");
    assertThat(published.get("itemId").isNull()).isTrue();

    JsonNode reply =
        alice
            .post("/api/activities/" + sys + "/replies", body("Fixed the prices"))
            .expect(201)
            .json();
    assertThat(reply.get("activityId").asLong())
        .as("a system activity can be replied to")
        .isEqualTo(sys);
  }

  @Test
  void feedPagesNewestFirstWithBeforeAndLimit() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "[]");
    List<Long> ids = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      ids.add(post(alice, p, "post " + i).get("id").asLong());
    }
    assertThat(feed(alice, p, ""))
        .extracting(a -> a.get("id").asLong())
        .containsExactly(ids.get(4), ids.get(3), ids.get(2), ids.get(1), ids.get(0));
    List<JsonNode> page1 = feed(alice, p, "?limit=2");
    assertThat(page1)
        .extracting(a -> a.get("message").asText())
        .containsExactly("post 5", "post 4");
    List<JsonNode> page2 = feed(alice, p, "?limit=2&before=" + page1.get(1).get("id").asLong());
    assertThat(page2)
        .extracting(a -> a.get("message").asText())
        .containsExactly("post 3", "post 2");
    List<JsonNode> page3 = feed(alice, p, "?limit=2&before=" + page2.get(1).get("id").asLong());
    assertThat(page3).extracting(a -> a.get("message").asText()).containsExactly("post 1");
    assertThat(feed(alice, p, "?limit=2&before=" + ids.get(0))).isEmpty();
    assertThat(feed(alice, p, "?limit=100")).hasSize(5);

    for (String bad :
        List.of("?limit=0", "?limit=101", "?limit=-1", "?limit=ten", "?before=yesterday")) {
      ApiClient.Response r = alice.get("/api/projects/" + p + "/activities" + bad).expect(400);
      assertThat(r.errorCode()).as(bad).isEqualTo("validation_failed");
      assertThat(r.json().get("error").get("fields").size()).as(bad).isEqualTo(1);
    }
  }

  @Test
  void messagesAreRequiredAndAtMost4000Characters() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "[]");
    long a = post(alice, p, "ok").get("id").asLong();
    long r =
        alice
            .post("/api/activities/" + a + "/replies", body("ok"))
            .expect(201)
            .json()
            .get("id")
            .asLong();
    String tooLong = "x".repeat(4001);
    List<String> bad =
        List.of(
            "{\"message\":\"\"}",
            "{\"message\":\"   \"}",
            "{}",
            "{\"message\":null}",
            body(tooLong));
    for (String b : bad) {
      for (ApiClient.Response resp :
          List.of(
              alice.post("/api/projects/" + p + "/activities", b),
              alice.patch("/api/activities/" + a, b),
              alice.post("/api/activities/" + a + "/replies", b),
              alice.patch("/api/replies/" + r, b))) {
        resp.expect(400);
        assertThat(resp.errorCode()).isEqualTo("validation_failed");
        String field = resp.json().get("error").get("fields").get("message").asText();
        assertThat(field)
            .isEqualTo(
                b.equals(body(tooLong))
                    ? "The message is 4001 characters long; the limit is 4000. Shorten it by 1."
                    : "Write something first: the message is empty or only spaces.");
        assertThat(resp.json().get("error").get("status").asInt()).isEqualTo(400);
        assertThat(resp.json().get("error").get("message").asText()).isEqualTo(field);
      }
    }
    ApiClient.Response wrongType =
        alice.post("/api/projects/" + p + "/activities", "{\"message\":42}").expect(400);
    assertThat(wrongType.json().get("error").get("fields").get("message").asText())
        .contains("string");
    assertThat(alice.post("/api/projects/" + p + "/activities", "not json").expect(400).errorCode())
        .isEqualTo("bad_request");
    alice.post("/api/projects/" + p + "/activities", null).expect(400);

    String longest = "y".repeat(4000);
    assertThat(post(alice, p, longest).get("message").asText()).hasSize(4000);
    assertThat(feed(alice, p, "")).hasSize(2);
    assertThat(activity(alice, p, a).get("message").asText()).isEqualTo("ok");
  }

  @Test
  void mentionsResolveOnlyUsersWhoMaySeeTheProject() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "[\"bob\"]");
    JsonNode a = post(alice, p, "@bob @eve @nobody please check");
    assertThat(texts(a.get("mentions")))
        .as("eve is no member, nobody does not exist")
        .containsExactly("bob");
    assertThat(a.get("message").asText()).isEqualTo("@bob @eve @nobody please check");

    assertThat(texts(post(alice, p, "@carol (admin) and @bob").get("mentions")))
        .containsExactly("carol", "bob");
    assertThat(texts(post(alice, p, "mail x@bob.com or bob@example.com").get("mentions")))
        .as("e-mail addresses")
        .isEmpty();
    assertThat(texts(post(alice, p, "(@bob), @bob. and @bob again").get("mentions")))
        .as("each user once")
        .containsExactly("bob");
    assertThat(texts(post(alice, p, "note to self @alice").get("mentions")))
        .containsExactly("alice");

    JsonNode reply =
        app.login("bob")
            .post("/api/activities/" + a.get("id").asLong() + "/replies", body("@alice @eve ok"))
            .expect(201)
            .json();
    assertThat(texts(reply.get("mentions"))).containsExactly("alice");
    JsonNode edited =
        alice
            .patch("/api/activities/" + a.get("id").asLong(), body("@dave @carol"))
            .expect(200)
            .json();
    assertThat(texts(edited.get("mentions"))).as("dave is no member").containsExactly("carol");
  }

  @Test
  void rejectingNeedsAReasonWhichIsStoredAndPostedToTheFeedAndTheNotifications() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "[\"bob\"]");
    long item = addItem(alice, p, "Pricing");
    alice.post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(200);
    String reject = "/api/projects/" + p + "/items/" + item + "/reject";

    for (String bad :
        List.of(
            "{}",
            "{\"reason\":null}",
            "{\"reason\":\"  \\n \"}",
            "{\"reason\":\"" + "x".repeat(1001) + "\"}")) {
      ApiClient.Response r = bob.post(reject, bad).expect(400);
      assertThat(r.errorCode()).as(bad).isEqualTo("validation_failed");
      assertThat(r.json().get("error").get("fields").get("reason").asText()).as(bad).isNotBlank();
    }
    assertThat(bob.post(reject, null).expect(400).errorCode()).isEqualTo("bad_request");
    assertThat(bob.post(reject, "{\"reason\":7}").expect(400).errorCode())
        .isEqualTo("validation_failed");
    // The shape is checked before access: an outsider learns nothing from a missing reason.
    ApiClient eve = app.login("eve");
    eve.post(reject, "{}").expect(400);
    eve.post(reject, "{\"reason\":\"mine now\"}").expect(404);
    assertThat(alice.get("/api/projects/" + p + "/items").json().get(0).get("status").asText())
        .as("nothing rejected by the refused attempts")
        .isEqualTo("ready");
    assertThat(feed(alice, p, "").get(0).get("message").asText())
        .isEqualTo("Alice marked Pricing ready to publish.");

    String reason = "The price is wrong: 19.90, not 9.90 <b>!</b>";
    bob.post(reject, "{\"reason\":\"  " + reason + "  \"}").expect(200);
    JsonNode posted = feed(alice, p, "").get(0);
    assertThat(posted.get("kind").asText()).isEqualTo("system");
    assertThat(posted.get("itemId").asLong()).isEqualTo(item);
    assertThat(posted.get("message").asText()).isEqualTo("Bob rejected Pricing: " + reason);
    // Stored: read back later, and in "changes since" for a client that was away.
    assertThat(activity(alice, p, posted.get("id").asLong()).get("message").asText())
        .isEqualTo("Bob rejected Pricing: " + reason);
    JsonNode changes = alice.get("/api/projects/" + p + "/changes?since=0").json().get("changes");
    assertThat(changes)
        .anySatisfy(
            c -> {
              assertThat(c.get("type").asText()).isEqualTo("activity");
              assertThat(c.get("data").get("message").asText()).endsWith(reason);
            });
    JsonNode note = alice.get("/api/notifications?limit=1").json().get("items").get(0);
    assertThat(note.get("kind").asText()).isEqualTo("status_change");
    assertThat(note.get("text").asText()).isEqualTo("Bob rejected Pricing: " + reason);
  }
}
