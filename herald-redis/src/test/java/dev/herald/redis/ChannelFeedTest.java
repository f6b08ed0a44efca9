package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.herald.core.broker.BrokerEventHandler;
import dev.herald.core.broker.PresenceEvent;
import dev.herald.core.limits.WarnLimiter;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A channel's feed on one node, driven by hand: a fake stream plays Redis (a read sees the stream
 * as it is when the read is sent, as Redis runs commands in order) and the test decides when each
 * read's answer arrives. Everything runs on the test thread, which plays the connector's context.
 */
class ChannelFeedTest {
  private static final String CH = "room";
  // The channel's epoch in "Redis" (another server, after a failover, starts another).
  private String epoch = "e1";

  /** The channel's stream in "Redis", and the reads in flight, answered in the order sent. */
  private final List<Pub> stream = new ArrayList<>();

  private final ArrayDeque<Runnable> inFlight = new ArrayDeque<>();
  private final List<Long> retryDelays = new ArrayList<>();
  private final List<Runnable> retries = new ArrayList<>();
  private final AtomicLong now = new AtomicLong(1_000_000);
  private String readFailure; // when set, reads fail with it
  private final Recorder hub = new Recorder();
  private final ChannelFeed feed =
      new ChannelFeed(
          CH,
          hub,
          new ChannelFeed.Support(
              this::read,
              Runnable::run,
              (delay, task) -> {
                retryDelays.add(delay);
                retries.add(task);
              },
              100,
              1000,
              new WarnLimiter(10_000, now::get),
              1000));

  private CompletableFuture<ChannelFeed.StreamRead> read(String channel, long after, long ttl) {
    if (readFailure != null) {
      return CompletableFuture.failedFuture(
          new CompletionException(new IllegalStateException(readFailure)));
    }
    long top = stream.size();
    List<Pub> pubs =
        after == Long.MAX_VALUE
            ? List.of()
            : List.copyOf(stream.subList((int) Math.min(after, top), (int) top));
    CompletableFuture<ChannelFeed.StreamRead> f = new CompletableFuture<>();
    ChannelFeed.StreamRead answer =
        new ChannelFeed.StreamRead(new StreamPosition(epoch, top), 0, pubs);
    inFlight.add(() -> f.complete(answer));
    return f;
  }

  /** Appends to the stream; returns the publication as pub/sub would carry it. */
  private ChannelFeed.PubMsg append() {
    Pub p =
        new Pub(CH, epoch, stream.size() + 1, 0, RawJson.EMPTY_OBJECT, null); // offset = size + 1
    stream.add(p);
    return new ChannelFeed.PubMsg(p);
  }

  private void answerNextRead() {
    inFlight.removeFirst().run();
  }

  /** Subscribes at a stream of {@code existing} publications and goes live. */
  private void subscribedAt(int existing) {
    for (int i = 0; i < existing; i++) {
      append();
    }
    feed.hold();
    feed.markReady();
    feed.sync();
    answerNextRead();
    assertThat(inFlight).isEmpty();
  }

  @Test
  void livePublicationsAreDeliveredInOrderAndAGapIsFilledFromTheStream() {
    subscribedAt(5);
    feed.offer(append()); // 6
    ChannelFeed.PubMsg seven = append();
    ChannelFeed.PubMsg eight = append();
    feed.offer(eight); // 7 was lost on the way: read it first
    assertThat(hub.offsets()).containsExactly(6L);
    answerNextRead();
    feed.offer(seven); // pub/sub's late copy of what the read delivered
    feed.offer(append()); // 9
    assertThat(hub.offsets()).containsExactly(6L, 7L, 8L, 9L);
    assertThat(hub.resets).isZero();
  }

  /**
   * Redis came back (a promoted replica, a restore) in the same epoch but behind what this node
   * delivered: acknowledged publications were lost and their offsets will be handed out again.
   * Skipping the reused offsets as "already delivered" would lose the new publications silently;
   * the subscribers are reset instead, and the reused offsets are delivered.
   */
  @Test
  void aStreamThatWentBackInTheSameEpochResetsAndDeliversTheReusedOffsets() {
    subscribedAt(5);
    for (int i = 0; i < 3; i++) {
      feed.offer(append()); // 6, 7, 8 delivered
    }
    stream.subList(6, 8).clear(); // "Redis" lost 7 and 8
    feed.hold(); // the pub/sub connection is back: catch up
    feed.sync();
    answerNextRead();
    assertThat(hub.resets).isEqualTo(1);
    feed.offer(append()); // a new 7
    assertThat(hub.offsets()).containsExactly(6L, 7L, 8L, 7L);
  }

