package dev.herald.core.transport;

import java.nio.charset.StandardCharsets;

/**
 * An encoded server message, shared by every connection it is sent to: a publication is encoded
 * once and this one object is queued to all its subscribers.
 */
public final class OutboundMessage {
  private final byte[] utf8;
  private final long publishedAtMillis;

  public OutboundMessage(byte[] utf8) {
    this(utf8, 0);
  }

  /**
   * @param publishedAtMillis when the publication this message carries was published (the broker's
   *     timestamp), or 0 for anything else; used to measure delivery latency
   */
  public OutboundMessage(byte[] utf8, long publishedAtMillis) {
    this.utf8 = utf8;
    this.publishedAtMillis = publishedAtMillis;
  }

  /** Publication time of a live publication, else 0. */
  public long publishedAtMillis() {
    return publishedAtMillis;
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
