package dev.herald.redis;

import dev.herald.core.hub.HubException;
import dev.herald.core.limits.WarnLimiter;
import dev.herald.protocol.ErrorCode;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's connections to a Redis Cluster.
 *
 * <p>One {@link RedisConnector} reaches any node of the cluster (trying the configured nodes in
 * turn): it asks for the layout ({@code CLUSTER SLOTS}), runs commands that touch no key (a {@code
 * PUBLISH} reaches every node of the cluster over the cluster bus), and holds the pub/sub
 * connection. Commands that touch a key go to the master serving the key's slot, on a connection of
 * their own per master (a {@link RedisConnector} with that master's address), so a channel's
 * scripts all run on its one master, in the order they are sent, and each is told the run id of the
 * server it actually runs on (the epoch rule of {@link Scripts}).
 *
 * <p><b>Layout changes.</b> The layout is read again every {@link #TOPOLOGY_REFRESH_MS}, after a
 * command to a master failed and after a {@code MOVED} answer (the command is then sent once more,
 * to the new master: {@code MOVED} means it did not run). When the layout changed (a replica
 * promoted in place of a failed master, slots moved), the masters that left are disconnected and
 * {@code onUp} runs, as after a reconnect: the broker reads every subscribed channel's position
 * again (a promoted replica starts new epochs, so subscribers are told to resubscribe), and the
 * stores write their entries again (the new master may lack them).
 *
 * <p>While a master cannot be reached, commands for its slots fail with {@link
 * ErrorCode#UNAVAILABLE} and {@link #up()} is false; the other masters' slots keep working.
 */
final class ClusterConnector implements Connector {
  private static final Logger log = LoggerFactory.getLogger(ClusterConnector.class);

  /** How often the cluster's layout is read while nothing suggests it changed. */
  static final long TOPOLOGY_REFRESH_MS = 1_000;

  private final Vertx vertx;
  private final RedisSettings settings;
  private final RedisConnector any;
  private final long refreshMillis;
  // The layout in use; written on the context, read from any thread.
  private volatile ClusterSlots.Topology topology = ClusterSlots.Topology.EMPTY;
  // A connection per master of the layout, by host:port; changed on the context only.
  private final Map<String, RedisConnector> masters = new ConcurrentHashMap<>();
  // Runs each time the connections are (re)established or the layout changed. Set at start.
  private Runnable onUp = () -> {};
  // A layout read is in flight (one at a time); another was asked for meanwhile. On the context.
  private boolean refreshing;
  private boolean refreshAgain;
  private final List<CompletableFuture<Void>> refreshWaiters = new ArrayList<>();
  // A failing layout read (not a cluster, ACL refusing CLUSTER SLOTS) is said at warn, rarely.
  private final WarnLimiter layoutWarnings = new WarnLimiter(10_000, System::currentTimeMillis);
  // Completes when the first layout read is over (whatever its outcome): commands sent before
  // wait for it, as commands sent before a first connection wait for it.
  private final CompletableFuture<Void> firstLayout = new CompletableFuture<>();
  private long timer = -1;
  private volatile boolean closed;

  ClusterConnector(Vertx vertx, RedisSettings settings) {
    this(vertx, settings, TOPOLOGY_REFRESH_MS);
  }

  /** With the given period of layout reads (tests stretch it to show what MOVED alone does). */
  ClusterConnector(Vertx vertx, RedisSettings settings, long refreshMillis) {
    this.vertx = vertx;
    this.settings = settings;
    this.refreshMillis = refreshMillis;
    this.any = new RedisConnector(vertx, settings);
  }

  @Override
  public void start(Consumer<Response> onMessage, Runnable onUp) {
    this.onUp = onUp;
    any.start(onMessage, this::anyUp);
    startRefreshTimer();
  }

  @Override
  public void startCommandsOnly(Runnable onUp) {
    this.onUp = onUp;
    any.startCommandsOnly(this::anyUp);
    startRefreshTimer();
  }

  @Override
  public long startWithHeartbeat(long periodMillis, Runnable beat) {
    startCommandsOnly(beat);
    return vertx.setPeriodic(periodMillis, id -> context().runOnContext(v -> beat.run()));
  }

  /**
   * The connection to the cluster was (re)established (pub/sub may have missed messages): reads the
   * layout, then runs onUp whether or not the layout changed. On the context.
   */
  private void anyUp() {
    var unused =
        refreshNow()
            .whenComplete(
                (v, e) ->
                    context()
                        .runOnContext(
                            x -> {
                              if (!closed) {
                                onUp.run();
                              }
                            }));
  }

  private void startRefreshTimer() {
    context()
        .runOnContext(
            v -> {
              if (!closed) {
                timer = vertx.setPeriodic(refreshMillis, id -> refreshOnContext());
              }
            });
  }

  @Override
  public Context context() {
    return any.context();
  }

  /**
   * Whether the node can work with the cluster: its connection for pub/sub and layout is up and the
   * layout covers every slot. A master that cannot be reached does not make the node down: only the
   * commands for that master's slots fail (115) until its replica is promoted, so readiness stays
   * up and the other masters' channels carry on.
   */
  @Override
  public boolean up() {
    return any.up() && topology.complete();
  }

  @Override
  public CompletableFuture<Response> send(Request request) {
    return any.send(request);
  }

  @Override
  public CompletableFuture<Response> send(String key, Request request) {
    return routed(key, c -> c.send(key, request), true);
  }

  @Override
  public CompletableFuture<Response> sendSubscriber(Request request) {
    return any.sendSubscriber(request);
  }

  @Override
  public CompletableFuture<Response> sendToServer(String key, Function<String, Request> build) {
    return routed(key, c -> c.sendToServer(key, build), true);
  }

  /**
   * Sends to the master serving {@code key}'s slot. A {@code MOVED} answer (the slot has another
   * master now; the command did not run) reads the layout and sends once more; any other failure
   * reads the layout (a master may have failed) and fails.
   */
  private CompletableFuture<Response> routed(
      String key, Function<RedisConnector, CompletableFuture<Response>> op, boolean followMoved) {
    if (topology.ranges().isEmpty() && !firstLayout.isDone()) {
      return firstLayout.thenCompose(v -> routed(key, op, followMoved));
    }
    int slot = ClusterSlots.slot(key);
    String master = topology.master(slot);
    RedisConnector c = master == null ? null : masters.get(master);
    if (c == null) {
      refreshOnContext();
      return CompletableFuture.failedFuture(
          new HubException(
              ErrorCode.UNAVAILABLE,
              "broker unavailable: no Redis Cluster master serves slot " + slot + " now"));
    }
    CompletableFuture<Response> out = new CompletableFuture<>();
    // The callback completes out; its own future carries nothing more.
    var unused =
        op.apply(c)
            .whenComplete(
                (r, err) -> {
                  if (err == null) {
                    out.complete(r);
                    return;
                  }
                  if (err instanceof Script.NotLoaded
                      || err.getCause() instanceof Script.NotLoaded) {
                    out.completeExceptionally(err); // the master is fine: eval loads the script
                    return;
                  }
                  String reply = errorReply(err);
                  if (followMoved && reply != null && reply.startsWith("MOVED ")) {
                    var unusedResend =
                        refreshNow()
                            .thenCompose(v -> routed(key, op, false))
                            .whenComplete(
                                (again, e) -> {
                                  if (e != null) {
                                    out.completeExceptionally(e);
                                  } else {
                                    out.complete(again);
                                  }
                                });
                    return;
                  }
                  refreshOnContext();
                  out.completeExceptionally(err);
                });
    return out;
  }

  /**
   * The error Redis answered (e.g. "MOVED 3999 10.0.0.7:7001"), or null for another failure. The
   * failure is {@link RedisConnector#unavailable}'s, whose message ends with the cause's in
   * parentheses (a {@link HubException} keeps no cause).
   */
  static @Nullable String errorReply(Throwable err) {
    Throwable t =
        err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    String m = t.getMessage();
    if (m == null || !m.endsWith(")")) {
      return null;
    }
    int open = m.indexOf(" (");
    if (open < 0) {
      return null;
    }
    String inner = m.substring(open + 2, m.length() - 1);
    return inner.matches("[A-Z]+ [\\s\\S]*") ? inner : null;
  }

  private void refreshOnContext() {
    context().runOnContext(v -> refresh());
  }

  /** Reads the layout now; completes when a read that started after this call is over. */
  private CompletableFuture<Void> refreshNow() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    context()
        .runOnContext(
            v -> {
              if (closed) {
                done.complete(null); // nothing more is read; the caller's command fails (115)
                return;
              }
              refreshWaiters.add(done);
              if (refreshing) {
                refreshAgain = true;
              } else {
                refresh();
              }
            });
    return done;
  }

  /** Reads the cluster's layout and applies it if it changed. On the context. */
  private void refresh() {
    if (closed) {
      return;
    }
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    List<CompletableFuture<Void>> waiters = new ArrayList<>(refreshWaiters);
    refreshWaiters.clear();
    // The callback handles the outcome; its own future carries nothing more.
    var unused =
        any.send(Request.cmd(Command.CLUSTER).arg("SLOTS"))
            .whenComplete(
                (r, err) ->
                    context()
                        .runOnContext(
                            v -> {
                              refreshing = false;
                              if (err != null) {
                                long held = layoutWarnings.admit();
                                if (held >= 0) {
                                  log.warn(
                                      "reading the Redis Cluster layout (CLUSTER SLOTS) failed ({}"
                                          + " more since the last report): {}",
                                      held,
                                      err.toString());
                                }
                              } else {
                                try {
                                  apply(ClusterSlots.Topology.parse(r));
                                } catch (RuntimeException e) {
                                  log.warn("unreadable CLUSTER SLOTS answer: {}", e.toString());
                                }
                              }
                              waiters.forEach(w -> w.complete(null));
                              firstLayout.complete(null);
                              if (refreshAgain) {
                                refreshAgain = false;
                                refresh();
                              }
                            }));
  }

  /** Uses a new layout: connects to new masters, drops those that left, then runs onUp. */
  private void apply(ClusterSlots.Topology next) {
    if (closed || next.equals(topology)) {
      return;
    }
    log.info("Redis Cluster layout: {}", next);
    for (String m : next.masters()) {
      if (!masters.containsKey(m)) {
        // Created on the context, so its callbacks run on it too.
        RedisConnector c =
            new RedisConnector(
                vertx, settings.forServer(serverUrl(settings.clusterNodes().get(0), m)));
        masters.put(m, c);
        c.startCommandsOnly(this::masterUp);
      }
    }
    topology = next;
    for (String m : List.copyOf(masters.keySet())) {
      if (!next.masters().contains(m)) {
        RedisConnector gone = masters.remove(m);
        if (gone != null) {
          gone.close();
        }
      }
    }
    onUp.run();
  }

  /** A master's connection was (re)established: it may have restarted empty. On the context. */
  private void masterUp() {
    if (!closed) {
      onUp.run();
    }
  }

  /** A master's URL: the scheme and credentials of the first configured node, its host:port. */
  static String serverUrl(String firstNode, String hostPort) {
    URI first = URI.create(firstNode);
    String user = first.getRawUserInfo();
    return first.getScheme() + "://" + (user == null ? "" : user + "@") + hostPort;
  }

  @Override
  public void later(long delayMillis, Runnable task) {
    any.later(delayMillis, task);
  }

  @Override
  public void reset(Throwable why) {
    any.reset(why);
  }

  @Override
  public void close() {
    closed = true;
    try {
      context()
          .runOnContext(
              v -> {
                if (timer >= 0) {
                  vertx.cancelTimer(timer);
                }
                closeAll();
              });
    } catch (RuntimeException e) {
      // Vert.x is already closed, and its timers with it.
      closeAll();
    }
  }

  /**
   * Closes every connection and releases whatever waits for a layout (its command then fails with
   * 115 on a closed connection). On the context, where masters are added, so none is left open.
   */
  private void closeAll() {
    firstLayout.complete(null);
    List<CompletableFuture<Void>> waiting = new ArrayList<>(refreshWaiters);
    refreshWaiters.clear();
    waiting.forEach(w -> w.complete(null));
    any.close();
    masters.values().forEach(RedisConnector::close);
  }
}
