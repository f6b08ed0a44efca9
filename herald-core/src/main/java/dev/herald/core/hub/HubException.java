package dev.herald.core.hub;

import dev.herald.protocol.ErrorCode;

/** A request to the hub was refused; carries the protocol error code that explains why. */
public final class HubException extends RuntimeException {
  private final ErrorCode code;

  public HubException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
