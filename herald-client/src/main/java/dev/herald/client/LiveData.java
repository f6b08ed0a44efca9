package dev.herald.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.protocol.ServerMessage.ErrorInfo;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local copy of a channel's state, kept current by its events: the Java counterpart of
 * herald.js's {@code sync} (docs/live-data.md). Events are published by herald-outbox: JSON objects
 * with a {@code seq} that counts 1, 2, 3, ... per channel.
 *
 * <p>It subscribes, loads a snapshot once the subscription is confirmed (or after {@code
 * readyTimeout} when it is not), holds events until the snapshot is in, applies them in {@code seq}
 * order, drops repeats (the relay publishes at least once), notices a skipped number or lost
 * history ({@link SubscriptionHandler#onStateLost}, also after a stream reset) and fetches the
 * changes since its {@code seq}, page by page, or a new snapshot when the answer says {@code
 * snapshotRequired}. A failed fetch is retried after a delay that doubles up to a maximum.
 *
 * <p>All of it runs one step at a time on a serial executor (by default on the thread that
 * completes a callback or a fetch): {@code apply} and the listener are never called concurrently
 * and must not block. The getters may be called from any thread.
 *
 * <pre>{@code
 * LiveData<Map<String, Item>> items =
 *     LiveData.builder(client, "project:42", source, (state, e) -> applyItem(state, e))
 *         .listener(new LiveData.Listener<>() {
 *           public void onChange(Map<String, Item> s, List<LiveData.Event> events, boolean reset) {
 *             render(s);
 *           }
 *         })
 *         .start();
 * }</pre>
 *
 * @param <S> the state
 */
public final class LiveData<S> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LiveData.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where the data stands. */
  public enum Status {
    /** No snapshot yet. */
    LOADING,
    /** The state is current and events arrive as they happen. */
    LIVE,
    /**
     * What is there may be behind: the subscription is not live (reconnecting), missed events are
     * being fetched, or a fetch failed and is retried.
     */
    STALE,
    /** The server refused or ended the subscription (for example access lost). Final. */
    FAILED,
    /** {@link #close()} was called. Final. */
    CLOSED
  }

  /**
   * One event as herald-outbox publishes it; {@code id}, {@code action} are null and {@code
   * version} 0 when absent. {@code data} is the event's {@code data} as JSON text.
   */
  public record Event(
      long seq,
      String type,
      @Nullable String id,
      @Nullable String action,
      long version,
      String data) {
    /**
     * Parses an event: {@code {"seq":18,"type":"item","id":"57","action":"updated","version":3,
     * "data":{...}}}.
     *
     * @throws IllegalArgumentException when it is not JSON or has no whole-number {@code seq}
     */
    public static Event parse(String json) {
      return of(read(json, "an event"));
    }

    private static Event of(JsonNode n) {
      if (!n.isObject() || !n.path("seq").canConvertToExactIntegral()) {
        throw new IllegalArgumentException("an event needs a whole-number seq: " + abbreviate(n));
      }
      return new Event(
          n.get("seq").asLong(),
          n.path("type").asText(""),
          n.hasNonNull("id") ? n.get("id").asText() : null,
          n.hasNonNull("action") ? n.get("action").asText() : null,
          n.path("version").asLong(0),
          n.has("data") ? n.get("data").toString() : "null");
    }
  }

  /** A snapshot: the state and the {@code seq} it is current to (read before the state). */
  public record Snapshot<S>(long seq, S state) {}

  /**
   * An answer to "changes since N" (herald-outbox's {@code ChangePage}): compacted events, the
   * {@code seq} to continue from, whether there is {@code more}, or that a snapshot is required.
   */
  public record Changes(long seq, boolean more, boolean snapshotRequired, List<Event> changes) {
    public Changes {
      changes = List.copyOf(changes);
    }

    /**
     * Parses herald-outbox's JSON: {@code {"seq":N,"more":false,"changes":[...]}}, with {@code
     * "snapshotRequired":true} when it applies.
     *
     * @throws IllegalArgumentException when it is not such an object
     */
    public static Changes parse(String json) {
      JsonNode n = read(json, "a change page");
      if (!n.isObject()
          || !n.path("seq").canConvertToExactIntegral()
          || !(n.path("changes").isArray() || n.path("snapshotRequired").asBoolean(false))) {
        throw new IllegalArgumentException(
            "a change page is {seq, more, changes[, snapshotRequired]}: " + abbreviate(n));
      }
      List<Event> events = new ArrayList<>();
      for (JsonNode e : n.path("changes")) {
        events.add(Event.of(e));
      }
      return new Changes(
          n.get("seq").asLong(),
          n.path("more").asBoolean(false),
          n.path("snapshotRequired").asBoolean(false),
          events);
    }
  }

  /** Where the snapshot and the changes come from (usually the application's HTTP API). */
  public interface Source<S> {
    CompletionStage<Snapshot<S>> snapshot();

    CompletionStage<Changes> changes(long since);
  }

  /** What a {@link LiveData} reports; called on its serial executor, must not block or throw. */
  public interface Listener<S> {
    /**
     * Events were applied ({@code events} in seq order), or a snapshot replaced the state ({@code
     * reset}, no events).
     */
    default void onChange(@Nullable S state, List<Event> events, boolean reset) {}

    /** The status changed, or a fetch failed ({@code error}, retried). */
    default void onStatus(Status status, @Nullable Throwable error) {}
  }

  /** Starts a builder; {@code apply} returns the state after one event (may be the same object). */
  public static <S> Builder<S> builder(
      HeraldClient client, String channel, Source<S> source, BiFunction<S, Event, S> apply) {
    return new Builder<>(client, channel, source, apply);
  }

  private final HeraldClient client;
  private final String channel;
  private final Source<S> source;
  private final BiFunction<S, Event, S> apply;
  private final Listener<S> listener;
  private final ClientScheduler scheduler;
  private final @Nullable SystemScheduler ownScheduler;
  private final Executor loop;
  private final long readyTimeoutMs;
  private final long retryMinMs;
  private final long retryMaxMs;

  // Written on the loop only; volatile where the getters read them.
  private volatile @Nullable S state;
  private volatile long seq;
  private volatile boolean loaded;
  private volatile Status status = Status.LOADING;
  private volatile @Nullable Throwable error;
  private volatile boolean closed;
  private volatile @Nullable Subscription subscription;
  private final TreeMap<Long, Event> held = new TreeMap<>();
  private final List<CompletableFuture<S>> readyWaiters = new ArrayList<>();
  private boolean begun;
  private boolean confirmed;
  private boolean snapshotBeforeConfirmed;
  private boolean needSnapshot = true;
  private boolean needChanges;
  private boolean running;
  private long changesFrom;
  private @Nullable Cancellable readyTimer;
  private @Nullable Cancellable retryTimer;
  private long retryDelay;

  private LiveData(Builder<S> b) {
    this.client = b.client;
    this.channel = b.channel;
    this.source = b.source;
    this.apply = b.apply;
    this.listener = b.listener;
    ClientScheduler given = b.scheduler;
    SystemScheduler own = given == null ? new SystemScheduler() : null;
    this.ownScheduler = own;
    this.scheduler = given != null ? given : Objects.requireNonNull(own);
    this.loop = new SerialExecutor(b.executor);
    this.readyTimeoutMs = b.readyTimeout.toMillis();
    this.retryMinMs = b.retryMin.toMillis();
    this.retryMaxMs = b.retryMax.toMillis();
  }

  // ------------------------------------------------------------------ public API

  public String channel() {
    return channel;
  }

  /** The current state; null until the first snapshot is in. */
  public @Nullable S state() {
    return state;
  }

  /** The seq the state is current to (0 before the snapshot). */
  public long seq() {
    return seq;
  }

  /** Where the data stands now; {@link Status#STALE} also while the subscription is not live. */
  public Status status() {
    if (closed) {
      return Status.CLOSED;
    }
    Status s = status;
    Subscription sub = subscription;
    if (s == Status.LIVE && sub != null && sub.state() != SubscriptionState.SUBSCRIBED) {
      return Status.STALE;
    }
    return s;
  }

  /** The last fetch error (cleared by the next success), or the subscription's; null if none. */
  public @Nullable Throwable error() {
    return error;
  }

  /** The underlying subscription (presence, position). */
  public Subscription subscription() {
    return Objects.requireNonNull(subscription, "started by the builder");
  }

  /** Completes with the state once the first snapshot is in; fails if closed before. */
  public CompletableFuture<S> ready() {
    CompletableFuture<S> f = new CompletableFuture<>();
    loop.execute(
        () -> {
          if (loaded) {
            f.complete(state);
          } else if (closed) {
            f.completeExceptionally(new IllegalStateException("closed"));
          } else {
            readyWaiters.add(f);
          }
        });
    return f;
  }

  /** Fetches the changes since {@link #seq()} now (after a write made out of band, say). */
  public void resync() {
    loop.execute(() -> want(false));
  }

  /** Loads a new snapshot now and replaces the state. */
  public void refresh() {
    loop.execute(() -> want(true));
  }

  /** Unsubscribes and stops; the listener is not called after this returns. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Subscription sub = subscription;
    if (sub != null) {
      // Its outcome does not matter here: nothing more is delivered to this object.
      var unused = sub.unsubscribe();
    }
    loop.execute(
        () -> {
          cancel(readyTimer);
          cancel(retryTimer);
          held.clear();
          status = Status.CLOSED;
          for (CompletableFuture<S> f : readyWaiters) {
            f.completeExceptionally(new IllegalStateException("closed"));
          }
          readyWaiters.clear();
          if (ownScheduler != null) {
            ownScheduler.close();
          }
        });
  }

  // ------------------------------------------------------------------ internals

  private void start() {
    subscription =
        client.subscribe(
            channel,
            new SubscriptionHandler() {
              @Override
              public void onPublication(Pub pub) {
                String json = pub.data().json();
                loop.execute(() -> onEvent(json));
              }

              @Override
              public void onSubscribed(SubscribeResult result) {
                loop.execute(() -> onConfirmed(false));
              }

              @Override
              public void onStateLost(SubscribeResult result) {
                loop.execute(() -> onConfirmed(true));
              }

              @Override
              public void onError(ErrorInfo e) {
                loop.execute(() -> updateStatus(false));
              }
            });
    loop.execute(
        () -> {
          readyTimer = scheduler.schedule(readyTimeoutMs, () -> loop.execute(this::begin));
          // The confirmation (and a whole first load) may have run on the client's thread before
          // the field above was set, when updateStatus could not read the subscription yet.
          updateStatus(false);
        });
  }

  /** The subscription is live: the first time, or again with ({@code lost}) or without a gap. */
  private void onConfirmed(boolean lost) {
    if (closed) {
      return;
    }
    boolean first = !confirmed;
    confirmed = true;
    if (!begun) {
      begin();
    } else if (lost || (first && snapshotBeforeConfirmed)) {
      want(false);
    }
    updateStatus(false);
  }

  /** Loads the first snapshot: once the subscription is confirmed, or after the ready timeout. */
  private void begin() {
    if (begun || closed) {
      return;
    }
    begun = true;
    cancel(readyTimer);
    kick();
  }

  private void onEvent(String json) {
    if (closed) {
      return;
    }
    Event event;
    try {
      event = Event.parse(json);
    } catch (IllegalArgumentException e) {
      error = e;
      log.warn("live data of '{}': a publication was ignored: {}", channel, e.getMessage());
      updateStatus(true);
      return;
    }
    if (!loaded || running) {
      if (event.seq() > seq) {
        held.put(event.seq(), event);
      }
      return;
    }
    if (event.seq() <= seq) {
      return; // a repeat: the relay publishes at least once
    }
    held.put(event.seq(), event);
    drain();
    updateStatus(false);
  }

  /** Applies held events that continue the seq; a gap left means events are missing: fetch them. */
  private void drain() {
    List<Event> next = new ArrayList<>();
    while (!held.isEmpty()) {
      Map.Entry<Long, Event> first = held.firstEntry();
      long expected = seq + next.size() + 1;
      if (first.getKey() < expected) {
        held.pollFirstEntry();
      } else if (first.getKey() == expected) {
        next.add(held.pollFirstEntry().getValue());
      } else {
        break;
      }
    }
    applyEvents(next);
    if (!held.isEmpty()) {
      want(false);
    }
  }

  private void want(boolean snapshot) {
    if (closed) {
      return;
    }
    if (snapshot) {
      needSnapshot = true;
    } else if (loaded || !needSnapshot) {
      needChanges = true;
    }
    kick();
    updateStatus(false);
  }

  private void kick() {
    if (running || closed || !begun || retryTimer != null || !(needSnapshot || needChanges)) {
      return;
    }
    running = true;
    updateStatus(false);
    step();
  }

  /** One fetch; its answer comes back to the loop and continues with the next one. */
  private void step() {
    if (closed) {
      return;
    }
    if (needSnapshot) {
      needSnapshot = false;
      needChanges = false;
      snapshotBeforeConfirmed = !confirmed;
      fetch(source::snapshot, this::onSnapshot);
    } else if (needChanges) {
      needChanges = false;
      changesFrom = seq;
      fetchChanges();
    } else {
      running = false;
      error = null;
      retryDelay = 0;
      drain();
      updateStatus(false);
      if (loaded) {
        for (CompletableFuture<S> f : readyWaiters) {
          f.complete(state);
        }
        readyWaiters.clear();
      }
    }
  }

  private void fetchChanges() {
    long since = seq;
    fetch(() -> source.changes(since), this::onChanges);
  }

  private <T> void fetch(
      Supplier<CompletionStage<T>> call, java.util.function.Consumer<T> continuation) {
    CompletionStage<T> stage;
    try {
      stage = Objects.requireNonNull(call.get(), "the source returned null");
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    stage.whenComplete(
        (value, err) ->
            loop.execute(
                () -> {
                  if (closed) {
                    return;
                  }
                  if (err != null) {
                    fail(err);
                    return;
                  }
                  try {
                    continuation.accept(value);
                  } catch (RuntimeException e) {
                    fail(e);
                  }
                }));
  }

  private void onSnapshot(Snapshot<S> snap) {
    if (snap == null || snap.seq() < 0) {
      throw new IllegalArgumentException("snapshot() must give a seq >= 0");
    }
    state = snap.state();
    seq = snap.seq();
    loaded = true;
    emitChange(List.of(), true);
    drain();
    step();
  }

  private void onChanges(Changes page) {
    if (page == null) {
      throw new IllegalArgumentException("changes(since) gave null");
    }
    if (page.snapshotRequired()) {
      needSnapshot = true;
      step();
      return;
    }
    // Compacted: seqs have gaps by design. Apply what is newer than ours, then jump.
    List<Event> fresh = new ArrayList<>();
    for (Event e : page.changes()) {
      if (e.seq() > seq) {
        fresh.add(e);
        held.remove(e.seq());
      }
    }
    long end = Math.max(seq, page.seq());
    applyEvents(fresh);
    seq = Math.max(seq, end);
    if (page.more()) {
      fetchChanges();
      return;
    }
    if (seq == changesFrom && !held.isEmpty() && held.firstKey() > seq + 1) {
      // The hub showed an event the database does not answer yet (a lagging replica?): ask
      // again after a delay rather than at once.
      fail(
          new IllegalStateException(
              "event " + held.firstKey() + " is not in the changes after " + seq + " yet"));
      return;
    }
    drain();
    step();
  }

  /** A fetch failed: keep what is there, mark it stale, retry after a growing delay. */
  private void fail(Throwable e) {
    running = false;
    error = e;
    if (!loaded) {
      needSnapshot = true;
    } else if (!needSnapshot) {
      needChanges = true;
    }
    retryDelay = retryDelay == 0 ? retryMinMs : Math.min(retryMaxMs, retryDelay * 2);
    retryTimer =
        scheduler.schedule(
            retryDelay,
            () ->
                loop.execute(
                    () -> {
                      retryTimer = null;
                      kick();
                    }));
    updateStatus(true);
  }

  private void applyEvents(List<Event> events) {
    if (events.isEmpty()) {
      return;
    }
    for (Event e : events) {
      state = apply.apply(state, e);
      seq = Math.max(seq, e.seq());
    }
    emitChange(events, false);
  }

  private void updateStatus(boolean force) {
    if (closed || subscription == null) {
      return;
    }
    SubscriptionState sub = subscription.state();
    Status next;
    if (sub == SubscriptionState.FAILED || sub == SubscriptionState.UNSUBSCRIBED) {
      next = Status.FAILED;
    } else if (!loaded) {
      next = Status.LOADING;
    } else if (sub != SubscriptionState.SUBSCRIBED
        || running
        || needSnapshot
        || needChanges
        || retryTimer != null
        || !held.isEmpty()) {
      next = Status.STALE;
    } else {
      next = Status.LIVE;
    }
    if (next == status && !force) {
      return;
    }
    status = next;
    try {
      listener.onStatus(next, error);
    } catch (RuntimeException e) {
      log.error("live data of '{}': the status listener threw", channel, e);
    }
  }

  private void emitChange(List<Event> events, boolean reset) {
    try {
      listener.onChange(state, events, reset);
    } catch (RuntimeException e) {
      log.error("live data of '{}': the change listener threw", channel, e);
    }
  }

  private static void cancel(@Nullable Cancellable c) {
    if (c != null) {
      c.cancel();
    }
  }

  private static JsonNode read(String json, String what) {
    try {
      return JSON.readTree(Objects.requireNonNull(json, what));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(what + " is not JSON: " + e.getOriginalMessage());
    }
  }

  private static String abbreviate(JsonNode n) {
    String s = n.toString();
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  /** Options of a {@link LiveData}. */
  public static final class Builder<S> {
    private final HeraldClient client;
    private final String channel;
    private final Source<S> source;
    private final BiFunction<S, Event, S> apply;
    private Listener<S> listener = new Listener<>() {};
    private @Nullable ClientScheduler scheduler;
    private Executor executor = Runnable::run;
    private Duration readyTimeout = Duration.ofSeconds(2);
    private Duration retryMin = Duration.ofSeconds(1);
    private Duration retryMax = Duration.ofSeconds(30);

    private Builder(
        HeraldClient client, String channel, Source<S> source, BiFunction<S, Event, S> apply) {
      this.client = Objects.requireNonNull(client, "client");
      this.channel = Objects.requireNonNull(channel, "channel");
      this.source = Objects.requireNonNull(source, "source");
      this.apply = Objects.requireNonNull(apply, "apply");
      if (channel.isEmpty()) {
        throw new IllegalArgumentException("channel must not be empty");
      }
    }

    public Builder<S> listener(Listener<S> listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** Timers for the ready timeout and retries (default: a timer thread of its own). */
    public Builder<S> scheduler(ClientScheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Where {@code apply} and the listener run, one at a time (default: the thread that delivers
     * the callback or completes the fetch).
     */
    public Builder<S> executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** How long to wait for the subscription before loading the snapshot anyway (default 2 s). */
    public Builder<S> readyTimeout(Duration d) {
      this.readyTimeout = positive(d, "readyTimeout");
      return this;
    }

    /** Delay before retrying a failed fetch, doubling from {@code min} to {@code max}. */
    public Builder<S> retry(Duration min, Duration max) {
      this.retryMin = positive(min, "retry min");
      this.retryMax = positive(max, "retry max");
      if (max.compareTo(min) < 0) {
        throw new IllegalArgumentException("retry max must be >= min");
      }
      return this;
    }

    /** Subscribes and starts loading. */
    public LiveData<S> start() {
      LiveData<S> live = new LiveData<>(this);
      live.start();
      return live;
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive: " + d);
      }
      return d;
    }
  }
}
