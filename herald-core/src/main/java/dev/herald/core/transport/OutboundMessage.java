package dev.herald.core.transport;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * An encoded server message, shared by every connection it is sent to: a publication is encoded
 * once and this one object goes to all its subscribers.
 *
 * <p>A transport may also keep its own encoded form of a {@linkplain #shared() shared} message (a
 * WebSocket frame, say) in {@link #transportForm}, so that it too is built once per message rather
 * than once per connection.
 */
public final class OutboundMessage {
  private final byte[] utf8;
  private final long publishedAtMillis;
  private final boolean shared;
  private volatile @Nullable Object transportForm;

  public OutboundMessage(byte[] utf8) {
    this(utf8, 0, false);
  }

  /**
   * @param publishedAtMillis when the publication this message carries was published (the broker's
   *     timestamp), or 0 for anything else; used to measure delivery latency
   */
  public OutboundMessage(byte[] utf8, long publishedAtMillis) {
    this(utf8, publishedAtMillis, false);
  }

  /**
   * @param shared whether the message goes to many connections (a publication or presence event of
   *     a fan-out), so that a transport's own encoding of it is worth keeping
   */
  public OutboundMessage(byte[] utf8, long publishedAtMillis, boolean shared) {
    this.utf8 = utf8;
    this.publishedAtMillis = publishedAtMillis;
    this.shared = shared;
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

  /** Whether the message goes to many connections (see the constructor). */
  public boolean shared() {
    return shared;
  }

  /**
   * The encoded form a transport kept for this message, or null. Any thread; the object must not
   * change once set (transports hand out duplicates of it).
   */
  public @Nullable Object transportForm() {
    return transportForm;
  }

  /** Keeps a transport's encoded form; a race between two loops only builds it twice. */
  public void transportForm(Object form) {
    transportForm = form;
  }

  @Override
  public String toString() {
    return new String(utf8, StandardCharsets.UTF_8);
  }
}
