package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.AppTestBase;
import dev.herald.app.testing.TestApp;
import dev.herald.outbox.Event;
import dev.herald.outbox.Outbox;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Who is notified of what, through the REST API: mentions, replies, item comments, status changes
 * and publishing; at most one notification per person and change; unread count, marking read and
 * paging.
 */
class NotificationRulesIT extends AppTestBase {
  private static final AtomicInteger REFS = new AtomicInteger();

  private static long newProject(ApiClient c, String name, String members) {
    return c.post("/api/projects", "{\"name\":\"" + name + "\",\"members\":" + members + "}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  private static long addItem(ApiClient c, long project, String title) {
    return c.post(
            "/api/projects/" + project + "/items",
            "{\"contentRef\":\"page/n"
                + REFS.incrementAndGet()
                + "\",\"contentVersion\":1,\"title\":\""
                + title
                + "\",\"type\":\"page\"}")
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  private static JsonNode comment(ApiClient c, long project, Long item, String message) {
    String body =
        "{\"message\":\"" + message + "\"" + (item == null ? "" : ",\"itemId\":" + item) + "}";
    return c.post("/api/projects/" + project + "/activities", body).expect(201).json();
  }

  /**
   * The user's notifications about what happens in one project (links start with /projects/<id>),
   * newest first; not the one that told them they were added to it.
   */
  private static List<JsonNode> about(ApiClient c, long project) {
    List<JsonNode> out = new ArrayList<>();
    c.get("/api/notifications?limit=100")
        .expect(200)
        .json()
        .get("items")
        .forEach(
            n -> {
              String link = n.get("link").asText();
              if (!n.get("kind").asText().equals("added")
                  && (link.equals("/projects/" + project)
                      || link.startsWith("/projects/" + project + "#"))) {
                out.add(n);
              }
            });
    return out;
  }

  private static List<String> kinds(List<JsonNode> notifications) {
    return notifications.stream().map(n -> n.get("kind").asText()).toList();
  }

  private static int unread(ApiClient c) {
    int count = c.get("/api/notifications/unread-count").expect(200).json().get("unread").asInt();
    assertThat(c.get("/api/notifications?limit=1").json().get("unread").asInt()).isEqualTo(count);
    return count;
  }

  @Test
  void mentionedUserGetsAMentionWithSubjectTextLinkAndSender() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "Spring sale", "[\"bob\",\"dave\"]");
    JsonNode a = comment(alice, p, null, "@bob can you check the banner?");
    List<JsonNode> mine = about(bob, p);
    assertThat(mine).hasSize(1);
    JsonNode n = mine.get(0);
    assertThat(n.get("id").asLong()).isPositive();
    assertThat(n.get("kind").asText()).isEqualTo("mentioned");
    assertThat(n.get("subject").asText()).isEqualTo("Alice mentioned you in Spring sale");
    assertThat(n.get("text").asText()).isEqualTo("@bob can you check the banner?");
    assertThat(n.get("link").asText())
        .isEqualTo("/projects/" + p + "#activity-" + a.get("id").asLong());
    assertThat(n.get("sender").asText()).isEqualTo("alice");
    assertThat(n.get("read").asBoolean()).isFalse();
    assertThat(OffsetDateTime.parse(n.get("createdAt").asText()))
        .isBeforeOrEqualTo(OffsetDateTime.now().plusMinutes(1));
    assertThat(about(app.login("dave"), p)).as("dave was not mentioned").isEmpty();
    assertThat(about(alice, p)).as("the author is never notified").isEmpty();

    JsonNode r =
        bob.post(
                "/api/activities/" + a.get("id").asLong() + "/replies",
                "{\"message\":\"sure @dave, have a look too\"}")
            .expect(201)
            .json();
    List<JsonNode> daves = about(app.login("dave"), p);
    assertThat(kinds(daves)).containsExactly("mentioned");
    assertThat(daves.get(0).get("link").asText())
        .isEqualTo("/projects/" + p + "#reply-" + r.get("id").asLong());
    assertThat(daves.get(0).get("sender").asText()).isEqualTo("bob");
    assertThat(daves.get(0).get("subject").asText()).isEqualTo("Bob mentioned you in Spring sale");
  }

