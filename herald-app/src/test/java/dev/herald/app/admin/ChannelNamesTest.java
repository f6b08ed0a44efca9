package dev.herald.app.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.app.db.Database;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Channel names from the app's data, on a real (in-memory) H2 database with the app's schema. */
class ChannelNamesTest {
  private Database db;
  private ChannelNames names;

  @BeforeEach
  void start() {
    db = new Database("jdbc:h2:mem:names-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 2);
    db.migrate();
    names = new ChannelNames(db);
    user("alice", "Alice Lee");
    user("bob", "Bob Reviewer");
  }

  @AfterEach
  void stop() {
    db.close();
  }

  private void user(String id, String name) {
    db.write(
        h ->
            h.createUpdate(
                    "INSERT INTO users (id, display_name, role, password_hash, created_at)"
                        + " VALUES (:id, :n, 'editor', 'x', :t)")
                .bind("id", id)
                .bind("n", name)
                .bind("t", OffsetDateTime.now())
                .execute());
  }

  private long project(String name) {
    return db.write(
        h ->
            h.createUpdate(
                    "INSERT INTO projects (name, description, status, created_by, created_at,"
                        + " version) VALUES (:n, '', 'active', 'alice', :t, 1)")
                .bind("n", name)
                .bind("t", OffsetDateTime.now())
                .executeAndReturnGeneratedKeys("id")
                .mapTo(Long.class)
                .one());
  }

  @Test
  void projectsByNameAndNotificationsByTheirOwnersName() {
    long spring = project("Spring campaign");
    long autumn = project("Autumn <b>sale</b>");
    Map<String, ChannelNames.Named> out =
        names.names(
            List.of(
                "project:" + spring,
                "user:bob:notifications",
                "project:" + autumn,
                "user:alice:drafts",
                "admin:stats"));
    assertThat(out.keySet())
        .containsExactly(
            "project:" + spring,
            "user:bob:notifications",
            "project:" + autumn,
            "user:alice:drafts",
            "admin:stats");
    assertThat(out.get("project:" + spring))
        .isEqualTo(
            new ChannelNames.Named(
                "project:" + spring, "Spring campaign", "project", "#/projects/" + spring));
    assertThat(out.get("project:" + autumn).label()).isEqualTo("Autumn <b>sale</b>");
    assertThat(out.get("user:bob:notifications"))
        .isEqualTo(
            new ChannelNames.Named(
                "user:bob:notifications", "Notifications of Bob Reviewer", "notifications", null));
    assertThat(out.get("user:alice:drafts").label()).isEqualTo("Alice Lee: drafts");
    assertThat(out.get("user:alice:drafts").kind()).isEqualTo("user");
    assertThat(out.get("admin:stats").label()).isEqualTo("Admin console statistics");
  }

  @Test
  void whatTheAppDoesNotKnowKeepsItsRawNameMarkedUnknown() {
    assertThat(names.name("project:999").label()).isEqualTo("Unknown project 999");
    assertThat(names.name("project:999").kind()).isEqualTo("unknown");
    assertThat(names.name("project:999").link()).isNull();
    assertThat(names.name("user:zoe:notifications").label())
        .isEqualTo("Unknown user zoe (notifications)");
    for (String raw :
        List.of("other:thing", "project:abc", "project:0", "project:", "user:alice", "plain")) {
      ChannelNames.Named n = names.name(raw);
      assertThat(n.label()).as(raw).isEqualTo(raw);
      assertThat(n.kind()).as(raw).isEqualTo("unknown");
    }
  }

  @Test
  void manyChannelsAreLookedUpInSlices() {
    List<String> channels = new ArrayList<>();
    long last = 0;
    for (int i = 0; i < ChannelNames.SLICE + 3; i++) {
      last = project("P" + i);
      channels.add("project:" + last);
    }
    Map<String, ChannelNames.Named> out = names.names(channels);
    assertThat(out).hasSize(ChannelNames.SLICE + 3);
    assertThat(out.values()).allSatisfy(n -> assertThat(n.kind()).isEqualTo("project"));
    assertThat(out.get("project:" + last).label()).isEqualTo("P" + (ChannelNames.SLICE + 2));
  }

  @Test
  void parsesOnlyWellFormedNames() {
    assertThat(ChannelNames.parse("project:12")).isEqualTo(new ChannelNames.ProjectRef(12));
    assertThat(ChannelNames.parse("project:99999999999999999999"))
        .isInstanceOf(ChannelNames.OtherRef.class);
    assertThat(ChannelNames.parse("user:bob:notifications"))
        .isEqualTo(new ChannelNames.UserRef("bob", "notifications"));
    assertThat(ChannelNames.parse("user:bob:a:b"))
        .isEqualTo(new ChannelNames.UserRef("bob", "a:b"));
    assertThat(ChannelNames.parse("user::x")).isInstanceOf(ChannelNames.OtherRef.class);
    assertThat(ChannelNames.parse(":x")).isInstanceOf(ChannelNames.OtherRef.class);
  }
}
