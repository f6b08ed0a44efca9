package dev.herald.core.channel;

import java.util.Optional;

/**
 * A validated channel name. The namespace is the part before the first {@code :}; names without one
 * are in the default namespace {@code ""}. Allowed characters: letters, digits and {@code _ - : . @
 * = /}, 1 to 255 of them.
 */
public record ChannelName(String value, String namespace) {
  public static final int MAX_LENGTH = 255;

  /** Parses a name, or returns empty when it is not valid. */
  public static Optional<ChannelName> parse(String value) {
    if (value == null || value.isEmpty() || value.length() > MAX_LENGTH) {
      return Optional.empty();
    }
    for (int i = 0; i < value.length(); i++) {
      if (!allowed(value.charAt(i))) {
        return Optional.empty();
      }
    }
    int colon = value.indexOf(':');
    String ns = colon < 0 ? "" : value.substring(0, colon);
    if (colon == 0 || colon == value.length() - 1) {
      return Optional.empty();
    }
    return Optional.of(new ChannelName(value, ns));
  }

  /**
   * The segment after the namespace, up to the next {@code :} (the owner in personal namespaces).
   */
  public String firstSegment() {
    if (namespace.isEmpty()) {
      return value;
    }
    int start = namespace.length() + 1;
    int end = value.indexOf(':', start);
    return end < 0 ? value.substring(start) : value.substring(start, end);
  }

  private static boolean allowed(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '-'
        || c == ':'
        || c == '.'
        || c == '@'
        || c == '='
        || c == '/';
  }

  @Override
  public String toString() {
    return value;
  }
}
