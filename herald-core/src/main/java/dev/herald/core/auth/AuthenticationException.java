package dev.herald.core.auth;

import java.util.Objects;

/** Authentication failed; {@code expired} distinguishes an expired credential from a bad one. */
public final class AuthenticationException extends Exception {
  private final boolean expired;

  public AuthenticationException(String message, boolean expired) {
    super(message, null, false, false);
    this.expired = expired;
  }

  /** The message for the client; never null. */
  @Override
  public String getMessage() {
    return Objects.requireNonNullElse(super.getMessage(), "authentication failed");
  }

  public boolean expired() {
    return expired;
  }
}
