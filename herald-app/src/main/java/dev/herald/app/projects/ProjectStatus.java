package dev.herald.app.projects;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** A project's status, as editors know it from the CMS's project bar. */
public enum ProjectStatus {
  ACTIVE,
  PUBLISHING,
  PUBLISH_FAILED,
  SCHEDULED;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static ProjectStatus of(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