  @Test
  void subjectsNameTheItemTheyAreAbout() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    ApiClient dave = app.login("dave");
    long p = newProject(alice, "Named", "[\"bob\",\"dave\"]");
    long item = addItem(alice, p, "Home page");
    long a = comment(bob, p, item, "@dave the headline").get("id").asLong();
    assertThat(about(dave, p).get(0).get("subject").asText())
        .isEqualTo("Bob mentioned you on Home page in Named");
    alice.post("/api/activities/" + a + "/replies", "{\"message\":\"Fixed\"}").expect(201);
    assertThat(about(bob, p).get(0).get("subject").asText())
        .isEqualTo("Alice replied to your post on Home page in Named");
    long r =
        alice
            .post("/api/activities/" + a + "/replies", "{\"message\":\"Also\"}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    alice.patch("/api/replies/" + r, "{\"message\":\"Also @dave\"}").expect(200);
    assertThat(about(dave, p).get(0).get("subject").asText())
        .as("a mention added by an edit")
        .isEqualTo("Alice mentioned you on Home page in Named");
    bob.post("/api/projects/" + p + "/items/" + item + "/reject", "{\"reason\":\"Typo\"}")
        .expect(200);
    assertThat(about(alice, p).get(0).get("subject").asText())
        .isEqualTo("Home page rejected in Named");
    assertThat(about(alice, p).get(0).get("text").asText())
        .isEqualTo("Bob rejected Home page: Typo");
  }

  @Test
  void mentionsOfOutsidersAndOfOneselfNotifyNobody() {
    ApiClient alice = app.login("alice");
    ApiClient eve = app.login("eve");
    long p = newProject(alice, "Quiet", "[\"bob\"]");
    int eveBefore = unread(eve);
    int aliceBefore = unread(alice);
    comment(alice, p, null, "@eve @alice @nobody hello");
    assertThat(about(eve, p)).isEmpty();
    assertThat(unread(eve)).isEqualTo(eveBefore);
    assertThat(unread(alice)).isEqualTo(aliceBefore);
  }

  @Test
  void editingAPostNotifiesOnlyNewlyMentionedUsers() {
    ApiClient alice = app.login("alice");
    long p = newProject(alice, "Edits", "[\"bob\",\"dave\"]");
    long a = comment(alice, p, null, "@bob first").get("id").asLong();
    alice.patch("/api/activities/" + a, "{\"message\":\"@bob first, and @dave\"}").expect(200);
    assertThat(kinds(about(app.login("bob"), p)))
        .as("bob was already mentioned")
        .containsExactly("mentioned");
    List<JsonNode> daves = about(app.login("dave"), p);
    assertThat(kinds(daves)).containsExactly("mentioned");
    assertThat(daves.get(0).get("text").asText()).isEqualTo("@bob first, and @dave");
  }

