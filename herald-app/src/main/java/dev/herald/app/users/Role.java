package dev.herald.app.users;

import com.fasterxml.jackson.annotation.JsonValue;

/** What a user may do beyond their projects: admins see and change every project. */
public enum Role {
  EDITOR,
  ADMIN;

  @JsonValue
  public String wire() {
    return name().toLowerCase();
  }

  public static Role of(String s) {
    return valueOf(s.toUpperCase());
  }
}
