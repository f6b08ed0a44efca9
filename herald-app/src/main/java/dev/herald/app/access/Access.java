package dev.herald.app.access;

import dev.herald.app.users.User;
import dev.herald.app.web.ApiException;
import org.jdbi.v3.core.Handle;

/**
 * Who may see and change a project: its members (the creator is one) and admins. The CMS Herald
 * learns from derives this from content access rights; the reference app has no content ACL, so it
 * uses an explicit member list, which is also what the real-time channel authorizer checks.
 * Outsiders get 404 for a project, so ids do not reveal which projects exist.
 */
public final class Access {
  private Access() {}

  public static boolean canSee(Handle h, User user, long projectId) {
    if (user.isAdmin()) {
      return h.createQuery("SELECT COUNT(*) FROM projects WHERE id = :p")
              .bind("p", projectId)
              .mapTo(Integer.class)
              .one()
          > 0;
    }
    return isMember(h, user.id(), projectId);
  }

  public static boolean isMember(Handle h, String userId, long projectId) {
    return h.createQuery(
                "SELECT COUNT(*) FROM project_members WHERE project_id = :p AND user_id = :u")
            .bind("p", projectId)
            .bind("u", userId)
            .mapTo(Integer.class)
            .one()
        > 0;
  }

  /** Throws 404 unless the user may see (and so change) the project. */
  public static void require(Handle h, User user, long projectId) {
    if (!canSee(h, user, projectId)) {
      throw ApiException.notFound("Project " + projectId);
    }
  }
}
