package dev.herald.outbox;

import dev.herald.core.time.Scheduler;
import dev.herald.core.time.SystemScheduler;
import dev.herald.outbox.internal.Json;
import dev.herald.outbox.internal.Lease;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes committed outbox events on their channels, in sequence order per channel, at least
 * once, and keeps the table small (compaction and retention of published events).
 *
 * <p><b>Several instances.</b> Every application instance may run a relay on the same database; one
 * at a time is the leader (a lease row, see docs/outbox.md for why a leader and not row claiming)
 * and the others wait, ready to take over within one lease after the leader stops renewing it. A
 * clean {@link #close} hands the lease over at once.
 *
 * <p><b>No lock while talking to the network.</b> A pass reads pending events with plain reads
 * (auto-commit, no locks), publishes them, then marks them published in one short transaction. A
 * slow or dead hub delays publication, never the application's writes.
 *
 * <p><b>Order and failures.</b> Per channel, events are published one at a time in sequence order,
 * each after the hub took the previous one; channels proceed independently. A publication that
 * fails or times out stops its channel for this pass; the channel is retried after a backoff
 * (doubling up to a maximum), while other channels go on. Nothing is ever skipped: a channel whose
 * events the hub keeps refusing stays pending, visible in the backlog metric and the log.
 *
 * <p><b>Threads.</b> All database work and bookkeeping runs on one worker thread (its own, or an
 * {@link Builder#executor} given); time comes from the {@link Scheduler}, so tests run it on a
 * manual clock.
 */
public final class Relay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Relay.class);

  private final DataSource dataSource;
  private final Publisher publisher;
  private final Scheduler scheduler;
  private final Executor worker;
  private final @Nullable ExecutorService ownWorker;
  private final @Nullable SystemScheduler ownScheduler;
  private final RelayListener listener;
  private final Lease lease;
  private final String owner;
  private final int channelsPerPass;
  private final int eventsPerChannel;
  private final long pollMillis;
  private final long leaseMillis;
  private final long publishTimeoutMillis;
  private final long retryMinMillis;
  private final long retryMaxMillis;
  private final long retentionMillis;
  private final long maintenanceMillis;
  private final AtomicBoolean wakeQueued = new AtomicBoolean();

  // Confined to the worker.
  private boolean started;
  private boolean closed;
  private boolean running;
  private boolean again;
  private boolean reportedLeader;
  private final Map<String, Retry> retries = new HashMap<>();
  private List<CompletableFuture<Void>> flushWaiting = new ArrayList<>();
  private final List<Scheduler.Cancellable> timers = new ArrayList<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();

  private record Retry(long at, long delay) {}

  private record Row(long seq, String json, long createdMillis) {}

  private static final class Batch {
    final String channel;
    final List<Row> rows;
    int published;

    Batch(String channel, List<Row> rows) {
      this.channel = channel;
      this.rows = rows;
    }
  }

  private Relay(Builder b) {
    this.dataSource = b.dataSource;
    this.publisher = b.publisher;
    Scheduler given = b.scheduler;
    if (given == null) {
      SystemScheduler own = new SystemScheduler();
      this.ownScheduler = own;
      this.scheduler = own;
    } else {
      this.ownScheduler = null;
      this.scheduler = given;
    }
    if (b.executor == null) {
      this.ownWorker =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "herald-outbox-relay");
                t.setDaemon(true);
                return t;
              });
      this.worker = ownWorker;
    } else {
      this.ownWorker = null;
      this.worker = b.executor;
    }
    this.listener = b.listener;
    this.owner = b.name + "/" + UUID.randomUUID();
    this.lease = new Lease("default", owner, b.lease.toMillis());
    this.channelsPerPass = b.channelsPerPass;
    this.eventsPerChannel = b.eventsPerChannel;
    this.pollMillis = b.pollInterval.toMillis();
    this.leaseMillis = b.lease.toMillis();
    this.publishTimeoutMillis = b.publishTimeout.toMillis();
    this.retryMinMillis = b.retryMin.toMillis();
    this.retryMaxMillis = b.retryMax.toMillis();
    this.retentionMillis = b.retention == null ? -1 : b.retention.toMillis();
    this.maintenanceMillis = b.maintenanceInterval.toMillis();
  }

  /**
   * A relay publishing the events of {@code dataSource}'s outbox tables through {@code publisher}.
   */
  public static Builder builder(DataSource dataSource, Publisher publisher) {
    return new Builder(dataSource, publisher);
  }

  /** Starts polling, lease renewal and maintenance, and runs a first pass. */
  public void start() {
    worker.execute(
        () -> {
          if (started || closed) {
            return;
          }
          started = true;
          every(pollMillis, this::cycle);
          every(leaseMillis / 4, this::renew);
          every(maintenanceMillis, this::maintain);
          cycle();
        });
  }

  private void every(long millis, Runnable task) {
    timers.add(
        scheduler.schedule(
            millis,
            () ->
                worker.execute(
                    () -> {
                      if (!closed) {
                        every(millis, task);
                        task.run();
                      }
                    })));
  }

  /**
   * Publishes pending events soon: call it after a transaction that recorded events commits. Cheap
   * and safe to call often; does nothing before {@link #start} or after {@link #close}.
   */
  public void wake() {
    if (wakeQueued.compareAndSet(false, true)) {
      worker.execute(
          () -> {
            wakeQueued.set(false);
            if (started) {
              cycle();
            }
          });
    }
  }

  /**
   * Completes after a pass that starts after this call has finished: everything committed before
   * the call has then been published, if this relay is the leader and the hub took it.
   */
  public CompletableFuture<Void> flush() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    worker.execute(
        () -> {
          if (closed) {
            f.complete(null);
            return;
          }
          flushWaiting.add(f);
          cycle();
        });
    return f;
  }

  /** Whether this relay holds the lease now (read on the worker, so it is a snapshot). */
  public CompletableFuture<Boolean> leader() {
    return CompletableFuture.supplyAsync(() -> lease.valid(scheduler.nowMillis()), worker);
  }

  /** This relay's name in the lease row: the configured name and a random suffix. */
  public String owner() {
    return owner;
  }

  // ------------------------------------------------------------------ a pass

  private void cycle() {
    if (closed) {
      return;
    }
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    List<CompletableFuture<Void>> waiting = flushWaiting;
    flushWaiting = new ArrayList<>();
    long now = scheduler.nowMillis();
    List<Batch> batches;
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      if (!lease.ensure(c, now)) {
        leadership(false);
        finish(waiting, false);
        return;
      }
      leadership(true);
      backlog(c, now);
      batches = pending(c, now);
    } catch (SQLException | RuntimeException e) {
      log.warn("outbox relay: reading pending events failed; will retry", e);
      lease.drop();
      leadership(false);
      finish(waiting, false);
      return;
    }
    if (batches.isEmpty()) {
      finish(waiting, false);
      return;
    }
    int[] left = {batches.size()};
    for (Batch b : batches) {
      publishFrom(
          b,
          0,
          () -> {
            if (--left[0] == 0) {
              mark(batches);
              boolean full =
                  batches.size() >= channelsPerPass
                      || batches.stream().anyMatch(x -> x.published >= eventsPerChannel);
              finish(waiting, full);
            }
          });
    }
  }

  private void finish(List<CompletableFuture<Void>> waiting, boolean more) {
    running = false;
    waiting.forEach(f -> f.complete(null));
    if (closed) {
      stop();
    } else if (more || again || !flushWaiting.isEmpty()) {
      worker.execute(this::cycle);
    }
  }

  /**
   * Keeps the lease while a long pass waits for the hub (a pass also renews at its start); relays
   * that are not the leader look at the lease in each pass instead.
   */
  private void renew() {
    if (!lease.leader() || !lease.due(scheduler.nowMillis())) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      leadership(lease.ensure(c, scheduler.nowMillis()));
    } catch (SQLException | RuntimeException e) {
      log.warn("outbox relay: renewing the lease failed", e);
      lease.drop();
      leadership(false);
    }
  }

  private void leadership(boolean leader) {
    if (leader != reportedLeader) {
      reportedLeader = leader;
      log.info("outbox relay {} {} the leader", owner, leader ? "is now" : "is no longer");
      listener.leadership(leader);
    }
  }

  /** Pending events of the oldest channels (not waiting for a retry), each in sequence order. */
  private List<Batch> pending(Connection c, long now) throws SQLException {
    List<String> channels = new ArrayList<>();
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT channel, MIN(id) AS first FROM herald_outbox WHERE relayed_at IS NULL"
                + " GROUP BY channel ORDER BY first")) {
      s.setMaxRows(channelsPerPass + retries.size());
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next() && channels.size() < channelsPerPass) {
          String channel = rs.getString(1);
          Retry r = retries.get(channel);
          if (r == null || r.at <= now) {
            channels.add(channel);
          }
        }
      }
    }
    List<Batch> out = new ArrayList<>();
    for (String channel : channels) {
      List<Row> rows = new ArrayList<>();
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT seq, type, entity_id, action, version, data, created_at FROM herald_outbox"
                  + " WHERE channel = ? AND relayed_at IS NULL ORDER BY seq")) {
        s.setString(1, channel);
        s.setMaxRows(eventsPerChannel);
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            long seq = rs.getLong(1);
            if (!rows.isEmpty() && seq != rows.get(rows.size() - 1).seq + 1) {
              log.error(
                  "outbox relay: {} has a gap before seq {} in its pending events; publishing up"
                      + " to it",
                  channel,
                  seq);
              break;
            }
            String json =
                Json.envelope(
                    seq,
                    rs.getString(2),
                    rs.getString(3),
                    rs.getString(4),
                    rs.getLong(5),
                    rs.getString(6));
            rows.add(
                new Row(
                    seq, json, rs.getObject(7, OffsetDateTime.class).toInstant().toEpochMilli()));
          }
        }
      }
      if (!rows.isEmpty()) {
        out.add(new Batch(channel, rows));
      }
    }
    return out;
  }

  private void backlog(Connection c, long now) throws SQLException {
    try (PreparedStatement s =
            c.prepareStatement(
                "SELECT COUNT(*), MIN(created_at) FROM herald_outbox WHERE relayed_at IS NULL");
        ResultSet rs = s.executeQuery()) {
      rs.next();
      long count = rs.getLong(1);
      OffsetDateTime oldest = rs.getObject(2, OffsetDateTime.class);
      listener.backlog(
          count,
          oldest == null
              ? Duration.ZERO
              : Duration.ofMillis(Math.max(0, now - oldest.toInstant().toEpochMilli())));
    }
  }

  /** Publishes a batch's events from index {@code i} on, one after the other; then {@code done}. */
  private void publishFrom(Batch b, int i, Runnable done) {
    long now = scheduler.nowMillis();
    if (i == b.rows.size() || closed || !lease.valid(now)) {
      done.run();
      return;
    }
    Row row = b.rows.get(i);
    CompletableFuture<Object> result = new CompletableFuture<>();
    Scheduler.Cancellable timeout =
        scheduler.schedule(
            publishTimeoutMillis,
            () ->
                result.completeExceptionally(
                    new TimeoutException(
                        "the hub did not take the publication within "
                            + publishTimeoutMillis
                            + " ms")));
    try {
      publisher
          .publish(b.channel, row.json)
          .whenComplete(
              (v, e) -> {
                if (e != null) {
                  result.completeExceptionally(e);
                } else {
                  result.complete(v);
                }
              });
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
    // The callback handles the outcome on the worker; its own future carries nothing more.
    var unused =
        result.whenCompleteAsync(
            (v, e) -> {
              timeout.cancel();
              if (e != null) {
                Throwable cause = unwrap(e);
                Retry previous = retries.get(b.channel);
                long delay =
                    previous == null
                        ? retryMinMillis
                        : Math.min(retryMaxMillis, Math.max(retryMinMillis, previous.delay * 2));
                retries.put(b.channel, new Retry(scheduler.nowMillis() + delay, delay));
                log.warn(
                    "outbox relay: publishing {} seq {} failed ({}); retrying the channel in {} ms",
                    b.channel,
                    row.seq,
                    cause.toString(),
                    delay);
                listener.publishFailed(b.channel, row.seq, cause);
                done.run();
                return;
              }
              retries.remove(b.channel);
              b.published = i + 1;
              listener.published(
                  b.channel,
                  row.seq,
                  Duration.ofMillis(Math.max(0, scheduler.nowMillis() - row.createdMillis)));
              publishFrom(b, i + 1, done);
            },
            worker);
  }

  private static Throwable unwrap(Throwable e) {
    while ((e instanceof java.util.concurrent.CompletionException
            || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /** Marks what was published, in one short transaction. */
  private void mark(List<Batch> batches) {
    if (batches.stream().allMatch(b -> b.published == 0)) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement s =
          c.prepareStatement(
              "UPDATE herald_outbox SET relayed_at = ? WHERE channel = ? AND seq >= ? AND seq <= ?"
                  + " AND relayed_at IS NULL")) {
        for (Batch b : batches) {
          if (b.published > 0) {
            s.setObject(1, now());
            s.setString(2, b.channel);
            s.setLong(3, b.rows.get(0).seq);
            s.setLong(4, b.rows.get(b.published - 1).seq);
            s.addBatch();
          }
        }
        s.executeBatch();
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException | RuntimeException e) {
      // Published but not marked: published again by a later pass (at least once).
      log.warn("outbox relay: marking published events failed; they will be published again", e);
    }
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(
        java.time.Instant.ofEpochMilli(scheduler.nowMillis()), ZoneOffset.UTC);
  }

  // ------------------------------------------------------------------ maintenance

  /** Compaction and retention; the leader only, a bounded amount per run. */
  private void maintain() {
    if (running || !lease.valid(scheduler.nowMillis())) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      int compacted = compact(c);
      int expired = retentionMillis < 0 ? 0 : expire(c);
      if (compacted + expired > 0) {
        listener.removed(compacted, expired);
      }
    } catch (SQLException | RuntimeException e) {
      log.warn("outbox relay: maintenance failed; will retry", e);
    }
  }

  /** Removes published events that a later event of the same entity supersedes. */
  int compact(Connection c) throws SQLException {
    c.setAutoCommit(true);
    List<Object[]> victims = new ArrayList<>();
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT o.channel, o.seq FROM herald_outbox o WHERE o.relayed_at IS NOT NULL"
                + " AND o.entity_id IS NOT NULL AND EXISTS (SELECT 1 FROM herald_outbox n"
                + " WHERE n.channel = o.channel AND n.type = o.type"
                + " AND n.entity_id = o.entity_id AND n.seq > o.seq)")) {
      s.setMaxRows(MAINTENANCE_BATCH);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          victims.add(new Object[] {rs.getString(1), rs.getLong(2)});
        }
      }
    }
    if (victims.isEmpty()) {
      return 0;
    }
    try (PreparedStatement d =
        c.prepareStatement("DELETE FROM herald_outbox WHERE channel = ? AND seq = ?")) {
      for (Object[] v : victims) {
        d.setString(1, (String) v[0]);
        d.setLong(2, (Long) v[1]);
        d.addBatch();
      }
      d.executeBatch();
    }
    return victims.size();
  }

  private static final int MAINTENANCE_BATCH = 1000;

  /**
   * Removes published events older than the retention, per channel a prefix, and raises the
   * channel's floor to the last one removed in the same transaction.
   */
  int expire(Connection c) throws SQLException {
    OffsetDateTime cutoff =
        OffsetDateTime.ofInstant(
            java.time.Instant.ofEpochMilli(scheduler.nowMillis() - retentionMillis),
            ZoneOffset.UTC);
    Map<String, Long> upTo = new LinkedHashMap<>();
    c.setAutoCommit(true);
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT channel, MAX(seq) FROM herald_outbox WHERE relayed_at IS NOT NULL"
                + " AND created_at < ? GROUP BY channel")) {
      s.setObject(1, cutoff);
      s.setMaxRows(MAINTENANCE_BATCH);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          upTo.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    int removed = 0;
    for (Map.Entry<String, Long> e : upTo.entrySet()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement f =
            c.prepareStatement(
                "UPDATE herald_outbox_floor SET seq = GREATEST(seq, ?) WHERE channel = ?")) {
          f.setLong(1, e.getValue());
          f.setString(2, e.getKey());
          if (f.executeUpdate() == 0) {
            try (PreparedStatement in =
                c.prepareStatement(
                    "INSERT INTO herald_outbox_floor (channel, seq) VALUES (?, ?)")) {
              in.setString(1, e.getKey());
              in.setLong(2, e.getValue());
              in.executeUpdate();
            }
          }
        }
        try (PreparedStatement d =
            c.prepareStatement(
                "DELETE FROM herald_outbox WHERE channel = ? AND seq <= ?"
                    + " AND relayed_at IS NOT NULL")) {
          d.setString(1, e.getKey());
          d.setLong(2, e.getValue());
          removed += d.executeUpdate();
        }
        c.commit();
      } catch (SQLException | RuntimeException ex) {
        c.rollback();
        throw ex;
      } finally {
        c.setAutoCommit(true);
      }
    }
    return removed;
  }

  // ------------------------------------------------------------------ stop

  /**
   * Stops: no new publication starts; waits for those in flight (at most the publish timeout), then
   * gives the lease up so another instance's relay takes over at once.
   */
  @Override
  public void close() {
    CompletableFuture<Void> done = stopAsync();
    try {
      done.get(publishTimeoutMillis + 5_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("outbox relay: stopping did not finish cleanly: {}", e.toString());
    }
    if (ownWorker != null) {
      ownWorker.shutdownNow();
    }
    if (ownScheduler != null) {
      ownScheduler.close();
    }
  }

  /** Like {@link #close} but returns at once; the stage completes when the lease is released. */
  public CompletableFuture<Void> stopAsync() {
    try {
      worker.execute(
          () -> {
            if (closed) {
              return;
            }
            closed = true;
            timers.forEach(Scheduler.Cancellable::cancel);
            timers.clear();
            if (!running) {
              stop();
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      stopped.complete(null);
    }
    return stopped;
  }

  private void stop() {
    if (stopped.isDone()) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      lease.release(c);
    } catch (SQLException | RuntimeException e) {
      log.warn("outbox relay: releasing the lease failed; another relay takes over after it", e);
    }
    leadership(false);
    flushWaiting.forEach(f -> f.complete(null));
    flushWaiting.clear();
    stopped.complete(null);
  }

  /** Options of a {@link Relay}; every duration must be positive. */
  public static final class Builder {
    private final DataSource dataSource;
    private final Publisher publisher;
    private @Nullable Scheduler scheduler;
    private @Nullable Executor executor;
    private RelayListener listener = RelayListener.NONE;
    private String name = defaultName();
    private int channelsPerPass = 100;
    private int eventsPerChannel = 100;
    private Duration pollInterval = Duration.ofSeconds(1);
    private Duration lease = Duration.ofSeconds(10);
    private Duration publishTimeout = Duration.ofSeconds(4);
    private Duration retryMin = Duration.ofMillis(200);
    private Duration retryMax = Duration.ofSeconds(30);
    private @Nullable Duration retention = Duration.ofDays(7);
    private Duration maintenanceInterval = Duration.ofMinutes(1);

    private Builder(DataSource dataSource, Publisher publisher) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    private static String defaultName() {
      return ManagementFactory.getRuntimeMXBean().getName(); // pid@host
    }

    /** Time and timers; default: the system clock and a timer thread of the relay's own. */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler);
      return this;
    }

    /**
     * Runs the relay's database work and bookkeeping, one task at a time (it must be serial);
     * default: a daemon thread of the relay's own.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor);
      return this;
    }

    public Builder listener(RelayListener listener) {
      this.listener = Objects.requireNonNull(listener);
      return this;
    }

    /** How this relay names itself in the lease row (default {@code pid@host}). */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name);
      return this;
    }

    /** Channels published per pass (default 100) and events per channel (default 100). */
    public Builder batch(int channels, int eventsPerChannel) {
      if (channels < 1 || eventsPerChannel < 1) {
        throw new IllegalArgumentException("batch sizes must be >= 1");
      }
      this.channelsPerPass = channels;
      this.eventsPerChannel = eventsPerChannel;
      return this;
    }

    /** A pass also runs this often, besides {@link Relay#wake} (default 1 s). */
    public Builder pollInterval(Duration d) {
      this.pollInterval = positive(d, "pollInterval");
      return this;
    }

    /**
     * How long a leader that stopped renewing keeps the lease (default 10 s): the failover time.
     * The leader publishes only during the first half after each renewal, which it attempts every
     * quarter.
     */
    public Builder lease(Duration d) {
      this.lease = positive(d, "lease");
      return this;
    }

    /** A publication not taken by the hub within this fails and is retried (default 4 s). */
    public Builder publishTimeout(Duration d) {
      this.publishTimeout = positive(d, "publishTimeout");
      return this;
    }

    /** Backoff of a channel after a failed publication (default 200 ms doubling to 30 s). */
    public Builder retryBackoff(Duration min, Duration max) {
      this.retryMin = positive(min, "retry min");
      this.retryMax = positive(max, "retry max");
      if (max.compareTo(min) < 0) {
        throw new IllegalArgumentException("retry max must be >= min");
      }
      return this;
    }

    /**
     * Published events older than this are removed (default 7 days); {@code null} keeps them.
     * "Changes since" a removed event answers "take a snapshot".
     */
    public Builder retention(@Nullable Duration d) {
      this.retention = d == null ? null : positive(d, "retention");
      return this;
    }

    /** How often compaction and retention run (default 1 min). */
    public Builder maintenanceInterval(Duration d) {
      this.maintenanceInterval = positive(d, "maintenanceInterval");
      return this;
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive: " + d);
      }
      return d;
    }

    public Relay build() {
      if (publishTimeout.compareTo(lease.dividedBy(2)) >= 0) {
        throw new IllegalArgumentException(
            "publishTimeout ("
                + publishTimeout
                + ") must be shorter than half the lease ("
                + lease
                + "): a publication must end before another relay may take over");
      }
      if (lease.toMillis() < 4) {
        throw new IllegalArgumentException("lease must be at least 4 ms");
      }
      return new Relay(this);
    }
  }
}
