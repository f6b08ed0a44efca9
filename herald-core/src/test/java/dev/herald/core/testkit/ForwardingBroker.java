package dev.herald.core.testkit;

import dev.herald.core.broker.Broker;
import dev.herald.core.broker.BrokerEventHandler;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.HistoryResult;
import dev.herald.core.broker.PresenceEvent;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.StreamPosition;
import java.util.concurrent.CompletableFuture;

/** A {@link Broker} that passes every call to another; test brokers override what they change. */
public abstract class ForwardingBroker implements Broker {
  protected final Broker delegate;

  protected ForwardingBroker(Broker delegate) {
    this.delegate = delegate;
  }

  @Override
  public void start(BrokerEventHandler handler) {
    delegate.start(handler);
  }

  @Override
  public CompletableFuture<StreamPosition> publish(
      String channel,
      RawJson data,
      String user,
      HistoryPolicy history,
      dev.herald.core.broker.IdempotencyKey once) {
    return delegate.publish(channel, data, user, history, once);
  }

  @Override
  public CompletableFuture<Void> publishPresence(PresenceEvent event) {
    return delegate.publishPresence(event);
  }

  @Override
  public CompletableFuture<Void> subscribe(String channel, HistoryPolicy history) {
    return delegate.subscribe(channel, history);
  }

  @Override
  public CompletableFuture<Void> unsubscribe(String channel) {
    return delegate.unsubscribe(channel);
  }

  @Override
  public CompletableFuture<HistoryResult> history(
      String channel, long afterOffset, HistoryPolicy history) {
    return delegate.history(channel, afterOffset, history);
  }

  @Override
  public void close() {
    delegate.close();
  }

  @Override
  public boolean healthy() {
    return delegate.healthy();
  }
}
