package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ServerMessage.Join;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.Reply;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.StreamPosition;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RecoveryTest {
  private TestHub th =
      TestHub.builder()
          .namespace(
              NamespaceSettings.builder("tiny")
                  .historySize(3)
                  .presence(false)
                  .joinLeave(false)
                  .build())
          .build();

  @AfterEach
  void close() {
    th.close();
  }

  private StreamPosition publishN(String channel, int from, int count) {
    StreamPosition last = null;
    for (int i = from; i < from + count; i++) {
      last = th.publish(channel, "{\"n\":" + i + "}");
    }
    return last;
  }

  @Test
  void missedPublicationsFollowTheReplyInOrderThenLiveOnes() {
    String ch = "test:r";
    TestClient first = th.connect("alice");
    first.subscribeOk(ch);
    StreamPosition seen = publishN(ch, 1, 3);
    assertThat(first.transport().messages(Pub.class)).hasSize(3);
    first.closeFromPeer();

    publishN(ch, 4, 5); // missed while away: offsets 4..8

    TestClient again = th.connect("alice");
    long id = again.subscribe(ch, seen);
    Reply r = again.transport().nextReply(id);
    SubscribeResult res = TestClient.result(r, SubscribeResult.class);
    assertThat(res.recovered()).isTrue();
    assertThat(res.recoverable()).isTrue();
    assertThat(res.missed()).isEqualTo(5);
    assertThat(res.epoch()).isEqualTo(seen.epoch());
    assertThat(res.offset()).isEqualTo(8);
    for (int o = 4; o <= 8; o++) {
      Pub p = again.transport().next(Pub.class);
      assertThat(p.position()).isEqualTo(new StreamPosition(seen.epoch(), o));
      assertThat(p.data().json()).isEqualTo("{\"n\":" + o + "}");
      assertThat(p.recovered()).as("marked as recovered").isTrue();
    }
    again.transport().next(Join.class); // own join comes after the recovered publications
    again.transport().assertNoMoreMessages();

    th.publish(ch, "{\"n\":9}");
    Pub live = again.transport().next(Pub.class);
    assertThat(live.offset()).isEqualTo(9);
    assertThat(live.recovered()).as("a live one is not").isFalse();
  }

  @Test
  void nothingMissedRecoversWithZero() {
    StreamPosition seen = publishN("nopresence:r", 1, 4);
    TestClient c = th.connect("alice");
    SubscribeResult res = c.subscribeOk("nopresence:r", seen);
    assertThat(res.recovered()).isTrue();
    assertThat(res.missed()).isZero();
    assertThat(res.offset()).isEqualTo(4);
    c.transport().assertNoMoreMessages();
  }

  @Test
  void recoveryFromOffsetZeroOfAKnownEpochSendsEverything() {
    StreamPosition top = publishN("nopresence:r", 1, 3);
    TestClient c = th.connect("alice");
    SubscribeResult res = c.subscribeOk("nopresence:r", new StreamPosition(top.epoch(), 0));
    assertThat(res.recovered()).isTrue();
    assertThat(res.missed()).isEqualTo(3);
    assertThat(c.transport().messages(Pub.class))
        .extracting(Pub::offset)
        .containsExactly(1L, 2L, 3L);
  }

  @Test
  void wrongEpochIsNotRecovered() {
    StreamPosition top = publishN("nopresence:r", 1, 3);
    TestClient c = th.connect("alice");
    SubscribeResult res = c.subscribeOk("nopresence:r", new StreamPosition("someoldepoch", 1));
    assertThat(res.recovered()).isFalse();
    assertThat(res.missed()).isZero();
    assertThat(new StreamPosition(res.epoch(), res.offset())).isEqualTo(top);
    c.transport().assertNoMoreMessages();
    th.publish("nopresence:r", "4");
    assertThat(c.transport().next(Pub.class).offset()).isEqualTo(4); // continues from the reply
  }

  @Test
  void sinceBeyondHistorySizeIsNotRecovered() {
    StreamPosition seen = publishN("tiny:r", 1, 2);
    StreamPosition top = publishN("tiny:r", 3, 4); // 3..6, history keeps 4..6
    TestClient c = th.connect("alice");
    SubscribeResult res = c.subscribeOk("tiny:r", seen);
    assertThat(res.recovered()).isFalse();
    assertThat(res.offset()).isEqualTo(top.offset());
    c.transport().assertNoMoreMessages();

    // exactly at the edge of what is kept it works
    TestClient d = th.connect("bob");
    SubscribeResult ok = d.subscribeOk("tiny:r", new StreamPosition(top.epoch(), 3));
    assertThat(ok.recovered()).isTrue();
    assertThat(ok.missed()).isEqualTo(3);
    assertThat(d.transport().messages(Pub.class))
        .extracting(Pub::offset)
        .containsExactly(4L, 5L, 6L);
  }

  @Test
  void historyOlderThanItsTtlIsNotRecovered() {
    StreamPosition seen = publishN("nopresence:r", 1, 1);
    publishN("nopresence:r", 2, 2);
    th.scheduler().advance(Duration.ofMinutes(11)); // history TTL is 10 minutes
    TestClient c = th.connect("alice");
    SubscribeResult res = c.subscribeOk("nopresence:r", seen);
    assertThat(res.recovered()).isFalse();
    assertThat(res.offset()).isEqualTo(3);
    assertThat(res.epoch()).isEqualTo(seen.epoch());
  }

  @Test
  void sinceAheadOfTheStreamIsNotRecovered() {
    StreamPosition top = publishN("nopresence:r", 1, 2);
    TestClient c = th.connect("alice");
    SubscribeResult res = c.subscribeOk("nopresence:r", new StreamPosition(top.epoch(), 50));
    assertThat(res.recovered()).isFalse();
    assertThat(res.offset()).isEqualTo(2);
  }

  @Test
  void streamResetGivesANewEpochAndNoRecovery() {
    StreamPosition old = publishN("test:r", 1, 2);
    th.scheduler().advance(Duration.ofHours(2)); // stream TTL of "test" is 1 hour
    TestClient c = th.connect("alice");
    SubscribeResult res = c.subscribeOk("test:r", old);
    assertThat(res.recovered()).isFalse();
    assertThat(res.epoch()).isNotEqualTo(old.epoch());
    assertThat(res.offset()).isZero();
  }

  @Test
  void nohistRecoversOnlyWhenNothingWasMissed() {
    StreamPosition top = publishN("nohist:r", 1, 3);
    TestClient c = th.connect("alice");
    SubscribeResult res = c.subscribeOk("nohist:r", top);
    assertThat(res.recovered()).isTrue();
    assertThat(res.missed()).isZero();
    assertThat(res.recoverable()).isFalse();
    assertThat(res.offset()).isEqualTo(3);

    TestClient d = th.connect("bob");
    SubscribeResult miss = d.subscribeOk("nohist:r", new StreamPosition(top.epoch(), 2));
    assertThat(miss.recovered()).isFalse();
    assertThat(miss.missed()).isZero();
    d.transport().assertNoMoreMessages();
  }

  @Test
  void recoveryLargerThanTheOutboxIsDeliveredWithoutOverflowing() {
    th.close();
    th = TestHub.builder().config(c -> c.withLimits(128, 4096, 64 * 1024, 32 * 1024)).build();
    StreamPosition seen = publishN("nopresence:r", 0, 1);
    for (int i = 0; i < 40; i++) {
      th.publish("nopresence:r", "\"" + "x".repeat(100) + "\"");
    }
    TestClient c = th.connect("alice");
    SubscribeResult res = c.subscribeOk("nopresence:r", seen);
    assertThat(res.recovered()).isTrue();
    assertThat(res.missed()).isEqualTo(40);
    assertThat(res.offset()).isEqualTo(41);
    assertThat(c.transport().messages(Pub.class))
        .extracting(Pub::offset)
        .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(2, 41).boxed().toList());
    assertThat(c.transport().isClosed()).isFalse();
    assertThat(th.hub().stats().slowConsumers()).isZero();
  }

  /**
   * A laptop waking up with a project page and its notifications both behind: two subscriptions of
   * one connection recover backlogs larger than the outbox at the same time, and both go live.
   */
  @Test
  void twoRecoveriesLargerThanTheOutboxOnOneConnectionBothGoLive() {
    th.close();
    th = TestHub.builder().config(c -> c.withLimits(128, 4096, 64 * 1024, 32 * 1024)).build();
    String data = "\"" + "x".repeat(100) + "\""; // about 170 bytes as a pub message
    String epochA = th.publish("nopresence:a", data).epoch();
    String epochB = th.publish("nopresence:b", data).epoch();
    for (int i = 1; i < 30; i++) {
      th.publish("nopresence:a", data);
      th.publish("nopresence:b", data);
    }
    TestClient c = th.connect("alice");
    c.transport().blockAfterEachSend(true); // a reader that takes one batch at a time
    long ida = c.subscribe("nopresence:a", new StreamPosition(epochA, 0));
    long idb = c.subscribe("nopresence:b", new StreamPosition(epochB, 0));
    int reads = 0;
    while ((count(c, "nopresence:a") < 31 || count(c, "nopresence:b") < 31) && reads++ < 2000) {
      if (reads == 5) { // both recoveries under way: one live publication in each
        th.publish("nopresence:a", "\"live-a\"");
        th.publish("nopresence:b", "\"live-b\"");
      }
      assertThat(th.hub().outboxStats().maxBytes()).isLessThanOrEqualTo(4096);
      c.transport().writable(true);
    }
    assertThat(TestClient.result(c.transport().awaitReply(ida), SubscribeResult.class).missed())
        .isEqualTo(30);
    for (String ch : java.util.List.of("nopresence:a", "nopresence:b")) {
      assertThat(c.transport().messages(Pub.class))
          .filteredOn(p -> p.channel().equals(ch))
          .extracting(Pub::offset)
          .containsExactlyElementsOf(
              java.util.stream.LongStream.rangeClosed(1, 31).boxed().toList());
    }
    assertThat(TestClient.result(c.reply(idb), SubscribeResult.class).recovered()).isTrue();
    assertThat(c.transport().isClosed()).isFalse();
    assertThat(th.hub().stats().slowConsumers()).isZero();
    // Both are live: a later publication arrives at once.
    c.transport().blockAfterEachSend(false);
    c.transport().writable(true);
    th.publish("nopresence:b", "\"after\"");
    assertThat(c.transport().awaitMessage(Pub.class, p -> p.offset() == 32).channel())
        .isEqualTo("nopresence:b");
  }

  private static long count(TestClient c, String channel) {
    return c.transport().messages(Pub.class).stream()
        .filter(p -> p.channel().equals(channel))
        .count();
  }

  @Test
  void positionFromANonRecoveredReplyRecoversLater() {
    publishN("nopresence:r", 1, 2);
    TestClient c = th.connect("alice");
    SubscribeResult first = c.subscribeOk("nopresence:r", new StreamPosition("gone", 1));
    assertThat(first.recovered()).isFalse();
    c.closeFromPeer();
    publishN("nopresence:r", 3, 2);
    TestClient d = th.connect("alice");
    SubscribeResult res =
        d.subscribeOk("nopresence:r", new StreamPosition(first.epoch(), first.offset()));
    assertThat(res.recovered()).isTrue();
    assertThat(d.transport().messages(Pub.class)).extracting(Pub::offset).containsExactly(3L, 4L);
  }
}
