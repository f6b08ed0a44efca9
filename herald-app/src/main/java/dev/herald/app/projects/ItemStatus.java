package dev.herald.app.projects;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** A project item's status. */
public enum ItemStatus {
  DRAFT,
  READY,
  PUBLISHED,
  SCHEDULED,
  REJECTED;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static ItemStatus of(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
