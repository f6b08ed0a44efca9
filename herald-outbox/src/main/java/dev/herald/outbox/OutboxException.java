package dev.herald.outbox;

/** A database error while recording or reading events; the cause is the driver's exception. */
public final class OutboxException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public OutboxException(String message, Throwable cause) {
    super(message, cause);
  }
}
