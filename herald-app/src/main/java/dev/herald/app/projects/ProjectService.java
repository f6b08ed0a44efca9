package dev.herald.app.projects;

import dev.herald.app.access.Access;
import dev.herald.app.activity.ActivityService;
import dev.herald.app.db.Database;
import dev.herald.app.events.ChangeLog;
import dev.herald.app.notifications.NotificationKind;
import dev.herald.app.notifications.NotificationService;
import dev.herald.app.users.User;
import dev.herald.app.users.UserRepository;
import dev.herald.app.web.ApiException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jdbi.v3.core.Handle;
import org.jspecify.annotations.Nullable;

/**
 * Projects and their items: the rules editors know from the CMS, each change committed together
 * with its events (project channel), system activity and notifications.
 */
public final class ProjectService {
  /** Longest project name, description and item title, in characters after trimming. */
  public static final int MAX_NAME = 200;

  public static final int MAX_DESCRIPTION = 4000;
  public static final int MAX_TITLE = 300;

  /** A time in a field message: "2026-12-01 09:00 UTC+01:00", in the offset the client sent. */
  private static final DateTimeFormatter MINUTE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'xxx", java.util.Locale.ROOT);

  private final Database db;
  private final ChangeLog changes;
  private final ActivityService activities;
  private final NotificationService notifications;
  private final ContentPublisher publisher;
  private final Clock clock;

  public ProjectService(
      Database db,
      ChangeLog changes,
      ActivityService activities,
      NotificationService notifications,
      ContentPublisher publisher,
      Clock clock) {
    this.db = db;
    this.changes = changes;
    this.activities = activities;
    this.notifications = notifications;
    this.publisher = publisher;
    this.clock = clock;
  }

  public static String channel(long projectId) {
    return "project:" + projectId;
  }

  // ---------------------------------------------------------------- projects

  public List<Project> list(User user) {
    return db.read(
        h -> {
          List<Long> ids =
              user.isAdmin()
                  ? h.createQuery("SELECT id FROM projects ORDER BY id").mapTo(Long.class).list()
                  : h.createQuery(
                          "SELECT p.id FROM projects p JOIN project_members m ON m.project_id = p.id WHERE m.user_id = :u ORDER BY p.id")
                      .bind("u", user.id())
                      .mapTo(Long.class)
                      .list();
          List<Project> out = new ArrayList<>();
          for (long id : ids) {
            out.add(load(h, id).orElseThrow());
          }
          return out;
        });
  }

  public Project get(User user, long id) {
    return db.read(
        h -> {
          Access.require(h, user, id);
          return load(h, id).orElseThrow(() -> ApiException.notFound("Project " + id));
        });
  }

