package dev.herald.protocol;

import java.util.Objects;

/**
 * A message could not be decoded. Carries the error code to answer with and, when the request id
 * could be read, the id to answer to.
 */
public final class ProtocolException extends Exception {
  private final ErrorCode code;
  private final long requestId;

  public ProtocolException(ErrorCode code, String message, long requestId) {
    super(message, null, false, false);
    this.code = code;
    this.requestId = requestId;
  }

  /** The message for the client (the code's description if none was given); never null. */
  @Override
  public String getMessage() {
    return Objects.requireNonNullElse(super.getMessage(), code.description());
  }

  public ErrorCode code() {
    return code;
  }

  /** The id of the request, or 0 when it could not be read. */
  public long requestId() {
    return requestId;
  }
}
