package dev.herald.server.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The messages a test client received, for waiting on them: {@link #await} returns the next message
 * matching a predicate; messages that did not match stay recorded for later waits. Shared by the
 * WebSocket test client and the HTTP-transport test client.
 */
final class Inbox {
  private final BlockingQueue<JsonNode> arrived = new LinkedBlockingQueue<>();
  private final List<JsonNode> seen = new ArrayList<>(); // guarded by itself
  private final Duration timeout;
  private final Supplier<String> context;

  /** {@code context} describes the client's state in timeout messages. */
  Inbox(Duration timeout, Supplier<String> context) {
    this.timeout = timeout;
    this.context = context;
  }

  void add(JsonNode message) {
    arrived.add(message);
  }

  JsonNode await(Predicate<JsonNode> p) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (seen) {
      for (int i = 0; i < seen.size(); i++) {
        if (p.test(seen.get(i))) {
          return seen.remove(i);
        }
      }
    }
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "no matching message within "
                + timeout
                + context.get()
                + "; unmatched: "
                + unmatched());
      }
      JsonNode m;
      try {
        m = arrived.poll(left, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      if (m == null) {
        continue;
      }
      if (p.test(m)) {
        return m;
      }
      synchronized (seen) {
        seen.add(m);
      }
    }
  }

  JsonNode awaitType(String type) {
    return await(m -> m.path("type").asText().equals(type));
  }

  /** The next n pub messages of a channel, in arrival order. */
  List<JsonNode> pubs(String channel, int n) {
    List<JsonNode> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(
          await(
              m ->
                  m.path("type").asText().equals("pub")
                      && m.path("channel").asText().equals(channel)));
    }
    return out;
  }

  /** Messages received but not consumed yet that match, without waiting; they are consumed. */
  List<JsonNode> takeReceived(Predicate<JsonNode> p) {
    List<JsonNode> out = new ArrayList<>();
    synchronized (seen) {
      arrived.drainTo(seen);
      for (Iterator<JsonNode> it = seen.iterator(); it.hasNext(); ) {
        JsonNode m = it.next();
        if (p.test(m)) {
          out.add(m);
          it.remove();
        }
      }
    }
    return out;
  }

  /** The last ten messages nobody waited for (kept recorded). */
  private List<JsonNode> unmatched() {
    List<JsonNode> all;
    synchronized (seen) {
      arrived.drainTo(seen);
      all = new ArrayList<>(seen);
    }
    return all.size() > 10 ? all.subList(all.size() - 10, all.size()) : all;
  }
}
