package dev.herald.app.activity;

import dev.herald.app.access.Access;
import dev.herald.app.db.Database;
import dev.herald.app.events.ChangeLog;
import dev.herald.app.notifications.NotificationKind;
import dev.herald.app.notifications.NotificationService;
import dev.herald.app.users.User;
import dev.herald.app.web.ApiException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jspecify.annotations.Nullable;

/**
 * The activity feed: system activities recorded by project changes, and user posts (comments) with
 * replies. Authors may edit and delete their own posts and replies. Mentions notify the mentioned
 * users who may see the project; a reply notifies the post's author; an item comment notifies
 * whoever last changed the item. One change notifies each person at most once.
 */
public final class ActivityService {
  public static final int MAX_MESSAGE = 4000;
  public static final int MAX_PAGE = 100;

  private final Database db;
  private final ChangeLog changes;
  private final NotificationService notifications;
  private final Clock clock;

  public ActivityService(
      Database db, ChangeLog changes, NotificationService notifications, Clock clock) {
    this.db = db;
    this.changes = changes;
    this.notifications = notifications;
    this.clock = clock;
  }

  static String channel(long projectId) {
    return "project:" + projectId;
  }

  /** Records a system activity inside the caller's write transaction. */
  public void recordSystem(
      Handle h, long projectId, @Nullable Long itemId, String systemType, String message) {
    OffsetDateTime now = OffsetDateTime.now(clock);
    long id =
        h.createUpdate(
                "INSERT INTO activities (project_id, item_id, kind, system_type, message, created_at, updated_at, version) "
                    + "VALUES (:p, :i, 'system', :st, :m, :now, :now, 1)")
            .bind("p", projectId)
            .bind("i", itemId)
            .bind("st", systemType)
            .bind("m", message)
            .bind("now", now)
            .executeAndReturnGeneratedKeys("id")
            .mapTo(Long.class)
            .one();
    changes.record(
        h, channel(projectId), "activity", String.valueOf(id), "created", 1, load(h, id));
  }

  /** The feed, newest first; {@code before} is an id cursor (exclusive) or null. */
  public List<Activity> list(User user, long projectId, @Nullable Long before, int limit) {
    if (limit < 1 || limit > MAX_PAGE) {
      throw ApiException.invalid(Map.of("limit", "Give a number from 1 to " + MAX_PAGE + "."));
    }
    return db.read(
        h -> {
          Access.require(h, user, projectId);
          List<Long> ids =
              h.createQuery(
                      "SELECT id FROM activities WHERE project_id = :p AND id < :b ORDER BY id DESC")
                  .bind("p", projectId)
                  .bind("b", before == null ? Long.MAX_VALUE : before)
                  .setMaxRows(limit)
                  .mapTo(Long.class)
                  .list();
          List<Activity> out = new ArrayList<>();
          for (long id : ids) {
            out.add(load(h, id));
          }
          return out;
        });
  }

