package dev.herald.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {
  @Test
  void tasksSubmittedFromATaskRunAfterItNotInsideIt() {
    List<String> log = new ArrayList<>();
    SerialExecutor ex = new SerialExecutor(Runnable::run);
    ex.execute(
        () -> {
          log.add("a-start");
          ex.execute(() -> log.add("b"));
          ex.execute(() -> log.add("c"));
          log.add("a-end");
        });
    assertThat(log).containsExactly("a-start", "a-end", "b", "c");
  }

  @Test
  void aFailingTaskDoesNotStopTheOthers() {
    List<String> log = new ArrayList<>();
    SerialExecutor ex = new SerialExecutor(Runnable::run);
    ex.execute(
        () -> {
          ex.execute(
              () -> {
                throw new IllegalStateException("boom");
              });
          ex.execute(() -> log.add("after"));
        });
    assertThat(log).containsExactly("after");
  }

  @Test
  void rejectionIsSwallowed() {
    SerialExecutor ex =
        new SerialExecutor(
            r -> {
              throw new RejectedExecutionException();
            });
    ex.execute(() -> {});
    ex.execute(() -> {});
  }
}
