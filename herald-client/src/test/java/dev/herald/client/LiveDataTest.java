package dev.herald.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.client.FakeTransport.FakeConnection;
import dev.herald.client.LiveData.Changes;
import dev.herald.client.LiveData.Event;
import dev.herald.client.LiveData.Snapshot;
import dev.herald.client.LiveData.Status;
import dev.herald.protocol.ClientMessage.Connect;
import dev.herald.protocol.ClientMessage.Subscribe;
import dev.herald.protocol.ClientMessage.Unsubscribe;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.Reply;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.ServerMessage.Unsubscribed;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link LiveData} on a fake transport and fake time, everything on the test thread: held events,
 * order, repeats, gaps, lost history (stream reset), snapshotRequired, failed fetches, a late
 * subscription, a refused one.
 */
class LiveDataTest {
  private static final String CH = "project:42";

  private final FakeScheduler time = new FakeScheduler();
  private final FakeTransport transport = new FakeTransport();
  private final FakeSource source = new FakeSource();
  private final List<String> changes = new ArrayList<>();
  private final List<Status> statuses = new ArrayList<>();
  private HeraldClient client;
  private FakeConnection c;
  private long offset;

  /** The app's side: every fetch waits for the test to answer it. */
  private static final class FakeSource implements LiveData.Source<List<Long>> {
    final List<CompletableFuture<Snapshot<List<Long>>>> snapshots = new ArrayList<>();
    final List<Long> since = new ArrayList<>();
    final List<CompletableFuture<Changes>> pages = new ArrayList<>();

    @Override
    public CompletionStage<Snapshot<List<Long>>> snapshot() {
      CompletableFuture<Snapshot<List<Long>>> f = new CompletableFuture<>();
      snapshots.add(f);
      return f;
    }

    @Override
    public CompletionStage<Changes> changes(long from) {
      CompletableFuture<Changes> f = new CompletableFuture<>();
      since.add(from);
      pages.add(f);
      return f;
    }

    void snapshot(int n, long seq) {
      snapshots.get(n).complete(new Snapshot<>(seq, new ArrayList<>()));
    }

    void page(int n, long seq, boolean more, long... seqs) {
      pages
          .get(n)
          .complete(
              new Changes(
                  seq, more, false, Arrays.stream(seqs).mapToObj(LiveDataTest::event).toList()));
    }
  }

  @BeforeEach
  void connect() {
    client =
        HeraldClient.builder(URI.create("ws://localhost:8080/connection/websocket"))
            .scheduler(time)
            .executor(Runnable::run)
            .random(
                new RandomGenerator() {
                  @Override
                  public long nextLong() {
                    return 0;
                  }

                  @Override
                  public double nextDouble() {
                    return 0.5;
                  }
                })
            .transport(transport)
            .build();
    client.connect();
    c = establish();
  }

  @AfterEach
  void closeClient() {
    client.close();
  }

  private FakeConnection establish() {
    FakeConnection conn = transport.last().accept();
    Connect connect = (Connect) conn.messages().get(0);
    conn.receive(
        Reply.ok(
            connect.id(), new ConnectResult("c1", "alice", "herald-1", 1, 25_000, 10_000, 65536)));
    return conn;
  }

  private LiveData<List<Long>> start() {
    return LiveData.<List<Long>>builder(
            client,
            CH,
            source,
            (state, e) -> {
              state.add(e.seq());
              return state;
            })
        .scheduler(time)
        .retry(Duration.ofSeconds(1), Duration.ofSeconds(4))
        .listener(
            new LiveData.Listener<>() {
              @Override
              public void onChange(List<Long> state, List<Event> events, boolean reset) {
                changes.add(reset ? "reset" : events.stream().map(Event::seq).toList().toString());
              }

              @Override
              public void onStatus(Status status, Throwable error) {
                statuses.add(status);
              }
            })
        .start();
  }

  private static Event event(long seq) {
    return new Event(seq, "n", null, null, 0, String.valueOf(seq));
  }

  /** The subscribe reply: live at hub offset 10 of epoch E1. */
  private void subscribed() {
    Subscribe s = lastSubscribe();
    offset = 10;
    c.receive(Reply.ok(s.id(), new SubscribeResult("E1", offset, true, false, 0)));
  }

  private Subscribe lastSubscribe() {
    List<Subscribe> all = c.messages(Subscribe.class);
    return all.get(all.size() - 1);
  }

