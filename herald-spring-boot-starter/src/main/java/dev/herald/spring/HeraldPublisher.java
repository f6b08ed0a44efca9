package dev.herald.spring;

import dev.herald.protocol.StreamPosition;
import dev.herald.server.Herald;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.util.ClassUtils;

/**
 * Publishes from the application's services. {@link #publish} sends at once; {@link
 * #publishAfterCommit} waits for the surrounding Spring transaction to commit, so that subscribers
 * never hear of a change that was rolled back, and never before they could read it.
 *
 * <p>A publication after commit is held in memory until the commit: one the process loses by dying
 * between commit and publish is lost. Where that matters, record it in the transaction with
 * herald-outbox (docs/outbox.md), which relays after commit and survives restarts.
 */
public class HeraldPublisher {
  private static final Logger log = LoggerFactory.getLogger(HeraldPublisher.class);
  private static final boolean TX =
      ClassUtils.isPresent(
          "org.springframework.transaction.support.TransactionSynchronizationManager",
          HeraldPublisher.class.getClassLoader());

  private final Herald herald;

  public HeraldPublisher(Herald herald) {
    this.herald = herald;
  }

  /**
   * Publishes JSON text to a channel now. Completes with the publication's position once the broker
   * has it; fails with {@link IllegalArgumentException} for text that is not JSON, or with the
   * hub's error (unknown namespace, too large).
   */
  public CompletableFuture<StreamPosition> publish(String channel, String json) {
    return herald.publish(channel, json);
  }

  /**
   * Publishes after the current transaction commits; at once when no transaction is active. The
   * future completes with the position once published, or fails with {@link
   * TransactionRolledBackException} when the transaction does not commit (nothing is published). A
   * publication that fails after the commit is logged at ERROR, and the future fails with its
   * cause.
   */
  public CompletableFuture<StreamPosition> publishAfterCommit(String channel, String json) {
    if (TX && AfterCommit.active()) {
      CompletableFuture<StreamPosition> result = new CompletableFuture<>();
      AfterCommit.register(
          () -> {
            // The callback hands every outcome on to result.
            var unused =
                publish(channel, json)
                    .whenComplete(
                        (position, failure) -> {
                          if (failure != null) {
                            log.error(
                                "publication to {} after commit failed: {}",
                                channel,
                                failure.toString());
                            result.completeExceptionally(failure);
                          } else {
                            result.complete(position);
                          }
                        });
          },
          () -> result.completeExceptionally(new TransactionRolledBackException(channel)));
      return result;
    }
    return publish(channel, json);
  }

  /** The transaction did not commit, so its publication was not sent. */
  public static final class TransactionRolledBackException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TransactionRolledBackException(String channel) {
      super("transaction did not commit: nothing published to " + channel);
    }
  }
}
