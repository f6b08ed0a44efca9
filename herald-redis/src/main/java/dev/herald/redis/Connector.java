package dev.herald.redis;

import dev.herald.protocol.ErrorCode;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.LoggerFactory;

/**
 * How a Redis component of a node reaches Redis: a connection for commands and one for pub/sub,
 * each re-opened whenever it drops. Commands that touch a key name it, so that in a Redis Cluster
 * they go to the master serving the key's slot ({@link ClusterConnector}); with one Redis (or the
 * master Sentinel names) every command goes to the same server ({@link RedisConnector}). Commands
 * fail with {@link ErrorCode#UNAVAILABLE} when the server they need cannot be reached. All
 * connection callbacks run on {@link #context()}.
 */
interface Connector {

  /** The connector the settings ask for: one Redis, Sentinel's master, or a Redis Cluster. */
  static Connector open(Vertx vertx, RedisSettings settings) {
    return settings.cluster()
        ? new ClusterConnector(vertx, settings)
        : new RedisConnector(vertx, settings);
  }

  /**
   * Opens both connections; {@code onUp} runs (on the context) each time the connections are
   * (re)established or the servers behind them may have changed, {@code onMessage} for every
   * pub/sub message.
   */
  void start(Consumer<Response> onMessage, Runnable onUp);

  /** Opens only the command connection(s); {@code onUp} as for {@link #start}. */
  void startCommandsOnly(Runnable onUp);

  /**
   * Opens only the command connection(s) and runs {@code beat} on the context every {@code
   * periodMillis} and each time {@code onUp} would run, so a Redis that restarted empty (or a
   * replica that replaced its master) gets the caller's entries back at once. Returns the timer, to
   * cancel at close.
   */
  long startWithHeartbeat(long periodMillis, Runnable beat);

  Context context();

  /** Whether every connection the component needs is up. */
  boolean up();

  /** Runs a command that touches no key (any server of the cluster may run it). */
  CompletableFuture<Response> send(Request request);

  /** Runs a command that touches {@code key} (and only keys of the same hash slot). */
  CompletableFuture<Response> send(String key, Request request);

  /** Sends a command on the pub/sub connection (SUBSCRIBE/UNSUBSCRIBE). */
  CompletableFuture<Response> sendSubscriber(Request request);

  /**
   * Runs a command that touches {@code key}, built for the server it goes to: {@code build} gets
   * that server's run id ("" if Redis would not tell). See {@link Scripts}: a server that replaced
   * another starts new epochs.
   */
  CompletableFuture<Response> sendToServer(String key, Function<String, Request> build);

  /**
   * Runs a script that touches {@code key} by its SHA-1 ({@code EVALSHA}); {@code args} appends the
   * key count, keys and arguments, and gets the run id of the server the call goes to (as {@link
   * #sendToServer}). Every script of {@link Scripts#ALL} is loaded on each command connection
   * before the connection is used, so Redis knows them. If it does not (someone ran {@code SCRIPT
   * FLUSH} meanwhile) it answers {@code NOSCRIPT} and the call is made once more with the whole
   * text ({@code EVAL}, which caches it again). Such a retry goes after calls sent in the meantime,
   * so only calls in flight together when the scripts were flushed can run in another order than
   * they were sent.
   */
  default CompletableFuture<Response> eval(
      String key, Script script, BiConsumer<Request, String> args) {
    return sendToServer(key, server -> call(Command.EVALSHA, script.sha(), server, args))
        .exceptionallyCompose(
            err -> {
              Throwable e =
                  err instanceof CompletionException c && c.getCause() != null ? c.getCause() : err;
              if (!(e instanceof Script.NotLoaded)) {
                return CompletableFuture.failedFuture(e);
              }
              LoggerFactory.getLogger(Connector.class)
                  .info("Redis had lost {}; loading it again", script);
              return sendToServer(key, server -> call(Command.EVAL, script.text(), server, args));
            });
  }

  private static Request call(
      Command cmd, String script, String server, BiConsumer<Request, String> args) {
    Request r = Request.cmd(cmd).arg(script);
    args.accept(r, server);
    return r;
  }

  /** Runs {@code task} on the context after {@code delayMillis}, unless closed. */
  void later(long delayMillis, Runnable task);

  /** Drops the pub/sub connection, as if the network had cut it (it is re-opened). */
  void reset(Throwable why);

  void close();
}
