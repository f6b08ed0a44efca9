package dev.herald.app.admin;

import dev.herald.app.db.Database;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Names Herald channels as the app's people know them, from the app's own data: {@code project:3}
 * is the project's name, {@code user:alice:notifications} is "Notifications of Alice Lee", {@code
 * admin:stats} the console's own statistics. A channel the app does not know (a project deleted
 * since, a namespace of another application sharing the server) keeps its raw name, marked as
 * unknown, rather than disappear from the console.
 *
 * <p>Names are looked up in one query per kind for a whole set of channels, so a console page that
 * shows many connections costs two queries, not one per channel.
 */
public final class ChannelNames {
  /** Channels looked up at once; larger sets are looked up in slices of this size. */
  static final int SLICE = 500;

  private final Database db;

  public ChannelNames(Database db) {
    this.db = db;
  }

  /**
   * A channel as the console shows it.
   *
   * @param channel Herald's name ({@code project:3})
   * @param label the name people know ({@code Spring campaign})
   * @param kind {@code project}, {@code notifications}, {@code user} (another personal channel),
   *     {@code admin}, or {@code unknown}
   * @param link where the app shows it ({@code #/projects/3}), or null
   */
  public record Named(String channel, String label, String kind, @Nullable String link) {}

  /** What a channel name refers to in the app, before any lookup. */
  sealed interface Ref permits ProjectRef, UserRef, AdminRef, OtherRef {}

  /** {@code project:<id>}. */
  record ProjectRef(long id) implements Ref {}

  /** {@code user:<id>:<rest>}: {@code rest} is {@code notifications} for the bell's channel. */
  record UserRef(String userId, String rest) implements Ref {}

  /** {@code admin:<rest>}. */
  record AdminRef(String rest) implements Ref {}

  /** Anything else. */
  record OtherRef() implements Ref {}

  /** What {@code channel} refers to, from its name alone. */
  static Ref parse(String channel) {
    int colon = channel.indexOf(':');
    if (colon <= 0 || colon == channel.length() - 1) {
      return new OtherRef();
    }
    String ns = channel.substring(0, colon);
    String rest = channel.substring(colon + 1);
    return switch (ns) {
      case "project" -> projectRef(rest);
      case "user" -> userRef(rest);
      case "admin" -> new AdminRef(rest);
      default -> new OtherRef();
    };
  }

  private static Ref projectRef(String id) {
    if (id.length() > 18 || !id.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return new OtherRef();
    }
    long n = Long.parseLong(id);
    return n > 0 ? new ProjectRef(n) : new OtherRef();
  }

  private static Ref userRef(String rest) {
    int colon = rest.indexOf(':');
    if (colon <= 0 || colon == rest.length() - 1) {
      return new OtherRef();
    }
    return new UserRef(rest.substring(0, colon), rest.substring(colon + 1));
  }

  /** One channel's name. */
  public Named name(String channel) {
    return java.util.Objects.requireNonNull(names(List.of(channel)).get(channel));
  }

  /**
   * The names of {@code channels}, keyed by channel, in the order given (duplicates once). Every
   * channel given has an entry.
   */
  public Map<String, Named> names(Collection<String> channels) {
    Set<Long> projectIds = new LinkedHashSet<>();
    Set<String> userIds = new LinkedHashSet<>();
    Map<String, Ref> refs = new LinkedHashMap<>();
    for (String c : channels) {
      Ref ref = parse(c);
      refs.put(c, ref);
      if (ref instanceof ProjectRef p) {
        projectIds.add(p.id());
      } else if (ref instanceof UserRef u) {
        userIds.add(u.userId());
      }
    }
    Map<Long, String> projects = lookup(projectIds, "SELECT id, name FROM projects", Long.class);
    Map<String, String> users =
        lookup(userIds, "SELECT id, display_name AS name FROM users", String.class);
    Map<String, Named> out = new LinkedHashMap<>();
    refs.forEach((c, ref) -> out.put(c, named(c, ref, projects, users)));
    return out;
  }

  static Named named(
      String channel, Ref ref, Map<Long, String> projects, Map<String, String> users) {
    if (ref instanceof ProjectRef p) {
      String name = projects.get(p.id());
      return name == null
          ? new Named(channel, "Unknown project " + p.id(), "unknown", null)
          : new Named(channel, name, "project", "#/projects/" + p.id());
    }
    if (ref instanceof UserRef u) {
      String person = users.get(u.userId());
      if (person == null) {
        return new Named(
            channel, "Unknown user " + u.userId() + " (" + u.rest() + ")", "unknown", null);
      }
      return u.rest().equals("notifications")
          ? new Named(channel, "Notifications of " + person, "notifications", null)
          : new Named(channel, person + ": " + u.rest(), "user", null);
    }
    if (ref instanceof AdminRef a) {
      return new Named(
          channel,
          a.rest().equals("stats") ? "Admin console statistics" : "Admin: " + a.rest(),
          "admin",
          "#/admin");
    }
    return new Named(channel, channel, "unknown", null);
  }

  /**
   * {@code id -> name} for the given ids, from {@code select} (columns {@code id}, {@code name}).
   */
  private <K> Map<K, String> lookup(Set<K> ids, String select, Class<K> type) {
    Map<K, String> out = new HashMap<>();
    List<K> all = new ArrayList<>(ids);
    for (int from = 0; from < all.size(); from += SLICE) {
      List<K> slice = all.subList(from, Math.min(all.size(), from + SLICE));
      db.read(
          h -> {
            h.createQuery(select + " WHERE id IN (<ids>)")
                .bindList("ids", slice)
                .map((rs, ctx) -> Map.entry(rs.getObject("id", type), rs.getString("name")))
                .forEach(e -> out.put(e.getKey(), e.getValue()));
            return null;
          });
    }
    return out;
  }
}
