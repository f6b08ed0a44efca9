package dev.herald.core.hub;

import dev.herald.core.limits.TokenBucket;
import dev.herald.core.time.Scheduler;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Connects and disconnects, one INFO line each on logger {@code dev.herald.connections}, with
 * structured fields ({@code event}, {@code connection}, {@code user}, {@code transport}, and for a
 * disconnect {@code code} and {@code reason}). At most {@link #PER_SECOND} lines a second with
 * bursts of {@link #BURST}, on the hub's clock: a reconnect storm of thousands of clients does not
 * flood the log. Lines left out are counted, and the next line written says how many ({@code
 * skipped}); the metrics count every connect and disconnect regardless.
 */
final class ConnectionLog {
  static final int PER_SECOND = 20;
  static final int BURST = 100;
  static final String LOGGER = "dev.herald.connections";

  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  private final Scheduler clock;

  // Guards bucket and skipped: sessions of every event loop log through one instance. Nothing is
  // written under it.
  private final Object lock = new Object();
  private final TokenBucket bucket;
  private long skipped;

  ConnectionLog(Scheduler clock) {
    this.clock = clock;
    this.bucket = new TokenBucket(PER_SECOND, BURST, clock.nowMillis());
  }

  void connected(String connection, String user, String transport) {
    Line line = line("connect", connection, user, transport);
    if (line != null) {
      line.event()
          .log("connected {} user={} transport={}{}", connection, user, transport, line.note());
    }
  }

  void disconnected(String connection, String user, String transport, int code, String reason) {
    Line line = line("disconnect", connection, user, transport);
    if (line != null) {
      line.event()
          .addKeyValue("code", code)
          .addKeyValue("reason", reason)
          .log(
              "disconnected {} user={} transport={} code={} reason={}{}",
              connection,
              user,
              transport,
              code,
              reason,
              line.note());
    }
  }

  /** A line about to be written, and what its text says about the lines left out before it. */
  private record Line(LoggingEventBuilder event, String note) {}

  /** A line with the common fields, or null when it is left out (level off, or over the rate). */
  private @Nullable Line line(String event, String connection, String user, String transport) {
    if (!log.isInfoEnabled()) {
      return null;
    }
    long skipped = permit();
    if (skipped < 0) {
      return null;
    }
    return new Line(
        log.atInfo()
            .addKeyValue("event", event)
            .addKeyValue("connection", connection)
            .addKeyValue("user", user)
            .addKeyValue("transport", transport)
            .addKeyValue("skipped", skipped),
        skipped == 0 ? "" : " (" + skipped + " connection lines left out before this one)");
  }

  /** -1 when this line is left out; else how many were left out before it (then reset). */
  private long permit() {
    synchronized (lock) {
      if (!bucket.tryTake(clock.nowMillis())) {
        skipped++;
        return -1;
      }
      long s = skipped;
      skipped = 0;
      return s;
    }
  }
}
