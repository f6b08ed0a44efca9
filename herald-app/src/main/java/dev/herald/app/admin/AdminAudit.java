package dev.herald.app.admin;

import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The admin console's audit trail: one log line per action, on logger {@value #LOGGER}, with who
 * did what to what as structured fields ({@code kvp} in JSON logs): {@code event=admin_action},
 * {@code admin} (the user id), {@code action}, {@code target} and {@code outcome}, plus the
 * action's own details (the connection's user, the number of connections closed, the error). The
 * request id is in the MDC as for every API request, so the line matches the access log's.
 *
 * <p>Actions that were carried out, or looked at data (a user's connections, a channel's presence
 * and history), are logged at INFO; refused ones (a non-admin, bad input, an unknown target) at
 * WARN, so an attempt by someone without the right shows up too.
 */
public final class AdminAudit {
  /** The logger the audit lines go to (keep it at INFO or finer in production). */
  public static final String LOGGER = "dev.herald.app.audit";

  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  /** What the console was asked to do; the {@code action} field is its lower-case name. */
  public enum Action {
    FIND_CONNECTIONS,
    DISCONNECT_CONNECTION,
    DISCONNECT_USER,
    VIEW_CHANNEL,
    PUBLISH,
    LIST_NODES,
    /** Only refusals are logged: admins look at the statistics all the time. */
    VIEW_STATS;

    /** As logged: {@code disconnect_connection}. */
    public String field() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** How it ended; the {@code outcome} field. */
  public enum Outcome {
    /** Carried out (or, for a read, answered). */
    OK,
    /** Answered in part: some nodes did not answer, or a part could not be read. */
    PARTIAL,
    /** Refused: the user is not an admin. */
    FORBIDDEN,
    /** Refused: bad input, or no such target. */
    REFUSED,
    /** Failed on the server's side (the cluster did not answer, the broker is down). */
    FAILED;

    public String field() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Logs one action.
   *
   * @param admin the user who asked (an admin, or someone refused for not being one)
   * @param action what was asked
   * @param target what it was asked of: a user id, a connection id, a channel; {@code -} for none
   * @param outcome how it ended
   * @param details further fields, in order (values are numbers, strings or null)
   */
  public void record(
      String admin,
      Action action,
      String target,
      Outcome outcome,
      Map<String, ? extends @Nullable Object> details) {
    boolean refused = outcome == Outcome.FORBIDDEN || outcome == Outcome.REFUSED;
    LoggingEventBuilder b =
        log.atLevel(refused ? Level.WARN : Level.INFO)
            .addKeyValue("event", "admin_action")
            .addKeyValue("admin", admin)
            .addKeyValue("action", action.field())
            .addKeyValue("target", target)
            .addKeyValue("outcome", outcome.field());
    StringBuilder extra = new StringBuilder();
    for (Map.Entry<String, ? extends @Nullable Object> e : details.entrySet()) {
      b = b.addKeyValue(e.getKey(), e.getValue());
      extra.append(' ').append(e.getKey()).append('=').append(printable(e.getValue()));
    }
    // The target comes from the request (a refused non-admin's too): in text logs a line break
    // in it would start a forged line, so the message shows control characters escaped. The
    // structured fields keep the value as sent; JSON escapes it.
    b.log(
        "admin {} {} {} -> {}{}",
        printable(admin),
        action.field(),
        printable(target),
        outcome.field(),
        extra);
  }

  /**
   * {@code value} with control characters (and the Unicode line separators) written as Java
   * escapes: backslash-n, backslash-r, backslash-u and four hex digits.
   */
  static String printable(@Nullable Object value) {
    String s = String.valueOf(value);
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean control = Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
      if (!control && out == null) {
        continue;
      }
      if (out == null) {
        out = new StringBuilder(s.length() + 8).append(s, 0, i);
      }
      if (c == '\n') {
        out.append("\\n");
      } else if (c == '\r') {
        out.append("\\r");
      } else if (control) {
        out.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out == null ? s : out.toString();
  }
}
