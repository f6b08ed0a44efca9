package dev.herald.core.hub;

import dev.herald.core.broker.Broker;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's subscriptions by channel. Fan-out reads a channel's members as a plain array
 * (copy-on-write), without locks; adding and removing are atomic per channel. The first local
 * subscriber of a channel subscribes the node at the broker, the last one unsubscribes it.
 */
final class SubscriberRegistry {
  private static final Subscription[] NONE = new Subscription[0];

  private final Broker broker;
  private final Map<String, Members> channels = new ConcurrentHashMap<>();

  SubscriberRegistry(Broker broker) {
    this.broker = broker;
  }

  /** Members of a channel; immutable snapshot for one fan-out. */
  Subscription[] members(String channel) {
    Members m = channels.get(channel);
    return m == null ? NONE : m.array;
  }

  /** Adds a subscription; the future completes once the node receives the channel's events. */
  CompletableFuture<Void> add(Subscription s) {
    Members updated =
        channels.compute(
            s.channel().value(),
            (name, m) -> {
              if (m == null) {
                return new Members(new Subscription[] {s}, broker.subscribe(name));
              }
              Subscription[] a = Arrays.copyOf(m.array, m.array.length + 1);
              a[a.length - 1] = s;
              return new Members(a, m.brokerReady);
            });
    return updated.brokerReady;
  }

  void remove(Subscription s) {
    channels.compute(
        s.channel().value(),
        (name, m) -> {
          if (m == null) {
            return null;
          }
          int idx = -1;
          for (int i = 0; i < m.array.length; i++) {
            if (m.array[i] == s) {
              idx = i;
              break;
            }
          }
          if (idx < 0) {
            return m;
          }
          if (m.array.length == 1) {
            broker.unsubscribe(name);
            return null;
          }
          Subscription[] a = new Subscription[m.array.length - 1];
          System.arraycopy(m.array, 0, a, 0, idx);
          System.arraycopy(m.array, idx + 1, a, idx, a.length - idx);
          return new Members(a, m.brokerReady);
        });
  }

  int channelCount() {
    return channels.size();
  }

  private record Members(Subscription[] array, CompletableFuture<Void> brokerReady) {}
}
