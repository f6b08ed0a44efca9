package dev.herald.redis;

import dev.herald.core.broker.BrokerEventHandler;
import dev.herald.core.broker.PresenceEvent;
import dev.herald.core.limits.WarnLimiter;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscribed channel's delivery on this node: hands the hub the channel's events from pub/sub
 * in offset order, and fills gaps from the channel's stream before going on.
 *
 * <p>Tracks the epoch and the last offset delivered. A publication that skips offsets (pub/sub lost
 * messages while the connection was down) is held while the missing ones are read from the stream;
 * those are delivered first. If the stream no longer has them, or the epoch changed, the hub is
 * told with {@link BrokerEventHandler#onStreamReset}.
 *
 * <p>Not thread-safe: every method runs on the connector's context ({@code context} runs a task
 * there), and so do the completions of stream reads.
 */
final class ChannelFeed {
  private static final Logger log = LoggerFactory.getLogger(ChannelFeed.class);

  /** Reads the channel's position and its entries after an offset (none for MAX_VALUE). */
  interface StreamReader {
    CompletableFuture<StreamRead> read(String channel, long afterOffset, long streamTtlMillis);
  }

  /** A stream read: the channel's position, Redis's clock, and the entries asked for. */
  record StreamRead(StreamPosition top, long now, List<Pub> pubs) {}

  /** Runs a task on the connector's context after a delay. */
  interface Retry {
    void after(long delayMillis, Runnable task);
  }

  /**
   * What every feed of a broker shares: how to read streams, the connector's context, retries with
   * capped exponential backoff ({@code retryMinMillis} doubling up to {@code retryMaxMillis}), the
   * limiter of catch-up failure warnings, and the bound of events held during a catch-up.
   */
  record Support(
      StreamReader reader,
      Executor context,
      Retry retry,
      long retryMinMillis,
      long retryMaxMillis,
      WarnLimiter warnings,
      int maxPending) {}

  /** An event from pub/sub. */
  sealed interface Event permits PubMsg, PresenceMsg {}

  record PubMsg(Pub pub) implements Event {}

  record PresenceMsg(PresenceEvent event) implements Event {}

  final String channel;
  private final BrokerEventHandler handler;
  private final Support support;

  private @Nullable String epoch; // null until the first sync
  private long offset;
  // The stream TTL to renew while subscribed (0: none), and when to renew it next.
  long streamTtlMillis;
  long nextKeepAlive;

  // Pub/sub events are held (in pending) until a catch-up has run.
  private boolean syncing;
  private final ArrayDeque<Event> pending = new ArrayDeque<>();
  // A stream read is in flight. One at a time: a read answers relative to the offset it was sent
  // with, so two in flight would compare an old answer with a newer position.
  private boolean reading;
  // A catch-up was asked for while a read was in flight (a reconnect during a gap fill): read once
  // more after it, from the position it leaves.
  private boolean readAgain;
  // Set when pending outgrew its bound during a catch-up: what was dropped is read from the
  // stream by another catch-up instead.
  private boolean overflowed;
  // Stream reads that failed in a row (Redis unreachable, or an error it answers).
  private int failedReads;
  private final List<CompletableFuture<Void>> waiting = new ArrayList<>();
  private boolean ready;
  private boolean detached;

  ChannelFeed(String channel, BrokerEventHandler handler, Support support) {
    this.channel = channel;
    this.handler = handler;
    this.support = support;
  }

  void keepAlive(long ttlMillis, long nowMillis) {
    if (ttlMillis > 0 && ttlMillis != streamTtlMillis) {
      streamTtlMillis = ttlMillis;
      nextKeepAlive = nowMillis + Math.max(RedisBroker.KEEP_ALIVE_PERIOD_MS, ttlMillis / 3);
    }
  }

  /** This node no longer subscribes: reads still in flight are ignored when they complete. */
  void detach() {
    detached = true;
  }

  boolean detached() {
    return detached;
  }

  void whenReady(CompletableFuture<Void> f) {
    if (ready) {
      f.complete(null);
    } else {
      waiting.add(f);
    }
  }

  void markReady() {
    ready = true;
    waiting.forEach(f -> f.complete(null));
    waiting.clear();
  }

  /** The first SUBSCRIBE failed: fails the subscribes waiting; false if it had succeeded before. */
  boolean failReady(Throwable t) {
    if (ready) {
      return false;
    }
    waiting.forEach(f -> f.completeExceptionally(t));
    waiting.clear();
    return true;
  }

  /** Holds pub/sub events until the channel's position is known (before SUBSCRIBE is sent). */
  void hold() {
    syncing = true;
  }

  /** An event from pub/sub, in the order Redis sent it. */
  void offer(Event e) {
    if (syncing) {
      hold(e);
      return;
    }
    if (e instanceof PresenceMsg p) {
      handler.onPresence(p.event);
      return;
    }
    Pub pub = ((PubMsg) e).pub;
    if (!pub.epoch().equals(epoch)) {
      log.info("channel {} moved to a new epoch; its subscribers resubscribe", channel);
      handler.onStreamReset(channel);
      epoch = pub.epoch();
      offset = pub.offset();
      handler.onPublication(pub);
    } else if (pub.offset() <= offset) {
      // already delivered (seen while catching up)
    } else if (pub.offset() == offset + 1) {
      offset = pub.offset();
      handler.onPublication(pub);
    } else {
      hold(e); // a gap: read the missing publications first
      sync();
    }
  }