  public Project create(
      User user, @Nullable String name, @Nullable String description, List<String> members) {
    Map<String, String> errors = new LinkedHashMap<>();
    String n = name == null ? "" : name.strip();
    if (n.isEmpty()) {
      errors.put("name", "Give the project a name.");
    } else if (n.length() > MAX_NAME) {
      errors.put("name", ApiException.tooLong("The name", n.length(), MAX_NAME));
    }
    String d = description == null ? "" : description.strip();
    if (d.length() > MAX_DESCRIPTION) {
      errors.put(
          "description", ApiException.tooLong("The description", d.length(), MAX_DESCRIPTION));
    }
    Set<String> all = new LinkedHashSet<>();
    all.add(user.id());
    if (members != null) {
      all.addAll(members);
    }
    return db.write(
        h -> {
          List<String> unknown =
              all.stream().filter(m -> UserRepository.find(h, m).isEmpty()).toList();
          if (!unknown.isEmpty()) {
            errors.put(
                "members",
                (unknown.size() == 1 ? "There is no user " : "There are no users ")
                    + unknown.stream().map(m -> "'" + m + "'").collect(Collectors.joining(", "))
                    + ". Use user names, such as bob.");
          }
          if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
          }
          OffsetDateTime now = OffsetDateTime.now(clock);
          long id =
              h.createUpdate(
                      "INSERT INTO projects (name, description, status, created_by, created_at, version) VALUES (:n, :d, 'active', :u, :now, 1)")
                  .bind("n", n)
                  .bind("d", d)
                  .bind("u", user.id())
                  .bind("now", now)
                  .executeAndReturnGeneratedKeys("id")
                  .mapTo(Long.class)
                  .one();
          for (String m : all) {
            h.createUpdate("INSERT INTO project_members (project_id, user_id) VALUES (:p, :u)")
                .bind("p", id)
                .bind("u", m)
                .execute();
          }
          Project p = load(h, id).orElseThrow();
          changes.record(h, channel(id), "project", String.valueOf(id), "created", p.version(), p);
          for (String m : all) {
            joined(h, user, p, m);
          }
          return p;
        });
  }

  public Project addMember(User user, long projectId, @Nullable String memberId) {
    return db.write(
        h -> {
          Access.require(h, user, projectId);
          if (memberId == null
              || memberId.isBlank()
              || UserRepository.find(h, memberId).isEmpty()) {
            throw ApiException.invalid(
                Map.of(
                    "userId",
                    memberId == null || memberId.isBlank()
                        ? "Give the user name of the person to add."
                        : "There is no user '" + memberId + "'. Use a user name, such as bob."));
          }
          if (Access.isMember(h, memberId, projectId)) {
            return touchProject(h, projectId);
          }
          h.createUpdate("INSERT INTO project_members (project_id, user_id) VALUES (:p, :u)")
              .bind("p", projectId)
              .bind("u", memberId)
              .execute();
          Project p = touchProject(h, projectId);
          joined(h, user, p, memberId);
          return p;
        });
  }

  public Project removeMember(User user, long projectId, String memberId) {
    return db.write(
        h -> {
          Access.require(h, user, projectId);
          int members =
              h.createQuery("SELECT COUNT(*) FROM project_members WHERE project_id = :p")
                  .bind("p", projectId)
                  .mapTo(Integer.class)
                  .one();
          if (!Access.isMember(h, memberId == null ? "" : memberId, projectId)) {
            throw ApiException.notFound("Member '" + memberId + "' of project " + projectId);
          }
          if (members <= 1) {
            throw ApiException.conflict("A project needs at least one member.");
          }
          h.createUpdate("DELETE FROM project_members WHERE project_id = :p AND user_id = :u")
              .bind("p", projectId)
              .bind("u", memberId)
              .execute();
          Project p = touchProject(h, projectId);
          notifications.recordMembership(
              h, memberId, projectId, false, p.version(), Map.of("projectId", projectId));
          return p;
        });
  }

  /**
   * {@code member} joined {@code p} (created with them, or added): their channel learns it, and
   * they are notified unless they did it themselves.
   */
  private void joined(Handle h, User by, Project p, String member) {
    notifications.recordMembership(h, member, p.id(), true, p.version(), p);
    notifications.notify(
        h,
        member,
        by.id(),
        NotificationKind.ADDED,
        "You were added to " + p.name(),
        by.displayName() + " added you to " + p.name() + ".",
        "/projects/" + p.id());
  }

  // ---------------------------------------------------------------- items

  public List<ProjectItem> items(User user, long projectId) {
    return db.read(
        h -> {
          Access.require(h, user, projectId);
          return h.createQuery("SELECT * FROM project_items WHERE project_id = :p ORDER BY id")
              .bind("p", projectId)
              .map((rs, ctx) -> item(rs))
              .list();
        });
  }

  public ProjectItem addItem(
      User user,
      long projectId,
      @Nullable String contentRef,
      @Nullable Integer contentVersion,
      @Nullable String title,
      @Nullable String type) {
    return addItem(user, projectId, contentRef, contentVersion, title, type, Map.of());
  }

  /**
   * Adds a content version; {@code typeErrors} are the fields the request already found with a
   * wrong type, reported in the same 400 as the others.
   */
  public ProjectItem addItem(
      User user,
      long projectId,
      @Nullable String contentRef,
      @Nullable Integer contentVersion,
      @Nullable String title,
      @Nullable String type,
      Map<String, String> typeErrors) {
    // A field with a wrong type keeps that error; the checks below fill in the others.
    Map<String, String> errors = new LinkedHashMap<>();
    if (contentRef == null || contentRef.isBlank()) {
      errors.put("contentRef", "Give the content as kind/id, for example page/12.");
    } else if (!contentRef.matches("[a-z]+/[A-Za-z0-9_-]{1,100}")) {
      errors.put(
          "contentRef",
          "Write the content as kind/id, for example page/12: lower-case letters, a slash, then"
              + " up to 100 letters, digits, _ or -.");
    }
    if (contentVersion == null || contentVersion < 1) {
      errors.put("contentVersion", "Give the version number: a whole number from 1.");
    }
    String t = title == null ? "" : title.strip();
    if (t.isEmpty()) {
      errors.put("title", "Give the item a title.");
    } else if (t.length() > MAX_TITLE) {
      errors.put("title", ApiException.tooLong("The title", t.length(), MAX_TITLE));
    }
    ItemType itemType = null;
    try {
      itemType = ItemType.of(type == null ? "" : type);
    } catch (IllegalArgumentException e) {
      errors.put("type", "Choose page, block or media.");
    }
    for (Map.Entry<String, String> e : typeErrors.entrySet()) {
      errors.put(e.getKey(), e.getValue());
    }
    if (itemType == null || !errors.isEmpty()) { // no type: errors says why
      throw ApiException.invalid(errors);
    }
    ItemType finalType = itemType;
    return db.write(
        h -> {
          Access.require(h, user, projectId);
          requireNotPublishing(h, projectId);
          Optional<Long> taken =
              h.createQuery(
                      "SELECT project_id FROM project_items WHERE content_ref = :c AND content_version = :v")
                  .bind("c", contentRef)
                  .bind("v", contentVersion)
                  .mapTo(Long.class)
                  .findOne();
          if (taken.isPresent()) {
            throw ApiException.conflict(
                "Version "
                    + contentVersion
                    + " of "
                    + contentRef
                    + " is already in a project"
                    + (taken.get() == projectId
                        ? " (this one)."
                        : "; create a new draft to add it here."));
          }
          OffsetDateTime now = OffsetDateTime.now(clock);
          long id =
              h.createUpdate(
                      "INSERT INTO project_items (project_id, content_ref, content_version, title, type, status, changed_by, changed_at, version) "
                          + "VALUES (:p, :c, :v, :t, :ty, 'draft', :u, :now, 1)")
                  .bind("p", projectId)
                  .bind("c", contentRef)
                  .bind("v", contentVersion)
                  .bind("t", t)
                  .bind("ty", finalType.wire())
                  .bind("u", user.id())
                  .bind("now", now)
                  .executeAndReturnGeneratedKeys("id")
                  .mapTo(Long.class)
                  .one();
          ProjectItem item = loadItem(h, projectId, id);
          changes.record(
              h, channel(projectId), "item", String.valueOf(id), "created", item.version(), item);
          activities.recordSystem(
              h, projectId, id, "item_added", user.displayName() + " added " + t + ".");
          touchProject(h, projectId);
          return item;
        });
  }

  public void removeItem(User user, long projectId, long itemId) {
    db.write(
        h -> {
          Access.require(h, user, projectId);
          requireNotPublishing(h, projectId);
          ProjectItem item = loadItem(h, projectId, itemId);
          if (item.status().equals(ItemStatus.PUBLISHED.wire())) {
            throw ApiException.conflict(
                "Published items stay in the project as a record of what was published.");
          }
          h.createUpdate("DELETE FROM project_items WHERE id = :i").bind("i", itemId).execute();
          changes.record(
              h,
              channel(projectId),
              "item",
              String.valueOf(itemId),
              "deleted",
              item.version() + 1,
              Map.of("id", itemId, "projectId", projectId));
          activities.recordSystem(
              h,
              projectId,
              null,
              "item_removed",
              user.displayName() + " removed " + item.title() + ".");
          touchProject(h, projectId);
          return null;
        });
  }

  /** Longest reason for a rejection, after trimming. */
  public static final int MAX_REASON = 1000;

  public ProjectItem markReady(User user, long projectId, long itemId) {
    return changeStatus(
        user,
        projectId,
        itemId,
        ItemStatus.READY,
        Set.of(ItemStatus.DRAFT, ItemStatus.REJECTED),
        title -> "marked " + title + " ready to publish.");
  }

  /**
   * Rejects an item, for a reason that is required: it goes into the system activity ("Bob rejected
   * Pricing: the price is wrong") and so into the feed and the members' notifications.
   */
  public ProjectItem reject(User user, long projectId, long itemId, @Nullable String reason) {
    String r = reason == null ? "" : reason.strip();
    if (r.isEmpty() || r.length() > MAX_REASON) {
      throw ApiException.invalid(
          Map.of(
              "reason",
              r.isEmpty()
                  ? "Say why you reject it, so that the others know what to change."
                  : ApiException.tooLong("The reason", r.length(), MAX_REASON)));
    }
    return changeStatus(
        user,
        projectId,
        itemId,
        ItemStatus.REJECTED,
        Set.of(ItemStatus.DRAFT, ItemStatus.READY),
        title -> "rejected " + title + ": " + r);
  }

  private ProjectItem changeStatus(
      User user,
      long projectId,
      long itemId,
      ItemStatus to,
      Set<ItemStatus> from,
      Function<String, String> what) {
    return db.write(
        h -> {
          Access.require(h, user, projectId);
          requireNotPublishing(h, projectId);
          ProjectItem item = loadItem(h, projectId, itemId);
          ItemStatus current = ItemStatus.of(item.status());
          if (!from.contains(current)) {
            throw ApiException.conflict(
                "The item is "
                    + current.wire().replace('_', ' ')
                    + "; it cannot be "
                    + to.wire()
                    + " now.");
          }
          ProjectItem updated = setItemStatus(h, item, to, user.id());
          String message = user.displayName() + " " + what.apply(item.title());
          activities.recordSystem(h, projectId, itemId, "item_status", message);
          Project p = touchProject(h, projectId);
          for (String member : p.members()) {
            notifications.notify(
                h,
                member,
                user.id(),
                NotificationKind.STATUS_CHANGE,
                item.title()
                    + (to == ItemStatus.READY ? " ready to publish" : " " + to.wire())
                    + " in "
                    + p.name(),
                message,
                "/projects/" + projectId + "#item-" + itemId);
          }
          return updated;
        });
  }

  // ---------------------------------------------------------------- publishing

  /**
   * Publishes the project's ready items now. Refused when none is ready. The project shows
   * "publishing" while the content publisher runs; then "active", or "publish failed" with the
   * failed items left ready.
   */
  public Project publish(@Nullable User user, long projectId) {
    List<ProjectItem> ready =
        db.write(
            h -> {
              if (user != null) {
                Access.require(h, user, projectId);
              }
              Project p =
                  load(h, projectId)
                      .orElseThrow(() -> ApiException.notFound("Project " + projectId));
              if (p.status().equals(ProjectStatus.PUBLISHING.wire())) {
                throw ApiException.conflict("The project is already being published.");
              }
              List<ProjectItem> items =
                  itemsWithStatus(
                      h,
                      projectId,
                      p.status().equals(ProjectStatus.SCHEDULED.wire())
                          ? ItemStatus.SCHEDULED
                          : ItemStatus.READY);
              if (items.isEmpty()) {
                throw ApiException.conflict(
                    "Nothing to publish: no item in \"" + p.name() + "\" is ready to publish.");
              }
              setProjectStatus(h, projectId, ProjectStatus.PUBLISHING, null);
              return items;
            });
    Set<Long> failed;
    try {
      failed = publisher.publish(ready);
    } catch (RuntimeException e) {
      failed = new LinkedHashSet<>();
      for (ProjectItem i : ready) {
        failed.add(i.id());
      }
    }
    Set<Long> failedIds = failed;
    String actor = user == null ? null : user.id();
    String who = user == null ? "Scheduled publishing" : user.displayName();
    return db.write(
        h -> {
          int published = 0;
          for (ProjectItem i : ready) {
            ProjectItem current = loadItemOrNull(h, projectId, i.id());
            if (current == null) {
              continue;
            }
            if (failedIds.contains(i.id())) {
              setItemStatus(h, current, ItemStatus.READY, current.changedBy());
            } else {
              setItemStatus(
                  h, current, ItemStatus.PUBLISHED, actor == null ? current.changedBy() : actor);
              published++;
            }
          }
          boolean ok = failedIds.isEmpty();
          setProjectStatus(
              h, projectId, ok ? ProjectStatus.ACTIVE : ProjectStatus.PUBLISH_FAILED, null);
          Project p = load(h, projectId).orElseThrow();
          String message =
              ok
                  ? who + " published " + published + " item" + (published == 1 ? "" : "s") + "."
                  : who
                      + " published "
                      + published
                      + " item"
                      + (published == 1 ? "" : "s")
                      + "; "
                      + failedIds.size()
                      + " failed to publish.";
          activities.recordSystem(h, projectId, null, ok ? "published" : "publish_failed", message);
          for (String member : p.members()) {
            notifications.notify(
                h,
                member,
                actor,
                ok ? NotificationKind.PUBLISHED : NotificationKind.PUBLISH_FAILED,
                (ok ? "Published: " : "Publishing failed: ") + p.name(),
                message,
                "/projects/" + projectId);
          }
          return p;
        });
  }

  public Project schedule(User user, long projectId, @Nullable OffsetDateTime at) {
    if (at == null) {
      throw ApiException.invalid(Map.of("at", "Choose the date and time to publish at."));
    }
    OffsetDateTime now = OffsetDateTime.now(clock);
    if (!at.isAfter(now)) {
      throw ApiException.invalid(
          Map.of(
              "at",
              "Choose a time in the future: "
                  + MINUTE.format(at)
                  + " has passed (it is now "
                  + MINUTE.format(now.withOffsetSameInstant(at.getOffset()))
                  + ")."));
    }
    return db.write(
        h -> {
          Access.require(h, user, projectId);
          Project p = load(h, projectId).orElseThrow();
          if (p.status().equals(ProjectStatus.PUBLISHING.wire())) {
            throw ApiException.conflict("The project is being published.");
          }
          List<ProjectItem> ready = itemsWithStatus(h, projectId, ItemStatus.READY);
          if (ready.isEmpty() && !p.status().equals(ProjectStatus.SCHEDULED.wire())) {
            throw ApiException.conflict(
                "Nothing to schedule: no item in \"" + p.name() + "\" is ready to publish.");
          }
          for (ProjectItem i : ready) {
            setItemStatus(h, i, ItemStatus.SCHEDULED, user.id());
          }
          setProjectStatus(h, projectId, ProjectStatus.SCHEDULED, at);
          activities.recordSystem(
              h,
              projectId,
              null,
              "scheduled",
              user.displayName() + " scheduled publishing for " + at + ".");
          return load(h, projectId).orElseThrow();
        });
  }

  public Project unschedule(User user, long projectId) {
    return db.write(
        h -> {
          Access.require(h, user, projectId);
          Project p = load(h, projectId).orElseThrow();
          if (!p.status().equals(ProjectStatus.SCHEDULED.wire())) {
            throw ApiException.conflict("The project is not scheduled.");
          }
          for (ProjectItem i : itemsWithStatus(h, projectId, ItemStatus.SCHEDULED)) {
            setItemStatus(h, i, ItemStatus.READY, user.id());
          }
          setProjectStatus(h, projectId, ProjectStatus.ACTIVE, null);
          activities.recordSystem(
              h,
              projectId,
              null,
              "unscheduled",
              user.displayName() + " removed the scheduled publishing.");
          return load(h, projectId).orElseThrow();
        });
  }

  /**
   * Repairs projects left "publishing" by a process that stopped mid-publish (the status is set in
   * one transaction, the result written in a second): they become "publish failed", with a system
   * activity and a notification, so editors can publish again. Returns how many.
   */
  public int repairInterruptedPublishing() {
    List<Long> stuck =
        db.read(
            h ->
                h.createQuery("SELECT id FROM projects WHERE status = 'publishing'")
                    .mapTo(Long.class)
                    .list());
    for (long id : stuck) {
      db.write(
          h -> {
            setProjectStatus(h, id, ProjectStatus.PUBLISH_FAILED, null);
            Project p = load(h, id).orElseThrow();
            String message =
                "Publishing was interrupted (the server stopped); no item changed. Publish again.";
            activities.recordSystem(h, id, null, "publish_failed", message);
            for (String member : p.members()) {
              notifications.notify(
                  h,
                  member,
                  null,
                  NotificationKind.PUBLISH_FAILED,
                  "Publishing failed: " + p.name(),
                  message,
                  "/projects/" + id);
            }
            return null;
          });
    }
    return stuck.size();
  }

  /** Publishes every scheduled project whose time has come; returns how many. */
  public int publishDue() {
    List<Long> due =
        db.read(
            h ->
                h.createQuery(
                        "SELECT id FROM projects WHERE status = 'scheduled' AND scheduled_at <= :now ORDER BY id")
                    .bind("now", OffsetDateTime.now(clock))
                    .mapTo(Long.class)
                    .list());
    int n = 0;
    for (long id : due) {
      try {
        publish(null, id);
        n++;
      } catch (ApiException e) {
        // changed meanwhile (unscheduled, emptied): nothing to do
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- helpers

  private void requireNotPublishing(Handle h, long projectId) {
    String status =
        h.createQuery("SELECT status FROM projects WHERE id = :p")
            .bind("p", projectId)
            .mapTo(String.class)
            .one();
    if (status.equals(ProjectStatus.PUBLISHING.wire())) {
      throw ApiException.conflict("The project is being published; try again in a moment.");
    }
  }

  private ProjectItem setItemStatus(Handle h, ProjectItem item, ItemStatus to, String by) {
    h.createUpdate(
            "UPDATE project_items SET status = :s, changed_by = :u, changed_at = :now, version = version + 1 WHERE id = :i")
        .bind("s", to.wire())
        .bind("u", by)
        .bind("now", OffsetDateTime.now(clock))
        .bind("i", item.id())
        .execute();
    ProjectItem updated = loadItem(h, item.projectId(), item.id());
    changes.record(
        h,
        channel(item.projectId()),
        "item",
        String.valueOf(item.id()),
        "updated",
        updated.version(),
        updated);
    return updated;
  }

  private void setProjectStatus(
      Handle h, long projectId, ProjectStatus status, @Nullable OffsetDateTime scheduledAt) {
    h.createUpdate("UPDATE projects SET status = :s, scheduled_at = :at WHERE id = :p")
        .bind("s", status.wire())
        .bind("at", scheduledAt)
        .bind("p", projectId)
        .execute();
    touchProject(h, projectId);
  }

  /** Bumps the project's version and records it (its counts or members changed). */
  private Project touchProject(Handle h, long projectId) {
    h.createUpdate("UPDATE projects SET version = version + 1 WHERE id = :p")
        .bind("p", projectId)
        .execute();
    Project p = load(h, projectId).orElseThrow();
    changes.record(
        h, channel(projectId), "project", String.valueOf(projectId), "updated", p.version(), p);
    return p;
  }

  private List<ProjectItem> itemsWithStatus(Handle h, long projectId, ItemStatus status) {
    return h.createQuery(
            "SELECT * FROM project_items WHERE project_id = :p AND status = :s ORDER BY id")
        .bind("p", projectId)
        .bind("s", status.wire())
        .map((rs, ctx) -> item(rs))
        .list();
  }

  static Optional<Project> load(Handle h, long id) {
    return h.createQuery("SELECT * FROM projects WHERE id = :id")
        .bind("id", id)
        .map(
            (rs, ctx) -> {
              Map<String, Integer> counts = new LinkedHashMap<>();
              for (ItemStatus s : ItemStatus.values()) {
                counts.put(s.wire(), 0);
              }
              h.createQuery(
                      "SELECT status, COUNT(*) AS n FROM project_items WHERE project_id = :p GROUP BY status")
                  .bind("p", id)
                  .map((r2, c2) -> Map.entry(r2.getString(1), r2.getInt(2)))
                  .forEach(e -> counts.put(e.getKey(), e.getValue()));
              List<String> members =
                  h.createQuery(
                          "SELECT user_id FROM project_members WHERE project_id = :p ORDER BY user_id")
                      .bind("p", id)
                      .mapTo(String.class)
                      .list();
              return new Project(
                  rs.getLong("id"),
                  rs.getString("name"),
                  rs.getString("description"),
                  rs.getString("status"),
                  rs.getObject("scheduled_at", OffsetDateTime.class),
                  rs.getString("created_by"),
                  rs.getObject("created_at", OffsetDateTime.class),
                  rs.getLong("version"),
                  members,
                  counts);
            })
        .findOne();
  }

  static ProjectItem loadItem(Handle h, long projectId, long itemId) {
    ProjectItem i = loadItemOrNull(h, projectId, itemId);
    if (i == null) {
      throw ApiException.notFound("Item " + itemId);
    }
    return i;
  }

  static @Nullable ProjectItem loadItemOrNull(Handle h, long projectId, long itemId) {
    return h.createQuery("SELECT * FROM project_items WHERE id = :i AND project_id = :p")
        .bind("i", itemId)
        .bind("p", projectId)
        .map((rs, ctx) -> item(rs))
        .findOne()
        .orElse(null);
  }

  static ProjectItem item(java.sql.ResultSet rs) throws java.sql.SQLException {
    return new ProjectItem(
        rs.getLong("id"),
        rs.getLong("project_id"),
        rs.getString("content_ref"),
        rs.getInt("content_version"),
        rs.getString("title"),
        rs.getString("type"),
        rs.getString("status"),
        rs.getString("changed_by"),
        rs.getObject("changed_at", OffsetDateTime.class),
        rs.getLong("version"));
  }
}