  @Test
  void replyToMyPostNotifiesMe() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "Replies", "[\"bob\",\"dave\"]");
    long a = comment(alice, p, null, "Which hero image?").get("id").asLong();
    long r =
        bob.post("/api/activities/" + a + "/replies", "{\"message\":\"The blue one\"}")
            .expect(201)
            .json()
            .get("id")
            .asLong();
    List<JsonNode> alices = about(alice, p);
    assertThat(kinds(alices)).containsExactly("reply");
    JsonNode n = alices.get(0);
    assertThat(n.get("subject").asText()).isEqualTo("Bob replied to your post in Replies");
    assertThat(n.get("text").asText()).isEqualTo("The blue one");
    assertThat(n.get("link").asText()).isEqualTo("/projects/" + p + "#reply-" + r);
    assertThat(n.get("sender").asText()).isEqualTo("bob");
    assertThat(about(app.login("dave"), p))
        .as("other members are not told about replies")
        .isEmpty();

    alice.post("/api/activities/" + a + "/replies", "{\"message\":\"Agreed\"}").expect(201);
    assertThat(about(alice, p)).as("replying to one's own post notifies nobody").hasSize(1);
    assertThat(about(bob, p)).as("earlier repliers are not notified").isEmpty();
  }

  @Test
  void commentOnAnItemNotifiesWhoeverChangedItLast() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    ApiClient dave = app.login("dave");
    long p = newProject(alice, "Items", "[\"bob\",\"dave\"]");
    long item = addItem(bob, p, "About us");
    comment(alice, p, item, "Typo in the second paragraph");
    List<JsonNode> bobs = about(bob, p);
    assertThat(kinds(bobs)).containsExactly("item_comment");
    assertThat(bobs.get(0).get("subject").asText()).isEqualTo("Alice commented on About us");
    assertThat(bobs.get(0).get("text").asText()).isEqualTo("Typo in the second paragraph");
    assertThat(bobs.get(0).get("sender").asText()).isEqualTo("alice");
    assertThat(bobs.get(0).get("link").asText()).startsWith("/projects/" + p + "#activity-");

    alice
        .post("/api/projects/" + p + "/items/" + item + "/ready", null)
        .expect(200); // alice changed it last now
    int bobBefore = about(bob, p).size();
    comment(dave, p, item, "Looks fine to me");
    assertThat(kinds(about(alice, p))).containsExactly("item_comment");
    assertThat(about(alice, p).get(0).get("subject").asText())
        .isEqualTo("Dave commented on About us");
    assertThat(about(bob, p)).as("bob no longer changed it last").hasSize(bobBefore);

    comment(alice, p, item, "Commenting on my own change");
    assertThat(about(alice, p)).as("one's own comment notifies nobody").hasSize(1);
  }

  @Test
  void statusChangesNotifyOtherMembersButNotTheActor() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    ApiClient dave = app.login("dave");
    long p = newProject(alice, "Status", "[\"bob\",\"dave\"]");
    long item = addItem(alice, p, "Contact");
    assertThat(about(bob, p)).as("adding an item is no status change").isEmpty();

    alice.post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(200);
    for (ApiClient member : List.of(bob, dave)) {
      List<JsonNode> ns = about(member, p);
      assertThat(kinds(ns)).containsExactly("status_change");
      assertThat(ns.get(0).get("subject").asText()).isEqualTo("Contact ready to publish in Status");
      assertThat(ns.get(0).get("text").asText())
          .isEqualTo("Alice marked Contact ready to publish.");
      assertThat(ns.get(0).get("link").asText()).isEqualTo("/projects/" + p + "#item-" + item);
      assertThat(ns.get(0).get("sender").asText()).isEqualTo("alice");
    }
    assertThat(about(alice, p)).isEmpty();
    assertThat(about(app.login("eve"), p)).isEmpty();
    assertThat(about(app.login("carol"), p)).as("admins are not members").isEmpty();

    bob.post("/api/projects/" + p + "/items/" + item + "/reject", "{\"reason\":\"Too long.\"}")
        .expect(200);
    assertThat(kinds(about(alice, p))).containsExactly("status_change");
    assertThat(about(alice, p).get(0).get("text").asText())
        .isEqualTo("Bob rejected Contact: Too long.");
    assertThat(kinds(about(dave, p))).containsExactly("status_change", "status_change");
    assertThat(kinds(about(bob, p)))
        .as("bob rejected: nothing new for him")
        .containsExactly("status_change");
  }

  @Test
  void publishingNotifiesTheOtherMembers() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "Launch", "[\"bob\",\"dave\"]");
    long item = addItem(alice, p, "Landing");
    alice.post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(200);
    alice.post("/api/projects/" + p + "/publish", null).expect(200);
    for (ApiClient member : List.of(bob, app.login("dave"))) {
      List<JsonNode> ns = about(member, p);
      assertThat(kinds(ns)).containsExactly("published", "status_change");
      assertThat(ns.get(0).get("subject").asText()).isEqualTo("Published: Launch");
      assertThat(ns.get(0).get("text").asText()).isEqualTo("Alice published 1 item.");
      assertThat(ns.get(0).get("link").asText()).isEqualTo("/projects/" + p);
      assertThat(ns.get(0).get("sender").asText()).isEqualTo("alice");
    }
    assertThat(about(alice, p)).isEmpty();
  }

  @Test
  void failedPublishingNotifiesPublishFailed() {
    try (TestApp failing =
        TestApp.start(db, TestApp.config(db), items -> Set.of(items.get(0).id()))) {
      ApiClient alice = failing.login("alice");
      ApiClient bob = failing.login("bob");
      long p = newProject(alice, "Doomed", "[\"bob\"]");
      long item = addItem(alice, p, "Broken");
      alice.post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(200);
      JsonNode project = alice.post("/api/projects/" + p + "/publish", null).expect(200).json();
      assertThat(project.get("status").asText()).isEqualTo("publish_failed");
      assertThat(project.get("counts").get("ready").asInt())
          .as("failed items stay ready")
          .isEqualTo(1);
      List<JsonNode> ns = about(bob, p);
      assertThat(kinds(ns)).containsExactly("publish_failed", "status_change");
      assertThat(ns.get(0).get("subject").asText()).isEqualTo("Publishing failed: Doomed");
      assertThat(ns.get(0).get("text").asText())
          .isEqualTo("Alice published 0 items; 1 failed to publish.");
      assertThat(ns.get(0).get("link").asText()).isEqualTo("/projects/" + p);
      assertThat(ns.get(0).get("sender").asText()).isEqualTo("alice");
      assertThat(about(alice, p)).isEmpty();
    }
  }

  @Test
  void oneChangeNotifiesAPersonAtMostOnce() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "Once", "[\"bob\",\"dave\"]");
    long item = addItem(bob, p, "Footer");
    int before = unread(bob);
    long a = comment(alice, p, item, "@bob @bob the footer, @bob").get("id").asLong();
    List<JsonNode> bobs = about(bob, p);
    assertThat(kinds(bobs))
        .as("mentioned and changed the item: one notification")
        .containsExactly("mentioned");
    assertThat(unread(bob)).isEqualTo(before + 1);

    int aliceBefore = about(alice, p).size();
    bob.post("/api/activities/" + a + "/replies", "{\"message\":\"@alice done\"}").expect(201);
    List<JsonNode> alices = about(alice, p);
    assertThat(alices)
        .as("mentioned in a reply to her own post: one notification")
        .hasSize(aliceBefore + 1);
    assertThat(alices.get(0).get("kind").asText()).isEqualTo("mentioned");
  }

  @Test
  void unreadCountAndMarkingOneRead() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "Unread", "[\"bob\"]");
    int before = unread(bob);
    comment(alice, p, null, "@bob one");
    comment(alice, p, null, "@bob two");
    assertThat(unread(bob)).isEqualTo(before + 2);
    JsonNode list = bob.get("/api/notifications").expect(200).json();
    assertThat(list.get("unread").asInt()).isEqualTo(before + 2);
    assertThat(list.get("seq").asLong()).isPositive();
    assertThat(list.get("items").isArray()).isTrue();

    long id = about(bob, p).get(0).get("id").asLong();
    assertThat(bob.post("/api/notifications/" + id + "/read", null).expect(204).body()).isNull();
    assertThat(unread(bob)).isEqualTo(before + 1);
    assertThat(about(bob, p))
        .extracting(n -> n.get("read").asBoolean())
        .containsExactly(true, false);
    bob.post("/api/notifications/" + id + "/read", null).expect(204);
    assertThat(unread(bob)).as("idempotent").isEqualTo(before + 1);

    assertThat(alice.post("/api/notifications/" + id + "/read", null).expect(404).errorCode())
        .isEqualTo("not_found");
    alice.post("/api/notifications/999999999/read", null).expect(404);
    alice.post("/api/notifications/abc/read", null).expect(404);
    long other = about(bob, p).get(1).get("id").asLong();
    alice.post("/api/notifications/" + other + "/read", null).expect(404);
    assertThat(about(bob, p).get(1).get("read").asBoolean())
        .as("someone else cannot mark it")
        .isFalse();
  }

  @Test
  void markAllReadReportsHowManyChanged() {
    ApiClient alice = app.login("alice");
    ApiClient dave = app.login("dave");
    long p = newProject(alice, "All", "[\"dave\"]");
    dave.post("/api/notifications/read-all", null).expect(200);
    comment(alice, p, null, "@dave a");
    comment(alice, p, null, "@dave b");
    comment(alice, p, null, "@dave c");
    assertThat(unread(dave)).isEqualTo(3);
    int aliceBefore = unread(alice);
    assertThat(
            dave.post("/api/notifications/read-all", null)
                .expect(200)
                .json()
                .get("changed")
                .asInt())
        .isEqualTo(3);
    assertThat(unread(dave)).isZero();
    assertThat(about(dave, p)).extracting(n -> n.get("read").asBoolean()).containsOnly(true);
    assertThat(
            dave.post("/api/notifications/read-all", null)
                .expect(200)
                .json()
                .get("changed")
                .asInt())
        .isZero();
    assertThat(unread(alice)).as("only the caller's notifications").isEqualTo(aliceBefore);
  }

  @Test
  void pagingIsNewestFirstWithBeforeAndLimit() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "Pages", "[\"bob\"]");
    for (int i = 1; i <= 5; i++) {
      comment(alice, p, null, "@bob page " + i);
    }
    List<JsonNode> all = new ArrayList<>();
    bob.get("/api/notifications?limit=100").expect(200).json().get("items").forEach(all::add);
    assertThat(all)
        .extracting(n -> n.get("id").asLong())
        .isSortedAccordingTo((x, y) -> Long.compare(y, x));
    assertThat(all.subList(0, 5))
        .extracting(n -> n.get("text").asText())
        .containsExactly("@bob page 5", "@bob page 4", "@bob page 3", "@bob page 2", "@bob page 1");

    List<Long> paged = new ArrayList<>();
    Long before = null;
    while (paged.size() < all.size()) {
      JsonNode page =
          bob.get("/api/notifications?limit=2" + (before == null ? "" : "&before=" + before))
              .expect(200)
              .json()
              .get("items");
      assertThat(page.size()).isBetween(1, 2);
      page.forEach(n -> paged.add(n.get("id").asLong()));
      before = page.get(page.size() - 1).get("id").asLong();
    }
    assertThat(paged).isEqualTo(all.stream().map(n -> n.get("id").asLong()).toList());
    assertThat(bob.get("/api/notifications?limit=2&before=" + before).json().get("items"))
        .isEmpty();
    assertThat(bob.get("/api/notifications").json().get("items").size())
        .as("default page")
        .isEqualTo(Math.min(20, all.size()));

    for (String bad : List.of("limit=0", "limit=101", "limit=x", "before=x")) {
      ApiClient.Response r = bob.get("/api/notifications?" + bad).expect(400);
      assertThat(r.errorCode()).as(bad).isEqualTo("validation_failed");
      assertThat(r.json().get("error").get("fields").size()).as(bad).isEqualTo(1);
    }
    bob.get("/api/notifications?limit=100").expect(200);
    bob.get("/api/notifications?limit=1").expect(200);
  }

  @Test
  void removedMembersAreNoLongerToldWhatHappensInTheProject() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "Removed", "[\"bob\",\"dave\"]");
    long item = addItem(bob, p, "Careers");
    long a = comment(bob, p, null, "My draft is in").get("id").asLong();
    alice.delete("/api/projects/" + p + "/members/bob").expect(200);
    bob.get("/api/projects/" + p).expect(404);
    int before = about(bob, p).size();

    alice
        .post(
            "/api/activities/" + a + "/replies",
            "{\"message\":\"Secret reply to a former member\"}")
        .expect(201);
    comment(alice, p, item, "Secret comment on an item a former member changed");
    comment(alice, p, null, "@bob @dave secret mention");
    app.login("dave").post("/api/projects/" + p + "/items/" + item + "/ready", null).expect(200);
    assertThat(about(bob, p))
        .as("a former member sees nothing of the project, not even in notifications")
        .hasSize(before);
    assertThat(kinds(about(app.login("dave"), p)))
        .as("members still are")
        .containsExactly("mentioned");
    assertThat(kinds(about(alice, p))).containsExactly("status_change");
  }

  @Test
  void notificationChangesCarryTheWholeNotificationEvenAfterItWasRead() {
    ApiClient alice = app.login("alice");
    ApiClient bob = app.login("bob");
    long p = newProject(alice, "Resync", "[\"bob\"]");
    long seq = bob.get("/api/notifications").expect(200).json().get("seq").asLong();
    comment(alice, p, null, "@bob while you were away");
    long id = about(bob, p).get(0).get("id").asLong();
    bob.post("/api/notifications/" + id + "/read", null).expect(204);

    JsonNode delta = bob.get("/api/notifications/changes?since=" + seq).expect(200).json();
    List<JsonNode> about = new ArrayList<>();
    List<Long> seqs = new ArrayList<>();
    delta
        .get("changes")
        .forEach(
            c -> {
              seqs.add(c.get("seq").asLong());
              if (c.get("type").asText().equals("notification")
                  && c.get("id").asText().equals(String.valueOf(id))) {
                about.add(c);
              }
            });
    assertThat(seqs).isSorted().allMatch(s -> s > seq);
    assertThat(delta.get("seq").asLong()).isEqualTo(seqs.get(seqs.size() - 1));
    assertThat(about).as("compacted: one change per notification").hasSize(1);
    JsonNode data = about.get(0).get("data");
    assertThat(data.get("read").asBoolean()).isTrue();
    assertThat(data.path("subject").asText())
        .as("a client that missed the creation still learns what it was: %s", data)
        .isEqualTo("Alice mentioned you in Resync");
    assertThat(data.path("kind").asText()).isEqualTo("mentioned");
    assertThat(data.path("sender").asText()).isEqualTo("alice");
    assertThat(data.path("link").asText()).startsWith("/projects/" + p + "#activity-");
    assertThat(data.path("text").asText()).isEqualTo("@bob while you were away");
  }

  @Test
  void changesNeverClaimASeqBeyondWhatTheyReturn() {
    ApiClient alice = app.login("alice");
    ApiClient dave = app.login("dave");
    long p = newProject(alice, "Busy", "[\"dave\"]");
    long seq = dave.get("/api/notifications").expect(200).json().get("seq").asLong();
    app.app()
        .db()
        .write(
            h -> {
              Outbox outbox = Outbox.create();
              for (int i = 0; i < 10_001; i++) {
                outbox.record(
                    h.getConnection(),
                    "user:dave:notifications",
                    Event.created("filler", "f" + i, 1, "{}"));
              }
              // As if long published: the relay has nothing to send for them.
              h.execute("UPDATE herald_outbox SET relayed_at = created_at WHERE type = 'filler'");
              return null;
            });
    comment(alice, p, null, "@dave after a busy day");
    JsonNode delta = dave.get("/api/notifications/changes?since=" + seq).expect(200).json();
    boolean hasTheMention = false;
    for (JsonNode c : delta.get("changes")) {
      hasTheMention |=
          c.path("type").asText().equals("notification")
              && c.path("data").path("text").asText().equals("@dave after a busy day");
    }
    long head = dave.get("/api/notifications").json().get("seq").asLong();
    assertThat(hasTheMention || delta.get("seq").asLong() < head)
        .as(
            "either the delta holds the newest change, or its seq tells the client to ask again (seq %s, head %s)",
            delta.get("seq").asLong(), head)
        .isTrue();
    assertThat(delta.get("more").asBoolean()).as("a truncated delta says so").isTrue();
    JsonNode rest =
        dave.get("/api/notifications/changes?since=" + delta.get("seq").asLong())
            .expect(200)
            .json();
    assertThat(rest.get("more").asBoolean()).isFalse();
    assertThat(rest.get("seq").asLong()).isEqualTo(head);
    boolean found = false;
    for (JsonNode c : rest.get("changes")) {
      found |=
          c.path("type").asText().equals("notification")
              && c.path("data").path("text").asText().equals("@dave after a busy day");
    }
    assertThat(found).as("the next page holds the newest change").isTrue();
  }
}