  /**
   * Keeps an event that arrived during a catch-up. The queue is bounded: past {@code maxPending}
   * events it is dropped and the channel is read from the stream again once this catch-up ends
   * (publications are in the stream; presence events are not kept, and clients that need exact
   * presence ask for it).
   */
  private void hold(Event e) {
    if (pending.size() >= support.maxPending()) {
      if (!overflowed) {
        log.warn("channel {}: catch-up outran by pub/sub; reading the stream again", channel);
      }
      pending.clear();
      overflowed = true;
      return;
    }
    pending.add(e);
  }

  /**
   * Reads the stream after the last delivered offset, delivers what is missing, then drains. While
   * a read is in flight, only notes that another one must follow it.
   */
  void sync() {
    syncing = true;
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    long after = epoch == null ? Long.MAX_VALUE : offset;
    // With the channel's stream TTL: a read that re-creates a stream Redis lost must give it an
    // expiry, or Redis keeps it after the last node unsubscribes.
    // The callback handles the outcome (retrying a failed read); its own future carries nothing.
    var unused =
        support
            .reader()
            .read(channel, after, streamTtlMillis)
            .whenComplete(
                (s, err) ->
                    support
                        .context()
                        .execute(
                            () -> {
                              reading = false;
                              if (detached) {
                                return;
                              }
                              if (err != null) {
                                readFailed(err);
                                return;
                              }
                              if (failedReads > 0) {
                                log.info(
                                    "channel {} caught up after {} failed stream reads",
                                    channel,
                                    failedReads);
                                failedReads = 0;
                              }
                              caughtUp(s);
                            }));
  }

  /**
   * A catch-up read failed: events stay held (nothing is delivered out of order) and the read is
   * tried again with backoff. Says so at warn, at most once per interval across all channels.
   */
  private void readFailed(Throwable err) {
    failedReads++;
    long delay =
        Math.min(
            support.retryMaxMillis(), support.retryMinMillis() << Math.min(failedReads - 1, 20));
    long held = support.warnings().admit();
    if (held >= 0) {
      Throwable cause =
          err instanceof java.util.concurrent.CompletionException && err.getCause() != null
              ? err.getCause()
              : err;
      log.warn(
          "catching up channel {} from its Redis stream failed ({} in a row; {} other failures"
              + " not logged since the last report): {}; its subscribers on this node get nothing"
              + " new until a read succeeds; next try in {} ms",
          channel,
          failedReads,
          held,
          cause.getMessage() == null ? cause.toString() : cause.getMessage(),
          delay);
    }
    support.retry().after(delay, this::sync);
  }

  private void caughtUp(StreamRead s) {
    StreamPosition top = s.top();
    if (epoch == null) {
      epoch = top.epoch();
      offset = top.offset();
      // Events that arrived between SUBSCRIBE and the read may be at or below the top: the
      // hub's subscriptions skip what they already have, so deliver them rather than guess.
      for (Event e : pending) {
        if (e instanceof PubMsg pm) {
          if (pm.pub.epoch().equals(epoch) && pm.pub.offset() <= offset) {
            offset = pm.pub.offset() - 1;
          }
          break;
        }
      }
    } else if (!top.epoch().equals(epoch)) {
      log.info("channel {} restarted with a new epoch; its subscribers resubscribe", channel);
      handler.onStreamReset(channel);
      epoch = top.epoch();
      offset = top.offset();
    } else if (top.offset() < offset) {
      // Same epoch, yet Redis is behind what was delivered: acknowledged publications were lost
      // (a server that replaced another without the run-id check, see Scripts) and their
      // offsets come again with other data. Skipping those as already delivered would lose them.
      log.warn(
          "channel {}: Redis is back at offset {} but {} was delivered (publications lost in"
              + " Redis); subscribers resubscribe",
          channel,
          top.offset(),
          offset);
      handler.onStreamReset(channel);
      offset = top.offset();
    } else if (top.offset() > offset) {
      List<Pub> missed = s.pubs();
      boolean complete =
          missed.size() == top.offset() - offset
              && missed.get(0).offset() == offset + 1
              && missed.get(missed.size() - 1).offset() == top.offset();
      if (complete) {
        for (Pub p : missed) {
          handler.onPublication(p);
        }
      } else {
        log.info(
            "channel {}: publications {}..{} are no longer in history; subscribers resubscribe",
            channel,
            offset + 1,
            top.offset());
        handler.onStreamReset(channel);
      }
      offset = top.offset();
    }
    if (overflowed || readAgain) {
      if (overflowed) {
        pending.clear();
      }
      overflowed = false;
      readAgain = false;
      sync();
      return;
    }
    syncing = false;
    while (!pending.isEmpty() && !syncing) {
      offer(pending.pollFirst());
    }
  }
}
