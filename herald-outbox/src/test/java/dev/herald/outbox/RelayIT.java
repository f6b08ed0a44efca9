package dev.herald.outbox;

import static dev.herald.outbox.testing.RecordingPublisher.Behaviour.FAIL;
import static dev.herald.outbox.testing.RecordingPublisher.Behaviour.HANG;
import static dev.herald.outbox.testing.RecordingPublisher.Behaviour.TAKE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.core.testkit.ManualScheduler;
import dev.herald.outbox.testing.RecordingPublisher;
import dev.herald.outbox.testing.SchedulerClock;
import dev.herald.outbox.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The relay on H2 and PostgreSQL: order, failures, no lock held while publishing, leadership. */
@ParameterizedClass(name = "on {0}")
@EnumSource(TestDatabase.Kind.class)
class RelayIT {
  static final Duration LEASE = Duration.ofSeconds(10);
  static final Duration TIMEOUT = Duration.ofSeconds(4);
  static final Duration RETRY = Duration.ofMillis(200);

  @Parameter TestDatabase.Kind kind;

  TestDatabase db;
  final ManualScheduler time = new ManualScheduler();
  final Outbox outbox = Outbox.builder().clock(new SchedulerClock(time)).build();
  final List<Relay> relays = new ArrayList<>();

  @BeforeEach
  void open() {
    db = TestDatabase.create(kind);
  }

  @AfterEach
  void close() {
    relays.forEach(Relay::close);
    db.close();
  }

  /** A recording listener. */
  static final class Events implements RelayListener {
    final List<String> log = new CopyOnWriteArrayList<>();
    final List<Duration> lags = new CopyOnWriteArrayList<>();
    volatile long backlog = -1;

    @Override
    public void published(String channel, long seq, Duration lag) {
      log.add("published " + channel + " " + seq);
      lags.add(lag);
    }

    @Override
    public void publishFailed(String channel, long seq, Throwable error) {
      log.add("failed " + channel + " " + seq + " " + error.getClass().getSimpleName());
    }

    @Override
    public void backlog(long events, Duration oldest) {
      backlog = events;
    }

    @Override
    public void leadership(boolean leader) {
      log.add(leader ? "leader" : "follower");
    }

    @Override
    public void removed(int compacted, int expired) {
      log.add("removed " + compacted + " " + expired);
    }
  }

  Relay relay(RecordingPublisher publisher, ManualScheduler scheduler, Events events) {
    Relay r =
        Relay.builder(db.dataSource(), publisher)
            .scheduler(scheduler)
            .listener(events)
            .lease(LEASE)
            .publishTimeout(TIMEOUT)
            .retryBackoff(RETRY, Duration.ofSeconds(5))
            .retention(Duration.ofHours(1))
            .maintenanceInterval(Duration.ofMinutes(1))
            .build();
    relays.add(r);
    r.start();
    r.flush().join(); // the first pass is over: the test decides what the next one sees
    return r;
  }

  void record(String channel, Event... events) {
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      for (Event e : events) {
        outbox.record(c, channel, e);
      }
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  long pending() {
    return db.queryLong("SELECT COUNT(*) FROM herald_outbox WHERE relayed_at IS NULL");
  }

  static void join(java.util.concurrent.CompletableFuture<?> f) throws Exception {
    f.get(30, TimeUnit.SECONDS); // a bound for a hang, not a synchronisation
  }

  @Test
  void publishesCommittedEventsInOrderPerChannelWithTheirLag() throws Exception {
    RecordingPublisher hub = new RecordingPublisher();
    Events events = new Events();
    Relay relay = relay(hub, time, events);
    record("a", Event.of("x", "1"), Event.of("x", "2"));
    record("b", Event.of("x", "1"));
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      outbox.record(c, "a", Event.of("x", "\"rolled back\""));
      c.rollback();
    }
    time.advanceMillis(250);
    record("a", Event.of("x", "3"));
    join(relay.flush());

    assertThat(hub.seqs("a")).containsExactly(1L, 2L, 3L);
    assertThat(hub.seqs("b")).containsExactly(1L);
    assertThat(hub.published())
        .noneMatch(p -> p.event().get("data").asText().equals("rolled back"));
    assertThat(pending()).isZero();
    assertThat(events.lags).contains(Duration.ofMillis(250), Duration.ZERO);
    assertThat(events.log).first().isEqualTo("leader");
    assertThat(hub.published().get(0).event().toString())
        .isEqualTo("{\"seq\":1,\"type\":\"x\",\"data\":1}");

    join(relay.flush());
    assertThat(hub.published()).hasSize(4); // nothing twice
  }

