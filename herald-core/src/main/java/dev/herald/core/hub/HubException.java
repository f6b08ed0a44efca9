package dev.herald.core.hub;

import dev.herald.protocol.ErrorCode;
import java.util.Objects;

/** A request to the hub was refused; carries the protocol error code that explains why. */
public final class HubException extends RuntimeException {
  private final ErrorCode code;

  public HubException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  /** The message for the client (the code's description if none was given); never null. */
  @Override
  public String getMessage() {
    return Objects.requireNonNullElse(super.getMessage(), code.description());
  }

  public ErrorCode code() {
    return code;
  }
}
