package dev.herald.server.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WriteCoalescingTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void withoutDelayTheConnectionsOwnExecutorIsUsed() {
    Executor immediate = Runnable::run;
    WriteCoalescing off = new WriteCoalescing(Duration.ZERO);
    assertThat(off.enabled()).isFalse();
    assertThat(off.executor(vertx.getOrCreateContext(), immediate)).isSameAs(immediate);
  }

  @Test
  void writesRequestedTogetherRunLaterTogetherInOrderOnTheEventLoop() {
    WriteCoalescing coalescing = new WriteCoalescing(Duration.ofMillis(20));
    Context context = vertx.getOrCreateContext();
    List<String> ran = new CopyOnWriteArrayList<>();
    AtomicInteger ranBeforeRequestsEnded = new AtomicInteger(-1);
    List<Thread> threads = new CopyOnWriteArrayList<>();
    context.runOnContext(
        v -> {
          // Two connections on one event loop request writes within one turn of the loop: none
          // may run before the turn ends (the timer cannot fire on this thread meanwhile).
          Executor a = coalescing.executor(context, Runnable::run);
          Executor b = coalescing.executor(context, Runnable::run);
          for (String name : List.of("a1", "b1", "a2")) {
            (name.startsWith("a") ? a : b)
                .execute(
                    () -> {
                      ran.add(name);
                      threads.add(Thread.currentThread());
                    });
          }
          ranBeforeRequestsEnded.set(ran.size());
        });
    await().atMost(Duration.ofSeconds(10)).until(() -> ran.size() == 3);
    assertThat(ranBeforeRequestsEnded).hasValue(0);
    assertThat(ran).containsExactly("a1", "b1", "a2");
    assertThat(threads).allSatisfy(t -> assertThat(t.getName()).contains("eventloop"));
  }

  @Test
  void aWriteRequestedAfterAFlushIsNotLost() {
    WriteCoalescing coalescing = new WriteCoalescing(Duration.ofMillis(5));
    Executor e = coalescing.executor(vertx.getOrCreateContext(), Runnable::run);
    AtomicInteger count = new AtomicInteger();
    e.execute(count::incrementAndGet);
    await().atMost(Duration.ofSeconds(10)).until(() -> count.get() == 1);
    e.execute(count::incrementAndGet); // the timer is re-armed for it
    await().atMost(Duration.ofSeconds(10)).until(() -> count.get() == 2);
  }
}
