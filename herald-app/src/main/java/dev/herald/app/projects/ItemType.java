package dev.herald.app.projects;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What kind of content a project item is a version of. */
public enum ItemType {
  PAGE,
  BLOCK,
  MEDIA;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static ItemType of(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
