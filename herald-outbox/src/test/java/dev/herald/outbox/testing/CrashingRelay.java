package dev.herald.outbox.testing;

import com.zaxxer.hikari.HikariDataSource;
import dev.herald.outbox.Event;
import dev.herald.outbox.Outbox;
import dev.herald.outbox.Relay;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A child process for crash tests: records {@code count} events on channel {@code k}, each
 * committed on its own, while a relay publishes them to stdout and stops answering at seq {@code
 * hangAt}. It prints {@code published <seq>} per publication and {@code committed <count>} when all
 * are committed, then waits to be killed.
 *
 * <p>Arguments: JDBC URL, user, lease in ms, count, hangAt.
 */
public final class CrashingRelay {
  private CrashingRelay() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String user = args[1];
    Duration lease = Duration.ofMillis(Long.parseLong(args[2]));
    int count = Integer.parseInt(args[3]);
    long hangAt = Long.parseLong(args[4]);
    HikariDataSource ds = TestDatabase.pool(url, user, 4);
    Relay relay =
        Relay.builder(
                ds,
                (channel, json) -> {
                  long seq = Long.parseLong(json.replaceAll("^\\{\"seq\":(\\d+),.*$", "$1"));
                  System.out.println("published " + seq);
                  System.out.flush();
                  return seq >= hangAt
                      ? new CompletableFuture<>() // the hub never answers
                      : CompletableFuture.completedFuture(null);
                })
            .name("child")
            .lease(lease)
            .publishTimeout(lease.dividedBy(4))
            .retryBackoff(lease.multipliedBy(100), lease.multipliedBy(100)) // no retry before kill
            .build();
    relay.start();
    Outbox outbox = Outbox.create();
    for (int i = 1; i <= count; i++) {
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        outbox.record(c, "k", Event.of("n", String.valueOf(i)));
        c.commit();
      }
      relay.wake();
    }
    System.out.println("committed " + count);
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE); // until killed: a crash test, not a synchronisation
  }
}
