package dev.herald.client;

import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.ServerMessage.ErrorInfo;
import org.jspecify.annotations.Nullable;

/**
 * A request or the connection failed. {@link #error()} is set when the server answered with an
 * error ({@link #errorCode()} tells which); {@link #close()} is set when the failure comes from the
 * connection ending.
 */
public final class HeraldException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient @Nullable ErrorInfo error;
  private final transient @Nullable CloseInfo close;

  public HeraldException(String message) {
    this(message, null, null, null);
  }

  public HeraldException(String message, @Nullable Throwable cause) {
    this(message, null, null, cause);
  }

  public HeraldException(
      String message,
      @Nullable ErrorInfo error,
      @Nullable CloseInfo close,
      @Nullable Throwable cause) {
    super(message, cause);
    this.error = error;
    this.close = close;
  }

  static HeraldException fromError(String what, ErrorInfo error) {
    return new HeraldException(
        what
            + ": "
            + error.code()
            + " "
            + ErrorCode.of(error.code()).label()
            + ": "
            + error.message(),
        error,
        null,
        null);
  }

  /** The server's error, or null. */
  public @Nullable ErrorInfo error() {
    return error;
  }

  /** The server's error code ({@link ErrorCode#INTERNAL} for unknown codes), or null. */
  public @Nullable ErrorCode errorCode() {
    return error == null ? null : error.errorCode();
  }

  /** How the connection ended, when that is the cause; or null. */
  public @Nullable CloseInfo close() {
    return close;
  }
}
