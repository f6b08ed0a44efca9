package dev.herald.app.users;

/** A user as the rest of the app sees it (never with the password hash). */
public record User(String id, String displayName, Role role) {
  public boolean isAdmin() {
    return role == Role.ADMIN;
  }
}