  @Test
  void holdsNoDatabaseLockWhileThePublicationIsInFlight() throws Exception {
    RecordingPublisher hub = new RecordingPublisher().behave("a", HANG);
    Relay relay = relay(hub, time, new Events());
    record("a", Event.created("item", "1", 1, "{}"));
    relay.wake();
    await().atMost(Duration.ofSeconds(30)).until(() -> hub.pending() == 1);

    // While the hub holds the publication: no transaction of the relay is open, and a writer may
    // record on the same channel and even lock every outbox row without waiting.
    if (kind == TestDatabase.Kind.POSTGRES) {
      assertThat(
              db.queryLong(
                  "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
                      + " AND state LIKE 'idle in transaction%'"))
          .isZero();
    }
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute(
          kind == TestDatabase.Kind.POSTGRES
              ? "SET LOCAL lock_timeout = '1ms'"
              : "SET LOCK_TIMEOUT 1");
      outbox.record(c, "a", Event.updated("item", "1", 2, "{}"));
      s.executeQuery("SELECT seq FROM herald_outbox FOR UPDATE").close();
      s.executeQuery("SELECT head FROM herald_outbox_channel FOR UPDATE").close();
      s.executeQuery("SELECT version FROM herald_outbox_lease FOR UPDATE").close();
      c.commit();
    }

