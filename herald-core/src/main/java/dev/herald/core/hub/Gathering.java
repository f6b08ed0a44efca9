package dev.herald.core.hub;

import dev.herald.core.time.Scheduler;
import dev.herald.core.time.Scheduler.Cancellable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Waits for every node's answer to one server API question, the asking node's own included, for a
 * bounded time: done as soon as the asking node and every node the bus said to expect have
 * answered, else when the time is up, with the nodes that did not answer named (a node whose event
 * loop is stuck is named too, its own node as well). Answers may arrive before the bus says whom to
 * expect; answers of nodes it did not name are kept too.
 */
final class Gathering {
  /**
   * Stands in {@link Gathered#missing} for the other nodes when they could not be asked (the
   * question could not be sent, or the bus never said whom to expect).
   */
  static final String UNREACHABLE = "*";

  /**
   * What the nodes answered, by node (the asking node first when it answered, then in order of
   * arrival), and the nodes that did not answer.
   */
  record Gathered(Map<String, String> answers, List<String> missing) {
    Gathered {
      answers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(answers));
      missing = List.copyOf(missing);
    }
  }

  private final String self;
  private final CompletableFuture<Gathered> result = new CompletableFuture<>();
  // Guards everything below.
  private final Object lock = new Object();
  private final Map<String, String> answers = new LinkedHashMap<>();
  private @Nullable Set<String> others;
  private boolean othersUnreachable;
  private boolean done;
  private Cancellable timer = Cancellable.NONE;

  private Gathering(String self) {
    this.self = self;
  }

  /**
   * Starts waiting for {@code self}'s answer and the others'; gives up after {@code timeoutMillis}
   * on {@code scheduler}'s clock.
   */
  static Gathering start(String self, Scheduler scheduler, long timeoutMillis) {
    Gathering g = new Gathering(self);
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
      others = new HashSet<>(nodes);
      g = finishedIfComplete();
    }
    finish(g);
  }

  /** The question could not be sent: no other node will answer; only this one is waited for. */
  void unreachable() {
    Gathered g;
    synchronized (lock) {
      if (done) {
        return;
      }
      othersUnreachable = true;
      others = Set.of();
      g = finishedIfComplete();
    }
    finish(g);
  }

  private void timeUp() {
    Gathered g;
    synchronized (lock) {
      if (done) {
        return;
      }
      if (others == null) {
        othersUnreachable = true;
      }
      g = gathered();
    }
    finish(g);
  }

  private @Nullable Gathered finishedIfComplete() {
    Set<String> o = others;
    if (o == null || !answers.containsKey(self) || !answers.keySet().containsAll(o)) {
      return null;
    }
    return gathered();
  }

  /** The result as it stands; marks the gathering done. */
  private Gathered gathered() {
    done = true;
    Set<String> expected = new TreeSet<>();
    expected.add(self);
    if (others != null) {
      expected.addAll(others);
    }
    List<String> missing = new ArrayList<>(expected);
    missing.removeAll(answers.keySet());
    if (othersUnreachable) {
      missing.add(UNREACHABLE);
    }
    Map<String, String> ordered = new LinkedHashMap<>();
    String own = answers.get(self);
    if (own != null) {
      ordered.put(self, own);
    }
    ordered.putAll(answers);
    return new Gathered(ordered, missing);
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