  /** The hub delivers the outbox event {@code seq} (next hub offset). */
  private void pub(long seq) {
    pub("E1", ++offset, seq);
  }

  private void pub(String epoch, long off, long seq) {
    String json = "{\"seq\":" + seq + ",\"type\":\"n\",\"data\":" + seq + "}";
    JsonNode data;
    try {
      data = FakeTransport.CODEC.mapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    c.receive(new Pub(CH, epoch, off, 1L, FakeTransport.CODEC.raw(data), null));
  }

  private LiveData<List<Long>> loaded(long seq) {
    LiveData<List<Long>> live = start();
    subscribed();
    assertThat(source.snapshots).as("the snapshot is read once subscribed").hasSize(1);
    source.snapshot(0, seq);
    return live;
  }

  @Test
  void eventsBeforeTheSnapshotAreHeldThenThoseAfterItsSeqAppliedInOrder() {
    LiveData<List<Long>> live = start();
    assertThat(live.status()).isEqualTo(Status.LOADING);
    assertThat(source.snapshots).as("not before the subscription is confirmed").isEmpty();
    subscribed();
    pub(5); // already in the snapshot
    pub(6);
    pub(7);
    assertThat(live.state()).isNull();
    source.snapshot(0, 5);
    assertThat(live.ready()).isCompletedWithValue(List.of(6L, 7L));
    assertThat(live.seq()).isEqualTo(7);
    assertThat(live.status()).isEqualTo(Status.LIVE);
    assertThat(changes).containsExactly("reset", "[6, 7]");
    assertThat(source.pages).as("nothing missing: no changes fetched").isEmpty();

    pub(8);
    pub(8); // a repeat (at least once delivery)
    pub(4);
    pub(9);
    assertThat(live.state()).containsExactly(6L, 7L, 8L, 9L);
  }

  @Test
  void aGapIsFilledFromCompactedChangesWhileLaterEventsWait() {
    LiveData<List<Long>> live = loaded(5);
    pub(6);
    pub(9); // 7 and 8 are missing
    assertThat(source.since).containsExactly(6L);
    assertThat(live.status()).isEqualTo(Status.STALE);
    pub(10);
    source.page(0, 9, false, 8, 9); // compacted: no 7
    assertThat(live.state()).containsExactly(6L, 8L, 9L, 10L);
    assertThat(live.seq()).isEqualTo(10);
    assertThat(live.status()).isEqualTo(Status.LIVE);
  }

  @Test
  void aStreamResetThatLostDataFetchesTheChangesPageByPage() {
    LiveData<List<Long>> live = loaded(5);
    pub(6);
    c.receive(new Unsubscribed(CH, ErrorCode.STREAM_RESET.code(), "stream reset"));
    c.receive(Reply.ok(lastSubscribe().id(), new SubscribeResult("E9", 2, true, false, 0)));
    assertThat(source.since).containsExactly(6L);
    source.page(0, 8, true, 7, 8);
    assertThat(source.since).containsExactly(6L, 8L);
    pub("E9", 3, 11);
    source.page(1, 10, false, 10);
    assertThat(live.state()).containsExactly(6L, 7L, 8L, 10L, 11L);
    assertThat(live.status()).isEqualTo(Status.LIVE);
  }

  @Test
  void snapshotRequiredLoadsANewSnapshotAndReplacesTheState() {
    LiveData<List<Long>> live = loaded(5);
    live.resync();
    source.pages.get(0).complete(new Changes(40, false, true, List.of()));
    assertThat(source.snapshots).hasSize(2);
    pub(41);
    source.snapshots.get(1).complete(new Snapshot<>(40, new ArrayList<>(List.of(-1L))));
    assertThat(live.state()).containsExactly(-1L, 41L);
    assertThat(changes).containsExactly("reset", "reset", "[41]");
    assertThat(live.status()).isEqualTo(Status.LIVE);
  }

  @Test
  void aFailedFetchKeepsTheDataStaleAndIsRetriedWithAGrowingDelay() {
    LiveData<List<Long>> live = loaded(5);
    pub(7);
    source.pages.get(0).completeExceptionally(new IllegalStateException("503"));
    assertThat(live.status()).isEqualTo(Status.STALE);
    assertThat(live.error()).hasMessage("503");
    time.advance(999);
    assertThat(source.pages).as("not before the delay").hasSize(1);
    time.advance(1);
    assertThat(source.pages).hasSize(2);
    source.pages.get(1).completeExceptionally(new IllegalStateException("503 again"));
    time.advance(1_999);
    assertThat(source.pages).as("the delay doubled").hasSize(2);
    time.advance(1);
    source.page(2, 7, false, 6, 7);
    assertThat(live.state()).containsExactly(6L, 7L);
    assertThat(live.status()).isEqualTo(Status.LIVE);
    assertThat(live.error()).isNull();
  }

  @Test
  void aChangesAnswerThatDoesNotCloseTheGapIsAskedAgainLaterNotInALoop() {
    LiveData<List<Long>> live = loaded(5);
    pub(8);
    source.page(0, 5, false);
    assertThat(source.pages).hasSize(1);
    assertThat(live.status()).isEqualTo(Status.STALE);
    time.advance(1_000);
    source.page(1, 8, false, 6, 7, 8);
    assertThat(live.state()).containsExactly(6L, 7L, 8L);
  }

  @Test
  void whenTheSubscriptionIsLateTheSnapshotLoadsAnywayAndWhatCameBetweenIsFetchedOnceLive() {
    LiveData<List<Long>> live = start();
    time.advance(1_999);
    assertThat(source.snapshots).isEmpty();
    time.advance(1);
    source.snapshot(0, 3);
    assertThat(live.status()).as("loaded, but not live").isEqualTo(Status.STALE);
    assertThat(source.pages).isEmpty();
    subscribed();
    assertThat(source.since).containsExactly(3L);
    source.page(0, 4, false, 4);
    assertThat(live.state()).containsExactly(4L);
    assertThat(live.status()).isEqualTo(Status.LIVE);
  }

  @Test
  void aRefusedSubscriptionFailsTheLiveDataAndCloseUnsubscribes() {
    LiveData<List<Long>> live = start();
    c.receive(Reply.error(lastSubscribe().id(), ErrorCode.PERMISSION_DENIED, "no"));
    assertThat(live.status()).isEqualTo(Status.FAILED);
    assertThat(statuses).last().isEqualTo(Status.FAILED);

    LiveData<List<Long>> other =
        LiveData.<List<Long>>builder(client, "project:43", source, (s, e) -> s)
            .scheduler(time)
            .start();
    other.close();
    assertThat(c.messages(Unsubscribe.class))
        .extracting(Unsubscribe::channel)
        .contains("project:43");
    assertThat(other.status()).isEqualTo(Status.CLOSED);
    assertThat(other.ready()).isCompletedExceptionally();
  }

  @Test
  void eventsAndChangePagesAreParsedFromHeraldOutboxJson() {
    Event e =
        Event.parse(
            "{\"seq\":18,\"type\":\"item\",\"id\":\"57\",\"action\":\"updated\",\"version\":3,\"data\":{\"id\":57}}");
    assertThat(e).isEqualTo(new Event(18, "item", "57", "updated", 3, "{\"id\":57}"));
    assertThat(Event.parse("{\"seq\":1,\"type\":\"t\",\"data\":[1]}"))
        .isEqualTo(new Event(1, "t", null, null, 0, "[1]"));
    Changes page =
        Changes.parse(
            "{\"seq\":30,\"more\":true,\"changes\":[{\"seq\":29,\"type\":\"t\",\"data\":1}]}");
    assertThat(page.seq()).isEqualTo(30);
    assertThat(page.more()).isTrue();
    assertThat(page.changes()).extracting(Event::seq).containsExactly(29L);
    assertThat(
            Changes.parse("{\"seq\":5,\"more\":false,\"snapshotRequired\":true,\"changes\":[]}")
                .snapshotRequired())
        .isTrue();
    assertThatThrownBy(() -> Event.parse("{\"type\":\"t\"}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("seq");
    assertThatThrownBy(() -> Event.parse("not json")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Changes.parse("{\"seq\":1}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("change page");
  }

  @Test
  void aPublicationWithoutASeqIsReportedAndIgnored() {
    LiveData<List<Long>> live = loaded(5);
    c.receive(
        new Pub(
            CH,
            "E1",
            ++offset,
            1L,
            FakeTransport.CODEC.raw(FakeTransport.CODEC.mapper().createObjectNode().put("n", 1)),
            null));
    assertThat(live.error()).hasMessageContaining("seq");
    pub(6);
    assertThat(live.state()).containsExactly(6L);
    assertThat(live.status()).isEqualTo(Status.LIVE);
  }
}
