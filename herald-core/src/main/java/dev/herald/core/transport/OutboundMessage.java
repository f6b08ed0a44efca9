package dev.herald.core.transport;

import java.nio.charset.StandardCharsets;

/**
 * An encoded server message, shared by every connection it is sent to: a publication is encoded
 * once and this one object is queued to all its subscribers. A transport may cache its own
 * representation of the bytes (e.g. a framework buffer) in {@link #transportCache}, so the
 * conversion also happens once.
 */
public final class OutboundMessage {
  private final byte[] utf8;
  private volatile Object transportCache;

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

  public Object transportCache() {
    return transportCache;
  }

  public void transportCache(Object value) {
    transportCache = value;
  }

  @Override
  public String toString() {
    return new String(utf8, StandardCharsets.UTF_8);
  }
}
