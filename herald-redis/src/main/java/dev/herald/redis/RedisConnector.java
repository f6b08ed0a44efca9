package dev.herald.redis;

import dev.herald.core.hub.HubException;
import dev.herald.protocol.ErrorCode;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's two connections to Redis: one for commands (pipelined) and one for pub/sub. Each is
 * re-opened with capped, jittered exponential backoff whenever it drops. While either is down the
 * node counts as disconnected: commands fail at once with {@link ErrorCode#UNAVAILABLE} and every
 * command that was in flight fails after {@link #COMMAND_TIMEOUT_MS} at most, so no caller waits
 * forever. All connection callbacks run on one Vert.x context.
 *
 * <p>With Redis Cluster settings it connects to any of the cluster's nodes, trying them in turn:
 * {@link ClusterConnector} uses it for the cluster's layout and for pub/sub, and one per master
 * (standalone settings) for the commands.
 */
final class RedisConnector implements Connector {
  private static final Logger log = LoggerFactory.getLogger(RedisConnector.class);

  /**
   * Commands one connection may have awaiting their reply; one more fails at once (as Redis
   * unreachable does). The client allocates a slot for each of them up front, per connection:
   * 1,000,000 cost 4 MB per connection (a node holds several) and longer young collections.
   * Heartbeats keep at most {@link Paced#WINDOW} in flight.
   */
  static final int MAX_IN_FLIGHT = 65_536;

  /** Longest a command may take before it counts as failed (Redis unreachable). */
  static final long COMMAND_TIMEOUT_MS = 5_000;

  private final Vertx vertx;
  private final RedisSettings settings;
  private final Context context;
  // One client per server to try in turn (one, but for a cluster's nodes); the index of the next.
  private final java.util.List<Redis> clients;
  private int nextClient;
  // What the connections go to, for logs.
  private final String where;
  private final Link commands = new Link("command");
  private final Link subscriber = new Link("pub/sub");
  private volatile boolean closed;
  private Consumer<Response> onMessage = r -> {};

  RedisConnector(Vertx vertx, RedisSettings settings) {
    this.vertx = vertx;
    this.settings = settings;
    this.context = vertx.getOrCreateContext();
    RedisOptions options = new RedisOptions();
    if (settings.sentinel()) {
      // Each connect asks a sentinel for the current master. No automatic failover inside the
      // client: a connection that drops is re-opened here, like any other, so that pub/sub is
      // subscribed again and the scripts learn which server they run on.
      options
          .setType(RedisClientType.SENTINEL)
          .setMasterName(settings.masterName())
          .setRole(RedisRole.MASTER)
          .setAutoFailover(false);
      settings.sentinels().forEach(options::addConnectionString);
    }
    options
        .setMaxPoolSize(4)
        .setMaxPoolWaiting(64)
        .setMaxWaitingHandlers(MAX_IN_FLIGHT)
        .setNetClientOptions(new NetClientOptions().setConnectTimeout(2000).setTcpNoDelay(true));
    if (settings.sentinel()) {
      this.clients = java.util.List.of(Redis.createClient(vertx, options));
    } else {
      java.util.List<String> servers =
          settings.cluster() ? settings.clusterNodes() : java.util.List.of(settings.url());
      this.clients =
          servers.stream()
              .map(
                  url ->
                      Redis.createClient(vertx, new RedisOptions(options).setConnectionString(url)))
              .toList();
    }
    this.where =
        settings.sentinel()
            ? "the master '" + settings.masterName() + "' of sentinels " + settings.sentinels()
            : settings.cluster() ? "a node of " + settings.clusterNodes() : settings.url();
  }

  /**
   * Opens both connections; {@code onUp} runs (on the context) each time the pub/sub connection is
   * (re)established, {@code onMessage} for every pub/sub message.
   */
  @Override
  public void start(Consumer<Response> onMessage, Runnable onUp) {
    this.onMessage = onMessage;
    subscriber.onUp = onUp;
    // Before anything reads up(): the pub/sub link counts from the start, not from its first try.
    commands.used = true;
    subscriber.used = true;
    context.runOnContext(
        v -> {
          commands.connect();
          subscriber.connect();
        });
  }

  /**
   * Opens only the command connection (for stores that do not subscribe); {@code onUp} runs (on the
   * context) each time it is (re)established.
   */
  @Override
  public void startCommandsOnly(Runnable onUp) {
    commands.used = true;
    commands.onUp = onUp;
    context.runOnContext(v -> commands.connect());
  }

  /**
   * Opens only the command connection and runs {@code beat} on the context every {@code
   * periodMillis} and each time the connection is (re)established, so a Redis that restarted empty
   * gets the caller's entries back at once rather than after the next period. Returns the timer, to
   * cancel at close.
   */
  @Override
  public long startWithHeartbeat(long periodMillis, Runnable beat) {
    startCommandsOnly(beat);
    return vertx.setPeriodic(periodMillis, id -> context.runOnContext(v -> beat.run()));
  }

  @Override
  public Context context() {
    return context;
  }

  /** Whether both connections are up. */
  @Override
  public boolean up() {
    return commands.conn != null && (subscriber.conn != null || !subscriber.used);
  }

  /** Runs a command. Fails with {@link ErrorCode#UNAVAILABLE} if Redis cannot be reached. */
  @Override
  public CompletableFuture<Response> send(Request request) {
    return send(commands, request);
  }

  /** One server holds every key: the key does not matter. */
  @Override
  public CompletableFuture<Response> send(String key, Request request) {
    return send(commands, request);
  }

  /** Sends a command on the pub/sub connection (SUBSCRIBE/UNSUBSCRIBE). */
  @Override
  public CompletableFuture<Response> sendSubscriber(Request request) {
    return send(subscriber, request);
  }

  /**
   * Runs a command built for the server it goes to: {@code build} gets that server's run id (empty
   * if Redis would not tell). A Lua script that keeps a channel's epoch is told it this way, so a
   * server that replaced another (a promoted replica, a restart) starts new epochs: see {@link
   * Scripts}. One server holds every key here: the key does not matter.
   */
  @Override
  public CompletableFuture<Response> sendToServer(String key, Function<String, Request> build) {
    return send(commands, build);
  }

  private CompletableFuture<Response> send(Link link, Request request) {
    return send(link, server -> request);
  }

  private CompletableFuture<Response> send(Link link, Function<String, Request> build) {
    CompletableFuture<Response> out = new CompletableFuture<>();
    RedisConnection c = link.conn;
    if (c == null
        && link.waitForFirst(
            () -> {
              var unused = send(link, build).whenComplete(complete(out));
            })) {
      // Still opening the first connection (just started): sent once it is open, in order.
      return out;
    }
    if (c == null) {
      out.completeExceptionally(unavailable(null));
      return out;
    }
    long timer =
        vertx.setTimer(
            COMMAND_TIMEOUT_MS,
            id ->
                out.completeExceptionally(
                    unavailable(new java.util.concurrent.TimeoutException("no reply in time"))));
    // The run id is written before the connection (both volatile): read after it, it is this
    // connection's or a newer one's (then this connection is closed and the command fails).
    Request request = build.apply(link.server);
    c.send(request)
        .onComplete(
            ar -> {
              vertx.cancelTimer(timer);
              if (ar.succeeded()) {
                out.complete(ar.result());
              } else if (Script.NotLoaded.answered(ar.cause())) {
                out.completeExceptionally(new Script.NotLoaded());
              } else {
                out.completeExceptionally(unavailable(ar.cause()));
              }
            });
    return out;
  }

  /** Runs {@code task} on the context after {@code delayMillis}, unless closed. */
  @Override
  public void later(long delayMillis, Runnable task) {
    if (closed) {
      return;
    }
    vertx.setTimer(
        Math.max(1, delayMillis),
        id ->
            context.runOnContext(
                v -> {
                  if (!closed) {
                    task.run();
                  }
                }));
  }

  static HubException unavailable(@Nullable Throwable cause) {
    HubException e =
        new HubException(
            ErrorCode.UNAVAILABLE,
            "broker unavailable: Redis cannot be reached"
                + (cause == null || cause.getMessage() == null
                    ? ""
                    : " (" + cause.getMessage() + ")"));
    if (cause != null) {
      e.addSuppressed(cause);
    }
    return e;
  }

  /** Drops the pub/sub connection, as if the network had cut it (it is re-opened). */
  @Override
  public void reset(Throwable why) {
    context.runOnContext(
        v -> {
          RedisConnection c = subscriber.conn;
          if (c != null) {
            subscriber.lost(c, why);
          }
        });
  }

  private String safeUrl() {
    // Never log a password that may be in a URL.
    return where.replaceAll("//[^@/,\\]]*@", "//***@");
  }

  @Override
  public void close() {
    closed = true;
    try {
      context.runOnContext(
          v -> {
            for (Link l : new Link[] {commands, subscriber}) {
              RedisConnection c = l.conn;
              l.conn = null;
              if (c != null) {
                c.close();
              }
              // Commands still waiting for a first connection fail now (115) instead of never.
              l.firstAttemptOver();
            }
            clients.forEach(Redis::close);
          });
    } catch (RuntimeException e) {
      // Vert.x is already closed, and its connections with it; waiting commands fail now.
      commands.firstAttemptOver();
      subscriber.firstAttemptOver();
    }
  }

  /** The run_id line of an INFO reply ("" if none). */
  static String runId(String info) {
    for (String line : (Iterable<String>) info.lines()::iterator) {
      if (line.startsWith("run_id:")) {
        return line.substring("run_id:".length()).trim();
      }
    }
    return "";
  }

  /** Whether a failure is Redis answering an error (as opposed to the connection failing). */
  private static boolean isErrorReply(Throwable t) {
    String m = t.getMessage();
    return m != null && m.matches("[A-Z]+ [\\s\\S]*");
  }

  private static <T> java.util.function.BiConsumer<T, Throwable> complete(
      CompletableFuture<T> out) {
    return (v, e) -> {
      if (e != null) {
        out.completeExceptionally(e);
      } else {
        out.complete(v);
      }
    };
  }

  /** One connection kept open. Its fields are only touched on the context (except noted). */
  private final class Link {
    final String name;
    volatile @Nullable RedisConnection conn;
    // The run id of the server conn goes to (command link only; "" if unknown).
    volatile String server = "";
    // Runs on the context each time this link is (re)established.
    Runnable onUp = () -> {};
    int attempt;
    // Whether this link is part of the node's connection (read by up() from any thread).
    volatile boolean used;
    // Commands sent before the first connection attempt ended, in the order they were sent;
    // guarded by "this" (send is called from any thread). Null once the first attempt is over.
    private java.util.@Nullable ArrayDeque<Runnable> beforeFirst = new java.util.ArrayDeque<>();

    Link(String name) {
      this.name = name;
    }

    /** Keeps a send for after the first attempt; false if that attempt is over. Any thread. */
    synchronized boolean waitForFirst(Runnable send) {
      if (beforeFirst == null) {
        return false;
      }
      beforeFirst.add(send);
      return true;
    }

    /**
     * The first attempt is over: sends what waited, in order (failing fast if still down). Under
     * the lock, so that a send from another thread meanwhile goes after them (sending only queues
     * the command on the connection; nothing blocks).
     */
    synchronized void firstAttemptOver() {
      java.util.ArrayDeque<Runnable> waiting = beforeFirst;
      beforeFirst = null;
      if (waiting != null) {
        waiting.forEach(Runnable::run);
      }
    }

    void connect() {
      used = true;
      if (closed) {
        return;
      }
      Redis client = clients.get(nextClient);
      // The next attempt (of either link) tries the next server.
      nextClient = (nextClient + 1) % clients.size();
      client
          .connect()
          .onComplete(
              ar -> {
                if (closed) {
                  if (ar.succeeded()) {
                    ar.result().close();
                  }
                  return;
                }
                if (ar.failed()) {
                  retry(ar.cause());
                  firstAttemptOver();
                  return;
                }
                RedisConnection c = ar.result();
                if (this == commands) {
                  identify(c);
                } else {
                  opened(c);
                }
              });
    }

    /** Learns the server's run id (INFO server), then uses the connection. */
    private void identify(RedisConnection c) {
      c.send(Request.cmd(Command.INFO).arg("server"))
          .onComplete(
              info -> {
                if (closed) {
                  c.close();
                  return;
                }
                if (info.succeeded()) {
                  server = runId(info.result().toString());
                } else if (isErrorReply(info.cause())) {
                  // INFO refused (renamed, ACL): epochs then only change when data is lost.
                  log.warn(
                      "Redis refused INFO ({}): a failover that loses acknowledged publications"
                          + " may go unnoticed by clients",
                      info.cause().getMessage());
                  server = "";
                } else {
                  c.close();
                  retry(info.cause());
                  firstAttemptOver();
                  return;
                }
                opened(c);
              });
    }

    private void opened(RedisConnection c) {
      if (this == subscriber) {
        c.handler(onMessage::accept);
      } else {
        c.handler(r -> {});
        // Sent before any other command can use the connection, so Redis runs them first.
        for (Script script : Scripts.ALL) {
          c.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(script.text()))
              .onFailure(
                  err -> log.debug("loading {} failed (calls fall back to EVAL): {}", script, err));
        }
      }
      c.exceptionHandler(err -> lost(c, err));
      c.endHandler(x -> lost(c, null));
      conn = c;
      if (attempt > 0) {
        log.info(
            "{} connection to Redis at {} is back after {} attempts", name, safeUrl(), attempt);
      }
      attempt = 0;
      onUp.run();
      firstAttemptOver();
    }

    /** The connection dropped: mark down and reconnect (once per connection). */
    void lost(RedisConnection c, @Nullable Throwable err) {
      if (conn != c) {
        return;
      }
      conn = null;
      c.close();
      if (!closed) {
        log.warn(
            "lost the {} connection to Redis{}; reconnecting",
            name,
            err == null ? "" : " (" + err.getMessage() + ")");
        retry(err);
      }
    }

    private void retry(@Nullable Throwable cause) {
      long min = settings.reconnectMin().toMillis();
      long max = settings.reconnectMax().toMillis();
      long cap = Math.min(max, min << Math.min(attempt, 20));
      long delay = Math.max(1, cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1));
      attempt++;
      if (attempt == 1 || attempt % 20 == 0) {
        log.warn(
            "cannot reach Redis at {} for the {} connection (attempt {}{}); retrying in {} ms",
            safeUrl(),
            name,
            attempt,
            cause == null ? "" : ", " + cause.getMessage(),
            delay);
      }
      if (!closed) {
        vertx.setTimer(delay, id -> context.runOnContext(v -> connect()));
      }
    }
  }
}
