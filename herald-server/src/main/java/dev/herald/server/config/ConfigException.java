package dev.herald.server.config;

import java.util.List;
import java.util.Objects;

/** The configuration has mistakes; {@link #problems()} lists every one, each a full sentence. */
public final class ConfigException extends RuntimeException {
  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super("invalid configuration:\n  - " + String.join("\n  - ", problems));
    this.problems = List.copyOf(problems);
  }

  @Override
  public String getMessage() {
    // Set by the constructor: never null.
    return Objects.requireNonNullElse(super.getMessage(), "invalid configuration");
  }

  public List<String> problems() {
    return problems;
  }
}