  /**
   * A failover: the node's connections come back to another server, where publishing resumed in a
   * new epoch before this node's catch-up read could run (its command connection came back last).
   * What pub/sub brought meanwhile is at or below the position that read finds: one reset covers it
   * all (subscribers resubscribe and get recovered:false), none of it is delivered, and what comes
   * next is delivered live.
   */
  @Test
  void aCatchUpThatFindsANewEpochCoversWhatWasPublishedThereWithOneReset() {
    subscribedAt(5);
    feed.offer(append()); // 6, delivered in the old epoch
    epoch = "e2"; // the promoted replica
    stream.clear();
    feed.hold(); // pub/sub is back, on the new master
    for (int i = 0; i < 3; i++) {
      feed.offer(append()); // e2: 1, 2, 3, held until the catch-up
    }
    feed.sync();
    answerNextRead();
    assertThat(hub.resets).isEqualTo(1);
    assertThat(hub.offsets()).containsExactly(6L);
    feed.offer(append()); // e2: 4, live
    assertThat(hub.offsets()).containsExactly(6L, 4L);
    assertThat(hub.pubs.get(1).epoch()).isEqualTo("e2");
    assertThat(hub.resets).isEqualTo(1);
  }

  /**
   * A catch-up asked for while another is in flight (the node reconnects during a gap fill) must
   * not read in parallel: the older read, answered first, moves the position on, and comparing the
   * newer read (made from the old position) with it would declare publications missing that were
   * delivered, and reset every subscriber for nothing.
   */
  @Test
  void overlappingCatchUpsNeverDeclareAResetWithNothingLost() {
    subscribedAt(5);
    feed.offer(append()); // 6
    append(); // 7, lost by pub/sub
    feed.offer(append()); // 8: a gap, the first catch-up reads after 6
    append(); // 9
    append(); // 10
    feed.sync(); // reconnected: catch up again
    answerNextRead(); // the first read: 7..8
    feed.offer(new ChannelFeed.PubMsg(stream.get(8))); // 9 from pub/sub, if it was caught live
    while (!inFlight.isEmpty()) {
      answerNextRead();
    }
    feed.offer(append()); // 11
    while (!inFlight.isEmpty()) {
      answerNextRead();
    }
    assertThat(hub.resets).as("stream resets").isZero();
    assertThat(hub.offsets())
        .containsExactlyElementsOf(LongStream.rangeClosed(6, 11).boxed().toList());
  }

  @Test
  void aCatchUpAskedForDuringAReadIsOneMoreReadAfterIt() {
    subscribedAt(2);
    append(); // 3, lost
    feed.offer(append()); // 4: gap
    feed.sync();
    feed.sync();
    assertThat(inFlight).as("reads in flight at once").hasSize(1);
    answerNextRead();
    assertThat(inFlight).as("the catch-ups asked for meanwhile, as one").hasSize(1);
    answerNextRead();
    assertThat(inFlight).isEmpty();
    assertThat(hub.offsets()).containsExactly(3L, 4L);
  }

  /**
   * A catch-up read that keeps failing holds the channel's events (nothing is skipped), retries
   * with capped backoff and says so at warn: the first failure at once, then at most once per
   * interval with the number held back, and the recovery at info.
   */
  @Test
  void failedCatchUpsAreRetriedWithBackoffAndReportedAtWarnRateLimited() {
    subscribedAt(3);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    Logger logger = (Logger) LoggerFactory.getLogger(ChannelFeed.class);
    logger.addAppender(logs);
    try {
      append(); // 4, lost
      readFailure = "READONLY You can't write against a read only replica.";
      feed.offer(append()); // 5: a gap, and the read fails
      for (int i = 0; i < 6; i++) {
        now.addAndGet(1_000);
        retries.remove(0).run();
      }
      assertThat(retryDelays).containsExactly(100L, 200L, 400L, 800L, 1000L, 1000L, 1000L);
      List<ILoggingEvent> warnings =
          logs.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
      assertThat(warnings).hasSize(1);
      assertThat(warnings.get(0).getFormattedMessage())
          .contains("catching up channel room")
          .contains("READONLY You can't write against a read only replica.")
          .contains("1 in a row");
      now.addAndGet(10_000);
      retries.remove(0).run();
      warnings = logs.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
      assertThat(warnings).hasSize(2);
      assertThat(warnings.get(1).getFormattedMessage())
          .contains("8 in a row")
          .contains("6 other failures not logged");
      assertThat(hub.offsets()).as("nothing delivered past the gap").isEmpty();

      readFailure = null;
      retries.remove(0).run();
      answerNextRead();
      assertThat(hub.offsets()).containsExactly(4L, 5L);
      assertThat(logs.list.get(logs.list.size() - 1).getFormattedMessage())
          .isEqualTo("channel room caught up after 8 failed stream reads");
      assertThat(hub.resets).isZero();
    } finally {
      logger.detachAppender(logs);
    }
  }

  /** Records what the feed hands the hub. */
  private static final class Recorder implements BrokerEventHandler {
    final List<Pub> pubs = new ArrayList<>();
    int resets;

    List<Long> offsets() {
      return pubs.stream().map(Pub::offset).toList();
    }

    @Override
    public void onPublication(Pub publication) {
      pubs.add(publication);
    }

    @Override
    public void onPresence(PresenceEvent event) {}

    @Override
    public void onStreamReset(String channel) {
      resets++;
    }
  }
}
