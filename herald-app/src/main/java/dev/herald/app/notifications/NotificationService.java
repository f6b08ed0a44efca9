package dev.herald.app.notifications;

import dev.herald.app.db.Database;
import dev.herald.app.events.ChangeLog;
import dev.herald.app.users.User;
import dev.herald.app.web.ApiException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jspecify.annotations.Nullable;

/**
 * Notifications: stored first, in the transaction of the change that caused them, then delivered
 * live on the recipient's channel {@code user:<id>:notifications} by the outbox. Each new
 * notification and each read-state change also publishes the new unread count.
 */
public final class NotificationService {
  public static final int MAX_PAGE = 100;

  private final Database db;
  private final ChangeLog changes;
  private final Clock clock;

  public NotificationService(Database db, ChangeLog changes, Clock clock) {
    this.db = db;
    this.changes = changes;
    this.clock = clock;
  }

  public static String channel(String userId) {
    return "user:" + userId + ":notifications";
  }

  /** Creates a notification inside the caller's write transaction. Never notifies the sender. */
  public void notify(
      Handle h,
      String recipient,
      @Nullable String sender, // null: the system
      NotificationKind kind,
      String subject,
      String text,
      String link) {
    if (recipient.equals(sender)) {
      return;
    }
    OffsetDateTime now = OffsetDateTime.now(clock);
    long id =
        h.createUpdate(
                "INSERT INTO notifications (recipient, sender, kind, subject, text, link, created_at) VALUES (:r, :s, :k, :sub, :t, :l, :now)")
            .bind("r", recipient)
            .bind("s", sender)
            .bind("k", kind.wire())
            .bind("sub", clip(subject, 300))
            .bind("t", clip(text, 4000))
            .bind("l", link)
            .bind("now", now)
            .executeAndReturnGeneratedKeys("id")
            .mapTo(Long.class)
            .one();
    Notification n =
        new Notification(
            id, kind.wire(), clip(subject, 300), clip(text, 4000), link, sender, now, false);
    changes.record(h, channel(recipient), "notification", String.valueOf(id), "created", 1, n);
    recordUnread(h, recipient);
  }

  /**
   * Records, inside the caller's write transaction, that {@code userId} gained ({@code created},
   * with the project as {@code data}) or lost ({@code deleted}, with {@code {projectId}}) access to
   * a project: a {@code membership} event on the user's channel, so their list of projects and open
   * pages follow at once. {@code version} is the project's version after the change.
   */
  public void recordMembership(
      Handle h, String userId, long projectId, boolean added, long version, Object data) {
    changes.record(
        h,
        channel(userId),
        "membership",
        String.valueOf(projectId),
        added ? "created" : "deleted",
        version,
        data);
  }

  /** A page of notifications, newest first; {@code before} is an id cursor (exclusive) or null. */
  public List<Notification> list(User user, @Nullable Long before, int limit) {
    if (limit < 1 || limit > MAX_PAGE) {
      throw ApiException.invalid(Map.of("limit", "Give a number from 1 to " + MAX_PAGE + "."));
    }
    return db.read(
        h ->
            h.createQuery(
                    "SELECT "
                        + COLUMNS
                        + " FROM notifications "
                        + "WHERE recipient = :r AND id < :before ORDER BY id DESC")
                .bind("r", user.id())
                .bind("before", before == null ? Long.MAX_VALUE : before)
                .setMaxRows(limit)
                .map((rs, ctx) -> row(rs))
                .list());
  }

  private static final String COLUMNS =
      "id, kind, subject, text, link, sender, created_at, read_at";

  private static Notification row(java.sql.ResultSet rs) throws java.sql.SQLException {
    return new Notification(
        rs.getLong(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getString(6),
        rs.getObject(7, OffsetDateTime.class),
        rs.getObject(8) != null);
  }

  public int unread(User user) {
    return db.read(h -> unread(h, user.id()));
  }

  private static int unread(Handle h, String userId) {
    return h.createQuery(
            "SELECT COUNT(*) FROM notifications WHERE recipient = :r AND read_at IS NULL")
        .bind("r", userId)
        .mapTo(Integer.class)
        .one();
  }

  public void markRead(User user, long id) {
    db.write(
        h -> {
          int n =
              h.createUpdate(
                      "UPDATE notifications SET read_at = :now WHERE id = :id AND recipient = :r AND read_at IS NULL")
                  .bind("now", OffsetDateTime.now(clock))
                  .bind("id", id)
                  .bind("r", user.id())
                  .execute();
          if (n == 0) {
            boolean exists =
                h.createQuery(
                            "SELECT COUNT(*) FROM notifications WHERE id = :id AND recipient = :r")
                        .bind("id", id)
                        .bind("r", user.id())
                        .mapTo(Integer.class)
                        .one()
                    > 0;
            if (!exists) {
              throw ApiException.notFound("Notification " + id);
            }
            return null; // already read: idempotent
          }
          // The whole notification, not just {id, read}: "changes since" keeps only the latest
          // change
          // per notification, so a client that missed the creation must still learn what it was.
          Notification read =
              h.createQuery("SELECT " + COLUMNS + " FROM notifications WHERE id = :id")
                  .bind("id", id)
                  .map((rs, ctx) -> row(rs))
                  .one();
          changes.record(
              h, channel(user.id()), "notification", String.valueOf(id), "updated", 2, read);
          recordUnread(h, user.id());
          return null;
        });
  }

  /** Marks every notification read; returns how many changed. */
  public int markAllRead(User user) {
    return db.write(
        h -> {
          int n =
              h.createUpdate(
                      "UPDATE notifications SET read_at = :now WHERE recipient = :r AND read_at IS NULL")
                  .bind("now", OffsetDateTime.now(clock))
                  .bind("r", user.id())
                  .execute();
          if (n > 0) {
            changes.record(
                h,
                channel(user.id()),
                "notifications",
                "all",
                "updated",
                1,
                Map.of("allRead", true));
            recordUnread(h, user.id());
          }
          return n;
        });
  }

  private void recordUnread(Handle h, String userId) {
    int count = unread(h, userId);
    changes.record(h, channel(userId), "unread", userId, "updated", 1, Map.of("unread", count));
  }

  static String clip(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }
}
