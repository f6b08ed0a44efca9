package dev.herald.client;

/**
 * Handle to a scheduled task. Cancelling a task that already ran, or cancelling twice, is harmless.
 */
@FunctionalInterface
public interface Cancellable {
  void cancel();
}