  public Activity post(User user, long projectId, @Nullable Long itemId, @Nullable String message) {
    String text = validMessage(message);
    return db.write(
        h -> {
          Access.require(h, user, projectId);
          String itemChanger = null;
          String itemTitle = null;
          if (itemId != null) {
            var item =
                h.createQuery(
                        "SELECT changed_by, title FROM project_items WHERE id = :i AND project_id = :p")
                    .bind("i", itemId)
                    .bind("p", projectId)
                    .map((rs, ctx) -> new String[] {rs.getString(1), rs.getString(2)})
                    .findOne()
                    .orElseThrow(
                        () ->
                            ApiException.invalid(
                                Map.of(
                                    "itemId",
                                    "This item is not in the project (any more): choose another"
                                        + " one.")));
            itemChanger = item[0];
            itemTitle = item[1];
          }
          OffsetDateTime now = OffsetDateTime.now(clock);
          long id =
              h.createUpdate(
                      "INSERT INTO activities (project_id, item_id, kind, author, message, created_at, updated_at, version) "
                          + "VALUES (:p, :i, 'comment', :a, :m, :now, :now, 1)")
                  .bind("p", projectId)
                  .bind("i", itemId)
                  .bind("a", user.id())
                  .bind("m", text)
                  .bind("now", now)
                  .executeAndReturnGeneratedKeys("id")
                  .mapTo(Long.class)
                  .one();
          Activity a = load(h, id);
          changes.record(
              h, channel(projectId), "activity", String.valueOf(id), "created", a.version(), a);
          String place = place(h, projectId, itemTitle);
          String link = "/projects/" + projectId + "#activity-" + id;
          Set<String> notified = new LinkedHashSet<>();
          for (String m : a.mentions()) {
            if (notified.add(m)) {
              notifications.notify(
                  h,
                  m,
                  user.id(),
                  NotificationKind.MENTIONED,
                  user.displayName() + " mentioned you " + place,
                  text,
                  link);
            }
          }
          if (itemChanger != null
              && maySee(h, itemChanger, projectId)
              && notified.add(itemChanger)) {
            notifications.notify(
                h,
                itemChanger,
                user.id(),
                NotificationKind.ITEM_COMMENT,
                user.displayName() + " commented on " + itemTitle,
                text,
                link);
          }
          return a;
        });
  }

  public Activity edit(User user, long activityId, @Nullable String message) {
    String text = validMessage(message);
    return db.write(
        h -> {
          Activity before = ownedActivity(h, user, activityId);
          h.createUpdate(
                  "UPDATE activities SET message = :m, updated_at = :now, version = version + 1 WHERE id = :id")
              .bind("m", text)
              .bind("now", OffsetDateTime.now(clock))
              .bind("id", activityId)
              .execute();
          Activity a = load(h, activityId);
          changes.record(
              h,
              channel(a.projectId()),
              "activity",
              String.valueOf(activityId),
              "updated",
              a.version(),
              a);
          notifyNewMentions(
              h,
              user,
              place(h, a),
              before.mentions(),
              a.mentions(),
              text,
              "/projects/" + a.projectId() + "#activity-" + activityId);
          return a;
        });
  }

  public void delete(User user, long activityId) {
    db.write(
        h -> {
          Activity a = ownedActivity(h, user, activityId);
          h.createUpdate("DELETE FROM activities WHERE id = :id").bind("id", activityId).execute();
          changes.record(
              h,
              channel(a.projectId()),
              "activity",
              String.valueOf(activityId),
              "deleted",
              a.version() + 1,
              Map.of("id", activityId, "projectId", a.projectId()));
          return null;
        });
  }

  public Reply reply(User user, long activityId, @Nullable String message) {
    String text = validMessage(message);
    return db.write(
        h -> {
          Activity a = visibleActivity(h, user, activityId);
          OffsetDateTime now = OffsetDateTime.now(clock);
          long id =
              h.createUpdate(
                      "INSERT INTO replies (activity_id, author, message, created_at, updated_at, version) VALUES (:a, :u, :m, :now, :now, 1)")
                  .bind("a", activityId)
                  .bind("u", user.id())
                  .bind("m", text)
                  .bind("now", now)
                  .executeAndReturnGeneratedKeys("id")
                  .mapTo(Long.class)
                  .one();
          Reply r = loadReply(h, id);
          changes.record(
              h, channel(a.projectId()), "reply", String.valueOf(id), "created", r.version(), r);
          String link = "/projects/" + a.projectId() + "#reply-" + id;
          Set<String> notified = new LinkedHashSet<>();
          for (String m : r.mentions()) {
            if (notified.add(m)) {
              notifications.notify(
                  h,
                  m,
                  user.id(),
                  NotificationKind.MENTIONED,
                  user.displayName() + " mentioned you " + place(h, a),
                  text,
                  link);
            }
          }
          if (a.author() != null
              && maySee(h, a.author(), a.projectId())
              && notified.add(a.author())) {
            notifications.notify(
                h,
                a.author(),
                user.id(),
                NotificationKind.REPLY,
                user.displayName() + " replied to your post " + place(h, a),
                text,
                link);
          }
          return r;
        });
  }

