package dev.herald.core.hub;

import dev.herald.core.time.Scheduler;
import dev.herald.core.time.Scheduler.Cancellable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Waits for the other nodes' answers to one server API question, for a bounded time: done as soon
 * as every node the bus said to expect has answered, else when the time is up, with the nodes that
 * did not answer named. Answers may arrive before the bus says whom to expect; answers of nodes it
 * did not name are kept too.
 */
final class Gathering {
  /** Stands in {@link Gathered#missing} for the other nodes when the question could not be sent. */
  static final String UNREACHABLE = "*";

  /**
   * What the other nodes answered, by node in order of arrival, and the nodes that did not answer.
   */
  record Gathered(Map<String, String> answers, List<String> missing) {
    Gathered {
      answers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(answers));
      missing = List.copyOf(missing);
    }
  }

  private final CompletableFuture<Gathered> result = new CompletableFuture<>();
  // Guards answers, expected and done.
  private final Object lock = new Object();
  private final Map<String, String> answers = new LinkedHashMap<>();
  private @Nullable Set<String> expected;
  private boolean done;
  private Cancellable timer = Cancellable.NONE;

  private Gathering() {}

  /** Starts waiting; gives up after {@code timeoutMillis} on {@code scheduler}'s clock. */
  static Gathering start(Scheduler scheduler, long timeoutMillis) {
    Gathering g = new Gathering();
    Cancellable t = scheduler.schedule(timeoutMillis, g::timeUp);
    synchronized (g.lock) {
      g.timer = t;
    }
    return g;
  }

  CompletableFuture<Gathered> result() {
    return result;
  }

  /** A node answered (the first answer of a node counts). */
  void answer(String node, String answer) {
    Gathered g;
    synchronized (lock) {
      if (done) {
        return;
      }
      answers.putIfAbsent(node, answer);
      g = finishedIfComplete();
    }
    finish(g);
  }

  /** The bus sent the question; these are the other nodes to wait for. */
  void expect(Set<String> nodes) {
    Gathered g;
    synchronized (lock) {
      if (done) {
        return;
      }
      expected = Set.copyOf(nodes);
      g = finishedIfComplete();
    }
    finish(g);
  }

  /** The question could not be sent: no answer will come. */
  void unreachable() {
    Gathered g;
    synchronized (lock) {
      if (done) {
        return;
      }
      done = true;
      g = new Gathered(answers, List.of(UNREACHABLE));
    }
    finish(g);
  }

  private void timeUp() {
    Gathered g;
    synchronized (lock) {
      if (done) {
        return;
      }
      done = true;
      Set<String> e = expected;
      g = new Gathered(answers, e == null ? List.of(UNREACHABLE) : unanswered(e));
    }
    finish(g);
  }

  private @Nullable Gathered finishedIfComplete() {
    Set<String> e = expected;
    if (e == null || !answers.keySet().containsAll(e)) {
      return null;
    }
    done = true;
    return new Gathered(answers, List.of());
  }

  private List<String> unanswered(Set<String> e) {
    List<String> out = new ArrayList<>(new TreeSet<>(e));
    out.removeAll(answers.keySet());
    return out;
  }

  private void finish(@Nullable Gathered g) {
    if (g == null) {
      return;
    }
    Cancellable t;
    synchronized (lock) {
      t = timer;
    }
    t.cancel();
    result.complete(g);
  }
}
