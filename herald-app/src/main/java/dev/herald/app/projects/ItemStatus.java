package dev.herald.app.projects;

import com.fasterxml.jackson.annotation.JsonValue;

/** A project item's status. */
public enum ItemStatus {
  DRAFT,
  READY,
  PUBLISHED,
  SCHEDULED,
  REJECTED;

  @JsonValue
  public String wire() {
    return name().toLowerCase();
  }

  public static ItemStatus of(String s) {
    return valueOf(s.toUpperCase());
  }
}
