package dev.herald.app.users;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What a user may do beyond their projects: admins see and change every project. */
public enum Role {
  EDITOR,
  ADMIN;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Role of(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