    hub.behave("a", TAKE);
    hub.release(f -> f.complete(null));
    join(relay.flush());
    assertThat(pending()).isZero();
    assertThat(hub.seqs("a")).containsExactly(1L, 2L);
  }

  @Test
  void aChannelTheHubRefusesIsRetriedAfterABackoffWhileOthersGoOn() throws Exception {
    RecordingPublisher hub = new RecordingPublisher().behave("bad", FAIL);
    Events events = new Events();
    Relay relay = relay(hub, time, events);
    record("bad", Event.of("x", "1"), Event.of("x", "2"));
    record("good", Event.of("x", "1"));
    join(relay.flush());
    assertThat(hub.seqs("good")).containsExactly(1L);
    assertThat(events.log).containsOnlyOnce("failed bad 1 IllegalStateException");
    assertThat(events.backlog).isEqualTo(3); // measured at the start of the pass

    // Within the backoff the channel is left alone, however often the relay runs.
    record("good", Event.of("x", "2"));
    time.advance(RETRY.minusMillis(1));
    join(relay.flush());
    assertThat(events.log.stream().filter(l -> l.startsWith("failed"))).hasSize(1);
    assertThat(hub.seqs("good")).containsExactly(1L, 2L);
    assertThat(pending()).isEqualTo(2);

    // A second failure doubles the wait.
    time.advanceMillis(1);
    join(relay.flush());
    assertThat(events.log.stream().filter(l -> l.startsWith("failed"))).hasSize(2);
    hub.behave("bad", TAKE);
    time.advance(RETRY);
    join(relay.flush());
    assertThat(hub.seqs("bad")).isEmpty();
    time.advance(RETRY);
    join(relay.flush());
    assertThat(hub.seqs("bad")).containsExactly(1L, 2L);
    assertThat(pending()).isZero();
  }

  @Test
  void aPublicationTheHubNeverAnswersTimesOutAndIsPublishedAgain() throws Exception {
    RecordingPublisher hub = new RecordingPublisher().behave("a", HANG);
    Events events = new Events();
    Relay relay = relay(hub, time, events);
    record("a", Event.of("x", "1"), Event.of("x", "2"));
    relay.wake();
    await().atMost(Duration.ofSeconds(30)).until(() -> hub.pending() == 1);
    time.advance(TIMEOUT);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> events.log.contains("failed a 1 " + TimeoutException.class.getSimpleName()));
    assertThat(pending()).isEqualTo(2);

    hub.behave("a", TAKE);
    time.advance(RETRY);
    join(relay.flush());
    // At least once: the timed-out publication may have reached the hub; the client drops it.
    assertThat(hub.seqs("a")).containsExactly(1L, 1L, 2L);
    assertThat(pending()).isZero();
  }

  @Test
  void aFollowerTakesOverOnlyAfterAWholeLeaseWithoutRenewal() throws Exception {
    List<RecordingPublisher.Published> hubLog = new ArrayList<>();
    RecordingPublisher hubA = new RecordingPublisher("A", hubLog);
    RecordingPublisher hubB = new RecordingPublisher("B", hubLog);
    ManualScheduler timeA = time;
    ManualScheduler timeB = new ManualScheduler();
    Relay a = relay(hubA, timeA, new Events());
    join(a.flush());
    assertThat(a.leader().get()).isTrue();
    Relay b = relay(hubB, timeB, new Events());
    record("c", Event.of("x", "1"), Event.of("x", "2"));
    join(b.flush());
    join(a.flush());
    assertThat(RecordingPublisher.seqs(hubLog, "c")).containsExactly(1L, 2L);
    assertThat(hubLog).allMatch(p -> p.by().equals("A"));

    // A stops in the middle of a publication (a long pause: its clock and timers stand still).
    hubA.behave("c", HANG);
    record("c", Event.of("x", "3"), Event.of("x", "4"));
    a.wake();
    await().atMost(Duration.ofSeconds(30)).until(() -> hubA.pending() == 1);
    timeB.advance(LEASE.minusMillis(1));
    join(b.flush());
    assertThat(b.leader().get()).as("not before a whole lease").isFalse();
    timeB.advanceMillis(1);
    join(b.flush());
    assertThat(b.leader().get()).isTrue();
    assertThat(RecordingPublisher.seqs(hubLog, "c")).containsExactly(1L, 2L, 3L, 3L, 4L);

    // A comes back and its publication returns: its lease is over, so it publishes nothing more.
    timeA.advance(LEASE);
    hubA.behave("c", TAKE);
    hubA.release(f -> f.complete(null));
    record("c", Event.of("x", "5"));
    join(a.flush());
    assertThat(a.leader().get()).isFalse();
    join(b.flush());
    List<RecordingPublisher.Published> afterPause;
    synchronized (hubLog) {
      afterPause = List.copyOf(hubLog.subList(3, hubLog.size()));
    }
    assertThat(afterPause).extracting(RecordingPublisher.Published::by).containsOnly("B");
    assertThat(RecordingPublisher.seqs(hubLog, "c")).containsExactly(1L, 2L, 3L, 3L, 4L, 5L);
  }

  @Test
  void twoRelaysRacingPublishEveryEventOnceInOrderAcrossACleanHandover() throws Exception {
    List<RecordingPublisher.Published> hubLog = new ArrayList<>();
    List<Relay> racing = new ArrayList<>();
    for (String name : new String[] {"A", "B"}) {
      Relay r =
          Relay.builder(db.dataSource(), new RecordingPublisher(name, hubLog))
              .name(name)
              .pollInterval(Duration.ofMillis(20))
              .build(); // real time and threads
      relays.add(r);
      racing.add(r);
      r.start();
    }
    Outbox real = Outbox.create();
    String[] channels = {"r1", "r2", "r3"};
    int perChannel = 60;
    List<Thread> writers = new ArrayList<>();
    for (String ch : channels) {
      Thread t =
          new Thread(
              () -> {
                for (int i = 1; i <= perChannel; i++) {
                  try (Connection c = db.dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    real.record(c, ch, Event.updated("n", String.valueOf(i % 3), i, "{}"));
                    c.commit();
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                  racing.forEach(Relay::wake);
                  if (ch.equals("r1") && i == perChannel / 2) {
                    // the leader stops cleanly mid-stream: the other takes over at once
                    List<Relay> leaders = racing.stream().filter(r -> r.leader().join()).toList();
                    leaders.forEach(Relay::stopAsync);
                  }
                }
              });
      writers.add(t);
    }
    writers.forEach(Thread::start);
    for (Thread t : writers) {
      t.join();
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> pending() == 0);
    List<RecordingPublisher.Published> published;
    synchronized (hubLog) {
      published = List.copyOf(hubLog);
    }
    assertThat(published).extracting(RecordingPublisher.Published::by).contains("A", "B");
    for (String ch : channels) {
      assertThat(RecordingPublisher.seqs(published, ch))
          .as(ch)
          .containsExactlyElementsOf(LongStream.rangeClosed(1, perChannel).boxed().toList());
    }
  }

  @Test
  void maintenanceCompactsAndExpiresPublishedEventsWithoutChangingAnswers() throws Exception {
    Events events = new Events();
    Relay relay = relay(new RecordingPublisher(), time, events);
    record(
        "m",
        Event.created("item", "1", 1, "{}"),
        Event.updated("item", "1", 2, "{}"),
        Event.created("item", "2", 1, "{}"),
        Event.of("note", "{}"),
        Event.updated("item", "1", 3, "{}"));
    join(relay.flush());
    String before = changes("m", 0).toJson();

    time.advance(Duration.ofMinutes(1));
    await().atMost(Duration.ofSeconds(30)).until(() -> events.log.contains("removed 2 0"));
    assertThat(db.queryLong("SELECT COUNT(*) FROM herald_outbox")).isEqualTo(3);
    assertThat(changes("m", 0).toJson()).isEqualTo(before);

    time.advance(Duration.ofHours(1));
    await().atMost(Duration.ofSeconds(30)).until(() -> events.log.contains("removed 0 3"));
    assertThat(db.queryLong("SELECT COUNT(*) FROM herald_outbox")).isZero();
    assertThat(changes("m", 0).snapshotRequired()).isTrue();
    assertThat(changes("m", 4).snapshotRequired()).isTrue();
    ChangePage current = changes("m", 5);
    assertThat(current.snapshotRequired()).isFalse();
    assertThat(current.changes()).isEmpty();
    assertThat(current.seq()).isEqualTo(5);
  }

  ChangePage changes(String channel, long since) throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      return outbox.changesSince(c, channel, since, 100);
    }
  }
}
