package dev.herald.core.auth;

/** Authentication failed; {@code expired} distinguishes an expired credential from a bad one. */
public final class AuthenticationException extends Exception {
  private final boolean expired;

  public AuthenticationException(String message, boolean expired) {
    super(message, null, false, false);
    this.expired = expired;
  }

  public boolean expired() {
    return expired;
  }
}
