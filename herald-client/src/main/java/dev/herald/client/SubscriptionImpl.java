package dev.herald.client;

import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.StreamPosition;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * A subscription's state. The fields without {@code volatile} belong to the client's event thread;
 * the public accessors read volatile mirrors.
 */
final class SubscriptionImpl implements Subscription {
  /** Internal phases (event thread). */
  enum Phase {
    /** Needs a subscribe as soon as the client is connected. */
    WAITING,
    /** Subscribe sent on the current connection, reply pending; publications are dropped. */
    SUBSCRIBING,
    SUBSCRIBED,
    /** A transient refusal; a timer will send the subscribe again. */
    RETRY_WAIT,
    DONE
  }

  private final ClientEngine engine;
  private final String channel;
  final SubscriptionHandler handler;
  final PositionTracker tracker;
  final BackoffPolicy retryBackoff;

  // event thread only
  Phase phase = Phase.WAITING;
  long requestId;
  @Nullable Cancellable retryTimer;
  @Nullable RawJson presenceState;
  boolean everSubscribed;

  private volatile @Nullable StreamPosition position;
  private volatile SubscriptionState state = SubscriptionState.PENDING;

  SubscriptionImpl(
      ClientEngine engine,
      String channel,
      SubscriptionHandler handler,
      @Nullable StreamPosition since,
      BackoffPolicy retryBackoff) {
    this.engine = engine;
    this.channel = channel;
    this.handler = Objects.requireNonNull(handler, "handler");
    this.tracker = new PositionTracker(since);
    this.retryBackoff = retryBackoff;
    this.position = since;
  }

  @Override
  public String channel() {
    return channel;
  }

  @Override
  public SubscriptionState state() {
    return state;
  }

  @Override
  public @Nullable StreamPosition position() {
    return position;
  }

  @Override
  public CompletableFuture<List<ClientInfo>> presence() {
    return engine.presence(this);
  }

  @Override
  public CompletableFuture<Void> setPresenceState(String json) {
    return engine.setPresenceState(this, engine.parseObject(json, "presence state"));
  }

  @Override
  public CompletableFuture<Void> unsubscribe() {
    return engine.unsubscribe(this);
  }

  // ------------------------------------------------------------ event thread

  void setPhase(Phase p) {
    phase = p;
    if (p == Phase.SUBSCRIBED) {
      state = SubscriptionState.SUBSCRIBED;
    } else if (p != Phase.DONE) {
      state = SubscriptionState.PENDING;
    }
  }

  void end(SubscriptionState finalState) {
    cancelRetry();
    phase = Phase.DONE;
    state = finalState;
  }

  void cancelRetry() {
    if (retryTimer != null) {
      retryTimer.cancel();
      retryTimer = null;
    }
  }

  /** Publishes the tracker's position to other threads. */
  void syncPosition() {
    position = tracker.position();
  }

  /** The connection is gone: subscribe again on the next one. */
  void connectionLost() {
    if (phase != Phase.DONE) {
      cancelRetry();
      setPhase(Phase.WAITING);
    }
  }

  /** Marks the subscription as no longer live without running any callback. */
  void markUnsubscribed() {
    state = SubscriptionState.UNSUBSCRIBED;
  }

  @Override
  public String toString() {
    return "Subscription[" + channel + ", " + state + ", " + position + "]";
  }
}
