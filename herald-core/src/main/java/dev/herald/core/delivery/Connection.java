package dev.herald.core.delivery;

import dev.herald.core.transport.OutboundMessage;

/**
 * What delivery needs from a client connection (the hub's session). Every method is called on the
 * connection's event loop unless it says otherwise.
 */
public interface Connection {
  /** The connection's id, for logs. Any thread. */
  String clientId();

  /** The dispatcher of the connection's event loop. Any thread. */
  LoopDispatcher dispatcher();

  /** The bound of the connection's outbound queue ({@code limits.outbox-bytes}). */
  long outboxLimit();

  /** Queues a message for the client; writes it as soon as the transport takes it. */
  void enqueue(OutboundMessage message);

  /** A subscription's stream could not be continued: end it and tell the client (116). */
  void streamLost(Subscription subscription);

  /** The connection cannot keep up: nothing more is queued, it closes as a slow consumer. */
  void overflow();

  /** As {@link #overflow}, from any thread (the loop is far behind). */
  void overflowFromAnyThread();

  /** Delivery to the connection failed unexpectedly: close it (1011). */
  void internalError();

  /** The loop's coalesced flush reached this connection: write what is queued. */
  void flushCoalesced();
}
