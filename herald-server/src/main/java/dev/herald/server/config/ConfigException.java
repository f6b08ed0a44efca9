package dev.herald.server.config;

import java.util.List;

/** The configuration has mistakes; {@link #problems()} lists every one, each a full sentence. */
public final class ConfigException extends RuntimeException {
  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super("invalid configuration:\n  - " + String.join("\n  - ", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
