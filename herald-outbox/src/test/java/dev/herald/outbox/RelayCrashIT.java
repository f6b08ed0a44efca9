package dev.herald.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.outbox.testing.CrashingRelay;
import dev.herald.outbox.testing.RecordingPublisher;
import dev.herald.outbox.testing.TestDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * kill -9 between commit and publish: a child process commits events, its relay publishes some and
 * hangs on the next, and the process is killed (SIGKILL: no shutdown hook, no lease release, no
 * marking). A relay in another process then takes over after the lease and publishes everything, in
 * order: nothing committed is lost.
 */
@ParameterizedClass(name = "on {0}")
@EnumSource(TestDatabase.Kind.class)
class RelayCrashIT {
  static final Duration LEASE = Duration.ofSeconds(2);

  @Parameter TestDatabase.Kind kind;

  @Test
  void eventsCommittedByAKilledProcessArePublishedByTheNextRelay() throws Exception {
    try (TestDatabase db = TestDatabase.create(kind)) {
      int count = 6;
      Process child =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  CrashingRelay.class.getName(),
                  db.url(),
                  db.user(),
                  String.valueOf(LEASE.toMillis()),
                  String.valueOf(count),
                  "3")
              .redirectErrorStream(true)
              .start();
      List<String> childOut = new CopyOnWriteArrayList<>();
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line = r.readLine(); line != null; line = r.readLine()) {
                    childOut.add(line);
                  }
                } catch (java.io.IOException e) {
                  // the process died
                }
              });
      reader.start();
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> childOut.contains("committed " + count) && childOut.contains("published 3"));
      } finally {
        child.destroyForcibly(); // SIGKILL
        child.waitFor();
        reader.join();
      }
      assertThat(childOut).doesNotContain("published 4"); // hung on 3
      long firstPending =
          db.queryLong("SELECT MIN(seq) FROM herald_outbox WHERE relayed_at IS NULL");
      assertThat(firstPending)
          .as("3 was published, never marked: its pass never ended")
          .isBetween(1L, 3L);
      assertThat(db.queryLong("SELECT COUNT(*) FROM herald_outbox_lease WHERE owner IS NOT NULL"))
          .as("the dead process still holds the lease")
          .isEqualTo(1);

      RecordingPublisher hub = new RecordingPublisher();
      try (Relay next =
          Relay.builder(db.dataSource(), hub)
              .lease(LEASE)
              .publishTimeout(LEASE.dividedBy(4))
              .pollInterval(Duration.ofMillis(100))
              .build()) {
        next.start();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    db.queryLong("SELECT COUNT(*) FROM herald_outbox WHERE relayed_at IS NULL")
                        == 0);
        // At least once and in order: the next relay starts from the first unmarked event, so
        // 3 is published twice (the subscriber drops the repeat by seq) and nothing is lost.
        assertThat(hub.seqs("k"))
            .containsExactlyElementsOf(
                LongStream.rangeClosed(firstPending, count).boxed().toList());
      }
    }
  }
}
