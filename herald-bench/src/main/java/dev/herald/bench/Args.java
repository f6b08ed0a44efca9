package dev.herald.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code --key value} pairs; a repeated key keeps every value, separated by a newline. */
final class Args {
  private Args() {}

  static Map<String, String> parse(String[] args) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --option, got '" + args[i] + "'");
      }
      String key = args[i].substring(2);
      String value = "true";
      int eq = key.indexOf('=');
      if (eq > 0) {
        value = key.substring(eq + 1);
        key = key.substring(0, eq);
      } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        value = args[++i];
      }
      m.merge(key, value, (a, b) -> a + "\n" + b);
    }
    return m;
  }
}
