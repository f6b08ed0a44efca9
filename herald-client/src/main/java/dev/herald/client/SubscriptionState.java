package dev.herald.client;

/** Where a {@link Subscription} stands. */
public enum SubscriptionState {
  /**
   * Waiting for a connection, or for the server's reply to subscribe (also while resubscribing).
   */
  PENDING,
  /** Subscribed: publications flow. */
  SUBSCRIBED,
  /** {@link Subscription#unsubscribe()} was called, or the client was closed. Final. */
  UNSUBSCRIBED,
  /** The server refused the subscription (see {@link SubscriptionHandler#onError}). Final. */
  FAILED
}