  public Reply editReply(User user, long replyId, @Nullable String message) {
    String text = validMessage(message);
    return db.write(
        h -> {
          Reply before = ownedReply(h, user, replyId);
          h.createUpdate(
                  "UPDATE replies SET message = :m, updated_at = :now, version = version + 1 WHERE id = :id")
              .bind("m", text)
              .bind("now", OffsetDateTime.now(clock))
              .bind("id", replyId)
              .execute();
          Reply r = loadReply(h, replyId);
          changes.record(
              h,
              channel(r.projectId()),
              "reply",
              String.valueOf(replyId),
              "updated",
              r.version(),
              r);
          notifyNewMentions(
              h,
              user,
              place(h, load(h, r.activityId())),
              before.mentions(),
              r.mentions(),
              text,
              "/projects/" + r.projectId() + "#reply-" + replyId);
          return r;
        });
  }

  public void deleteReply(User user, long replyId) {
    db.write(
        h -> {
          Reply r = ownedReply(h, user, replyId);
          h.createUpdate("DELETE FROM replies WHERE id = :id").bind("id", replyId).execute();
          changes.record(
              h,
              channel(r.projectId()),
              "reply",
              String.valueOf(replyId),
              "deleted",
              r.version() + 1,
              Map.of("id", replyId, "activityId", r.activityId(), "projectId", r.projectId()));
          return null;
        });
  }

  // ---------------------------------------------------------------- helpers

  private void notifyNewMentions(
      Handle h,
      User user,
      String place,
      List<String> before,
      List<String> after,
      String text,
      String link) {
    for (String m : after) {
      if (!before.contains(m)) {
        notifications.notify(
            h,
            m,
            user.id(),
            NotificationKind.MENTIONED,
            user.displayName() + " mentioned you " + place,
            text,
            link);
      }
    }
  }

  private static String validMessage(@Nullable String message) {
    String t = message == null ? "" : message.strip();
    if (t.isEmpty()) {
      throw ApiException.invalid(
          Map.of("message", "Write something first: the message is empty or only spaces."));
    }
    if (t.length() > MAX_MESSAGE) {
      throw ApiException.invalid(
          Map.of("message", ApiException.tooLong("The message", t.length(), MAX_MESSAGE)));
    }
    return t;
  }

  private Activity visibleActivity(Handle h, User user, long activityId) {
    Long projectId =
        h.createQuery("SELECT project_id FROM activities WHERE id = :id")
            .bind("id", activityId)
            .mapTo(Long.class)
            .findOne()
            .orElseThrow(() -> ApiException.notFound("Activity " + activityId));
    if (!Access.canSee(h, user, projectId)) {
      throw ApiException.notFound("Activity " + activityId);
    }
    return load(h, activityId);
  }

  private Activity ownedActivity(Handle h, User user, long activityId) {
    Activity a = visibleActivity(h, user, activityId);
    if (!user.id().equals(a.author())) {
      throw ApiException.forbidden(
          a.author() == null
              ? "System activities cannot be changed."
              : "Only the author may change this post.");
    }
    return a;
  }

  private Reply ownedReply(Handle h, User user, long replyId) {
    Reply r =
        h.createQuery(
                "SELECT r.*, a.project_id FROM replies r JOIN activities a ON a.id = r.activity_id WHERE r.id = :id")
            .bind("id", replyId)
            .map((rs, ctx) -> reply(h, rs))
            .findOne()
            .orElseThrow(() -> ApiException.notFound("Reply " + replyId));
    if (!Access.canSee(h, user, r.projectId())) {
      throw ApiException.notFound("Reply " + replyId);
    }
    if (!user.id().equals(r.author())) {
      throw ApiException.forbidden("Only the author may change this reply.");
    }
    return r;
  }

