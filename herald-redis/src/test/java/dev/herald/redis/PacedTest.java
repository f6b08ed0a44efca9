package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

class PacedTest {
  // The "context": tasks run when the test says, one at a time, as on an event loop.
  private final ArrayDeque<Runnable> context = new ArrayDeque<>();
  private final Executor onContext = context::add;
  private final List<CompletableFuture<Object>> inFlight = new ArrayList<>();
  private final List<String> sent = new ArrayList<>();

  private void runContext() {
    while (!context.isEmpty()) {
      context.poll().run();
    }
  }

  private CompletableFuture<?> send(String item) {
    sent.add(item);
    CompletableFuture<Object> reply = new CompletableFuture<>();
    inFlight.add(reply);
    return reply;
  }

  @Test
  void keepsAtMostTheWindowInFlightAndCompletesWhenAllAreAnswered() {
    List<String> items = List.of("a", "b", "c", "d", "e");
    CompletableFuture<Void> done = Paced.send(onContext, items, 2, this::send);

    assertThat(sent).containsExactly("a", "b");
    inFlight.get(0).complete("ok");
    runContext();
    assertThat(sent).containsExactly("a", "b", "c");
    // A failed reply frees its place as an answer does.
    inFlight.get(1).completeExceptionally(new IllegalStateException("Redis unreachable"));
    inFlight.get(2).complete("ok");
    runContext();
    assertThat(sent).containsExactly("a", "b", "c", "d", "e");
    assertThat(done).isNotDone();
    inFlight.get(3).complete("ok");
    inFlight.get(4).complete("ok");
    runContext();
    assertThat(done).isCompleted();
  }

  @Test
  void eachCommandIsBuiltWhenSentSoAChangeMadeMeanwhileIsNotUndone() {
    Map<String, String> state = new HashMap<>(Map.of("a", "1", "b", "1", "c", "1"));
    List<String> carried = new ArrayList<>();
    CompletableFuture<Void> done =
        Paced.send(
            onContext,
            List.of("a", "b", "c"),
            1,
            item -> {
              carried.add(item + "=" + state.get(item));
              return send(item);
            });

    // While a's command is in flight, c changes (its own command would be sent at once).
    state.put("c", "gone");
    inFlight.get(0).complete("ok");
    runContext();
    inFlight.get(1).complete("ok");
    runContext();
    inFlight.get(2).complete("ok");
    runContext();

    assertThat(carried).containsExactly("a=1", "b=1", "c=gone");
    assertThat(done).isCompleted();
  }

  @Test
  void nothingToSendIsDoneAtOnce() {
    assertThat(Paced.send(onContext, List.<String>of(), 4, this::send)).isCompleted();
  }
}
