package dev.herald.core.delivery;

import dev.herald.core.broker.Broker;
import dev.herald.core.broker.HistoryPolicy;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * This node's subscriptions by channel, grouped by the event loop that owns them, so that fan-out
 * hands each loop its subscribers in one task. Fan-out reads a channel's groups as plain arrays
 * (copy-on-write), without locks; adding and removing are atomic per channel. The first local
 * subscriber of a channel subscribes the node at the broker, the last one unsubscribes it.
 */
public final class SubscriberRegistry {
  /** The subscribers of one channel on one loop. */
  // Never compared or hashed: the array is read by fan-out as is, without a copy.
  @SuppressWarnings("ArrayRecordComponent")
  public record Group(LoopDispatcher dispatcher, Subscription[] members) {}

  /** A channel's subscribers, by loop; immutable. */
  // Never compared or hashed: the array is read by fan-out as is, without a copy.
  @SuppressWarnings("ArrayRecordComponent")
  public record Members(Group[] groups, int size, CompletableFuture<Void> brokerReady) {}

  private final Broker broker;
  private final Map<String, Members> channels = new ConcurrentHashMap<>();

  public SubscriberRegistry(Broker broker) {
    this.broker = broker;
  }

  /** A channel's subscribers, or null when it has none here; an immutable snapshot. */
  public @Nullable Members members(String channel) {
    return channels.get(channel);
  }

  /** Adds a subscription; the future completes once the node receives the channel's events. */
  public CompletableFuture<Void> add(Subscription s) {
    LoopDispatcher d = s.connection().dispatcher();
    Members updated =
        channels.compute(
            s.channel().value(),
            (name, m) -> {
              if (m == null) {
                return new Members(
                    new Group[] {new Group(d, new Subscription[] {s})},
                    1,
                    broker.subscribe(name, HistoryPolicy.of(s.namespace())));
              }
              Group[] groups = m.groups();
              for (int i = 0; i < groups.length; i++) {
                if (groups[i].dispatcher() == d) {
                  Subscription[] a =
                      Arrays.copyOf(groups[i].members(), groups[i].members().length + 1);
                  a[a.length - 1] = s;
                  Group[] g = groups.clone();
                  g[i] = new Group(d, a);
                  return new Members(g, m.size() + 1, m.brokerReady());
                }
              }
              Group[] g = Arrays.copyOf(groups, groups.length + 1);
              g[groups.length] = new Group(d, new Subscription[] {s});
              return new Members(g, m.size() + 1, m.brokerReady());
            });
    return updated.brokerReady();
  }

  public void remove(Subscription s) {
    channels.compute(
        s.channel().value(),
        (name, m) -> {
          if (m == null) {
            return null;
          }
          Group[] groups = m.groups();
          for (int i = 0; i < groups.length; i++) {
            Subscription[] members = groups[i].members();
            int idx = indexOf(members, s);
            if (idx < 0) {
              continue;
            }
            if (m.size() == 1) {
              // Nothing waits for it: if it fails, this node only keeps receiving events that no
              // local subscriber wants (the broker drops them with the channel).
              var unused = broker.unsubscribe(name);
              return null;
            }
            Group[] g;
            if (members.length == 1) {
              g = new Group[groups.length - 1];
              System.arraycopy(groups, 0, g, 0, i);
              System.arraycopy(groups, i + 1, g, i, g.length - i);
            } else {
              Subscription[] a = new Subscription[members.length - 1];
              System.arraycopy(members, 0, a, 0, idx);
              System.arraycopy(members, idx + 1, a, idx, a.length - idx);
              g = groups.clone();
              g[i] = new Group(groups[i].dispatcher(), a);
            }
            return new Members(g, m.size() - 1, m.brokerReady());
          }
          return m;
        });
  }

  private static int indexOf(Subscription[] a, Subscription s) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] == s) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Subscriber counts of the channels whose name starts with {@code prefix} ({@code ""} for all),
   * sorted by name. Walks every channel, so meant for the server API, not hot paths.
   */
  public java.util.SortedMap<String, Integer> counts(String prefix) {
    java.util.SortedMap<String, Integer> out = new java.util.TreeMap<>();
    channels.forEach(
        (name, m) -> {
          if (name.startsWith(prefix)) {
            out.put(name, m.size());
          }
        });
    return out;
  }

  public int channelCount() {
    return channels.size();
  }
}