  /**
   * Where a post is, for notification subjects: "on Home in Spring sale" for an item comment, "in
   * Spring sale" for a project comment.
   */
  private static String place(Handle h, Activity a) {
    String item =
        a.itemId() == null
            ? null
            : h.createQuery("SELECT title FROM project_items WHERE id = :i")
                .bind("i", a.itemId())
                .mapTo(String.class)
                .findOne()
                .orElse(null);
    return place(h, a.projectId(), item);
  }

  private static String place(Handle h, long projectId, @Nullable String itemTitle) {
    String project = projectName(h, projectId);
    return itemTitle == null ? "in " + project : "on " + itemTitle + " in " + project;
  }

  private static String projectName(Handle h, long projectId) {
    return h.createQuery("SELECT name FROM projects WHERE id = :p")
        .bind("p", projectId)
        .mapTo(String.class)
        .one();
  }

  /** Mentioned users who exist and may see the project, in order of appearance. */
  static List<String> mentions(Handle h, long projectId, String message) {
    List<String> out = new ArrayList<>();
    for (String name : Mentions.names(message)) {
      if (maySee(h, name, projectId)) {
        out.add(name);
      }
    }
    return out;
  }

  /**
   * Whether the user exists and may see the project (a member or an admin). Only they are told what
   * happens in it: a former member gets no reply or item-comment notifications any more.
   */
  static boolean maySee(Handle h, String userId, long projectId) {
    return h.createQuery(
                "SELECT COUNT(*) FROM users u WHERE u.id = :u AND (u.role = 'admin' OR EXISTS "
                    + "(SELECT 1 FROM project_members m WHERE m.project_id = :p AND m.user_id = u.id))")
            .bind("u", userId)
            .bind("p", projectId)
            .mapTo(Integer.class)
            .one()
        > 0;
  }

  static Activity load(Handle h, long id) {
    return h.createQuery("SELECT * FROM activities WHERE id = :id")
        .bind("id", id)
        .map(
            (rs, ctx) -> {
              long projectId = rs.getLong("project_id");
              long item = rs.getLong("item_id");
              Long itemId = rs.wasNull() ? null : item;
              String message = rs.getString("message");
              List<Reply> replies =
                  h.createQuery(
                          "SELECT r.*, a.project_id FROM replies r JOIN activities a ON a.id = r.activity_id WHERE r.activity_id = :a ORDER BY r.id")
                      .bind("a", id)
                      .map((r2, c2) -> reply(h, r2))
                      .list();
              boolean comment = "comment".equals(rs.getString("kind"));
              return new Activity(
                  id,
                  projectId,
                  itemId,
                  rs.getString("kind"),
                  rs.getString("system_type"),
                  rs.getString("author"),
                  message,
                  comment ? mentions(h, projectId, message) : List.of(),
                  rs.getObject("created_at", OffsetDateTime.class),
                  rs.getObject("updated_at", OffsetDateTime.class),
                  rs.getLong("version"),
                  replies);
            })
        .findOne()
        .orElseThrow(() -> ApiException.notFound("Activity " + id));
  }

  static Reply loadReply(Handle h, long id) {
    return h.createQuery(
            "SELECT r.*, a.project_id FROM replies r JOIN activities a ON a.id = r.activity_id WHERE r.id = :id")
        .bind("id", id)
        .map((rs, ctx) -> reply(h, rs))
        .one();
  }

  private static Reply reply(Handle h, java.sql.ResultSet rs) throws java.sql.SQLException {
    long projectId = rs.getLong("project_id");
    String message = rs.getString("message");
    return new Reply(
        rs.getLong("id"),
        rs.getLong("activity_id"),
        projectId,
        rs.getString("author"),
        message,
        mentions(h, projectId, message),
        rs.getObject("created_at", OffsetDateTime.class),
        rs.getObject("updated_at", OffsetDateTime.class),
        rs.getLong("version"));
  }
}
