package dev.herald.app.activity;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds {@code @username} mentions in a message. A mention starts at the beginning or after a
 * character that cannot be part of an e-mail address, so {@code bob@example.com} is not a mention
 * of {@code example.com}. Whether a name is a real user who may see the project is decided by the
 * caller; unknown names stay plain text.
 */
public final class Mentions {
  private static final Pattern MENTION =
      Pattern.compile("(?<![\\w.@-])@([a-z][a-z0-9_.-]{1,31})(?<![.-])");

  private Mentions() {}

  public static Set<String> names(String message) {
    Set<String> out = new LinkedHashSet<>();
    Matcher m = MENTION.matcher(message);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
