package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.broker.MemoryBroker;
import dev.herald.core.testkit.BlockingHistoryBroker;
import dev.herald.core.testkit.RecordingTransport;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.PublishResult;
import dev.herald.protocol.ServerMessage.Reply;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.StreamPosition;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The ordering contract under real threads: every transport here runs on its own thread, as on an
 * event loop. No sleeps: latches and waiting on the recording transports.
 */
class ConcurrencyTest {
  private final List<TestHub> hubs = new ArrayList<>();
  private final ExecutorService pool = Executors.newFixedThreadPool(4);

  @AfterEach
  void close() {
    pool.shutdownNow();
    hubs.forEach(TestHub::close);
  }

  private TestHub track(TestHub th) {
    hubs.add(th);
    return th;
  }

  private static List<Long> range(long fromInclusive, long toInclusive) {
    return LongStream.rangeClosed(fromInclusive, toInclusive).boxed().toList();
  }

  /** The publications that came after the reply with this id. */
  private static List<Pub> pubsAfterReply(RecordingTransport t, long id) {
    List<ServerMessage> all = t.messages();
    List<Pub> out = new ArrayList<>();
    boolean after = false;
    for (ServerMessage m : all) {
      if (m instanceof Reply && ((Reply) m).id() == id) {
        after = true;
      } else if (m instanceof Pub) {
        assertThat(after).as("publication before the subscribe reply: %s", m).isTrue();
        out.add((Pub) m);
      }
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(BlockingHistoryBroker.Mode.class)
  void liveMessagesWhileHistoryIsReadAreMergedWithoutGapsOrDuplicates(
      BlockingHistoryBroker.Mode mode) throws Exception {
    AtomicReference<BlockingHistoryBroker> broker = new AtomicReference<>();
    TestHub th =
        track(
            TestHub.builder()
                .broker(
                    s -> {
                      broker.set(new BlockingHistoryBroker(new MemoryBroker(s)));
                      return broker.get();
                    })
                .build());
    String ch = "nopresence:race";
    StreamPosition top = null;
    for (int i = 1; i <= 5; i++) {
      top = th.publish(ch, "{\"n\":" + i + "}");
    }
    StreamPosition since = new StreamPosition(top.epoch(), 2);

    RecordingTransport t = RecordingTransport.threaded("recovering-" + mode);
    TestClient c = th.connect("alice", t);
    broker.get().arm(mode);
    long id = c.subscribe(ch, since);
    broker.get().awaitHistoryCalled();

    // Stay within the namespace's history (100): in READ_LATE mode the history is read after
    // every publication, and must still reach back to offset 3 for recovery to be possible.
    int total = 100;
    CountDownLatch someLive = new CountDownLatch(40);
    Future<?> publisher =
        pool.submit(
            () -> {
              for (int i = 6; i <= total; i++) {
                th.publish(ch, "{\"n\":" + i + "}");
                someLive.countDown();
              }
            });
    assertThat(someLive.await(10, TimeUnit.SECONDS)).isTrue();
    broker.get().release(); // history completes while publications keep coming
    publisher.get(10, TimeUnit.SECONDS);

    Reply r = t.awaitReply(id);
    SubscribeResult res = TestClient.result(r, SubscribeResult.class);
    assertThat(res.recovered()).isTrue();
    assertThat(res.epoch()).isEqualTo(since.epoch());
    assertThat(res.missed()).isEqualTo(res.offset() - 2);
    if (mode == BlockingHistoryBroker.Mode.SNAPSHOT_EARLY) {
      assertThat(res.offset()).isEqualTo(5);
    }
    t.awaitCount(Pub.class, total - 2);
    t.sync();
    List<Pub> pubs = pubsAfterReply(t, id);
    assertThat(pubs).extracting(Pub::offset).containsExactlyElementsOf(range(3, total));
    assertThat(pubs).allSatisfy(p -> assertThat(p.epoch()).isEqualTo(since.epoch()));
    assertThat(pubs.get(0).data().json()).isEqualTo("{\"n\":3}");
    t.assertNoViolations();
  }

  @RepeatedTest(3)
  void concurrentPublishersAreSeenInOffsetOrderByEverySubscriber() throws Exception {
    TestHub th = track(TestHub.create());
    String ch = "nopresence:busy";
    List<TestClient> subscribers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      TestClient c = th.connect("sub" + i, RecordingTransport.threaded("sub" + i));
      c.subscribeOk(ch);
      subscribers.add(c);
    }
    int threads = 4;
    int each = 250;
    CountDownLatch start = new CountDownLatch(1);
    List<Future<List<Long>>> results = new ArrayList<>();
    for (int w = 0; w < threads; w++) {
      int worker = w;
      results.add(
          pool.submit(
              () -> {
                start.await();
                List<Long> offsets = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                  offsets.add(th.publish(ch, "{\"w\":" + worker + ",\"i\":" + i + "}").offset());
                }
                return offsets;
              }));
    }
    start.countDown();
    Set<Long> assigned = new HashSet<>();
    for (Future<List<Long>> f : results) {
      List<Long> offsets = f.get(20, TimeUnit.SECONDS);
      assertThat(offsets).isSorted();
      assigned.addAll(offsets);
    }
    int n = threads * each;
    assertThat(assigned).hasSize(n).containsAll(range(1, n));

    for (TestClient c : subscribers) {
      List<Pub> pubs = c.transport().awaitCount(Pub.class, n);
      assertThat(pubs).extracting(Pub::offset).containsExactlyElementsOf(range(1, n));
      // each worker's publications keep that worker's order
      for (int w = 0; w < threads; w++) {
        String prefix = "{\"w\":" + w + ",";
        List<String> mine =
            pubs.stream().map(p -> p.data().json()).filter(j -> j.startsWith(prefix)).toList();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < each; i++) {
          expected.add(prefix + "\"i\":" + i + "}");
        }
        assertThat(mine).containsExactlyElementsOf(expected);
      }
      c.transport().assertNoViolations();
    }
  }

  @RepeatedTest(3)
  void subscribingWhilePublicationsFlowGivesAContiguousSequenceFromTheReply() throws Exception {
    TestHub th = track(TestHub.create());
    String ch = "nopresence:flow";
    int total = 600;
    CountDownLatch progress = new CountDownLatch(100);
    Future<?> publisher =
        pool.submit(
            () -> {
              for (int i = 1; i <= total; i++) {
                th.publish(ch, Integer.toString(i));
                progress.countDown();
              }
            });
    assertThat(progress.await(10, TimeUnit.SECONDS)).isTrue();
    List<TestClient> clients = new ArrayList<>();
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      TestClient c = th.connect("late" + i, RecordingTransport.threaded("late" + i));
      ids.add(c.subscribe(ch));
      clients.add(c);
    }
    publisher.get(20, TimeUnit.SECONDS);
    for (int i = 0; i < clients.size(); i++) {
      RecordingTransport t = clients.get(i).transport();
      SubscribeResult res = TestClient.result(t.awaitReply(ids.get(i)), SubscribeResult.class);
      t.awaitCount(Pub.class, (int) (total - res.offset()));
      t.sync();
      assertThat(pubsAfterReply(t, ids.get(i)))
          .extracting(Pub::offset)
          .containsExactlyElementsOf(range(res.offset() + 1, total));
      t.assertNoViolations();
    }
  }

  @Test
  void clientsPublishingConcurrentlyThroughTheirSessionsKeepOrder() throws Exception {
    TestHub th = track(TestHub.create());
    String ch = "test:chat";
    TestClient reader = th.connect("reader", RecordingTransport.threaded("reader"));
    reader.subscribeOk(ch);
    int writers = 3;
    int each = 100;
    CountDownLatch start = new CountDownLatch(1);
    List<Future<List<Long>>> results = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      TestClient writer = th.connect("w" + w, RecordingTransport.threaded("w" + w));
      results.add(
          pool.submit(
              () -> {
                start.await();
                List<Long> offsets = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                  PublishResult r = writer.publishOk(ch, "{\"i\":" + i + "}");
                  offsets.add(r.offset());
                }
                return offsets;
              }));
    }
    start.countDown();
    for (Future<List<Long>> f : results) {
      assertThat(f.get(20, TimeUnit.SECONDS)).isSorted().doesNotHaveDuplicates();
    }
    int n = writers * each;
    List<Pub> pubs = reader.transport().awaitCount(Pub.class, n);
    assertThat(pubs).extracting(Pub::offset).containsExactlyElementsOf(range(1, n));
    for (int w = 0; w < writers; w++) {
      String user = "w" + w;
      List<String> mine =
          pubs.stream().filter(p -> user.equals(p.user())).map(p -> p.data().json()).toList();
      assertThat(mine).hasSize(each);
      for (int i = 0; i < each; i++) {
        assertThat(mine.get(i)).isEqualTo("{\"i\":" + i + "}");
      }
    }
    reader.transport().assertNoViolations();
  }
}
