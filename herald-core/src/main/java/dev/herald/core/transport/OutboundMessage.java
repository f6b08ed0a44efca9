package dev.herald.core.transport;

import java.nio.charset.StandardCharsets;

/**
 * An encoded server message, shared by every connection it is sent to: a publication is encoded
 * once and this one object is queued to all its subscribers.
 */
public final class OutboundMessage {
  private final byte[] utf8;

  public OutboundMessage(byte[] utf8) {
    this.utf8 = utf8;
  }

  /** UTF-8 JSON of one message, without separator. Must not be modified. */
  public byte[] bytes() {
    return utf8;
  }

  public int size() {
    return utf8.length;
  }

  @Override
  public String toString() {
    return new String(utf8, StandardCharsets.UTF_8);
  }
}
