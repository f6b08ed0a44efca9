package dev.herald.redis;

import dev.herald.core.broker.ControlBus;
import dev.herald.core.broker.ControlMessage;
import dev.herald.core.broker.ControlQuery;
import dev.herald.core.broker.ControlResponder;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's account actions (revoke, revalidate) over one Redis pub/sub topic, {@code
 * <prefix>:control}, on connections of its own. A message reaches every node subscribed at the
 * moment it is published, typically within a millisecond or two; a node that is disconnected from
 * Redis then (or a Redis that is down) does not get it, and nothing replays it later: the sending
 * node's {@link #send} fails in that case, and the connections on other nodes stay until they end
 * otherwise (credential expiry, next connect's authentication).
 *
 * <p>Server API questions travel on the same topic; each node answers on the asking node's own
 * topic, {@code <prefix>:control:to:<node>}. Which nodes to expect answers from is read from the
 * sorted set {@code <prefix>:control:nodes}, where each node keeps its name with an expiry time
 * (now plus the presence TTL, refreshed every third of it and on every reconnect); a node that dies
 * drops out within one TTL, and until then it is reported as not answering. Expiry times are
 * compared on the nodes' clocks, which must agree to well within the presence TTL.
 */
public final class RedisControlBus implements ControlBus {
  private static final Logger log = LoggerFactory.getLogger(RedisControlBus.class);

  private final RedisSettings settings;
  private final Connector redis;
  private final String topic;
  private final String inbox;
  private final String members;
  private final Vertx vertx;
  private volatile Consumer<ControlMessage> handler = m -> {};
  private volatile ControlResponder responder =
      q -> CompletableFuture.failedFuture(new IllegalStateException("no responder"));
  // Questions this node asked and still waits for, by id.
  private final Map<String, BiConsumer<String, String>> asked = new ConcurrentHashMap<>();
  private volatile long timer = -1;
  // Whether this node answers questions (and so is listed among the nodes to expect answers from).
  private volatile boolean answering;

  public RedisControlBus(Vertx vertx, RedisSettings settings) {
    this.vertx = vertx;
    this.settings = settings;
    this.redis = Connector.open(vertx, settings);
    this.topic = settings.prefix() + ":control";
    this.inbox = topic + ":to:" + settings.node();
    this.members = topic + ":nodes";
  }

  @Override
  public void start(Consumer<ControlMessage> handler) {
    this.handler = handler;
    redis.start(this::onMessage, this::subscribe);
  }

  @Override
  public void start(Consumer<ControlMessage> handler, ControlResponder responder) {
    this.responder = responder;
    this.answering = true;
    start(handler);
    long period = Math.max(100, settings.presenceTtl().toMillis() / 3);
    timer =
        vertx.setPeriodic(
            period,
            id -> {
              var unused = announce(); // handles its own failure; the next period retries
            });
  }

  /** Keeps this node in the set of nodes that answer questions, and drops expired ones. */
  private CompletableFuture<Void> announce() {
    long now = System.currentTimeMillis();
    return redis
        .send(
            members,
            Request.cmd(Command.ZADD)
                .arg(members)
                .arg(now + settings.presenceTtl().toMillis())
                .arg(settings.node()))
        .thenCompose(
            r ->
                redis.send(
                    members,
                    Request.cmd(Command.ZREMRANGEBYSCORE).arg(members).arg("-inf").arg(now)))
        .handle(
            (r, err) -> {
              if (err != null) {
                log.debug("announcing node {} failed: {}", settings.node(), err.toString());
              }
              return null;
            });
  }

  private void subscribe() {
    if (answering) {
      var unused = announce(); // handles its own failure; the next period retries
    }
    // The callback handles a failure (reconnecting); its own future carries nothing more.
    var unused =
        redis
            .sendSubscriber(Request.cmd(Command.SUBSCRIBE).arg(topic).arg(inbox))
            .whenComplete(
                (r, err) -> {
                  if (err != null) {
                    log.warn("cannot subscribe to {}: {}", topic, err.toString());
                    redis.reset(err); // reconnect, and subscribe again then
                  }
                });
  }

  @Override
  public CompletableFuture<Void> send(ControlMessage m) {
    String payload =
        new JsonObject()
            .put("from", settings.node())
            .put("kind", m.kind().name())
            .put("subject", m.subject())
            .put("code", m.closeCode())
            .put("reason", m.reason())
            .encode();
    return redis.send(Request.cmd(Command.PUBLISH).arg(topic).arg(payload)).thenApply(r -> null);
  }

  @Override
  public CompletableFuture<Set<String>> ask(
      ControlQuery query, BiConsumer<String, String> onAnswer) {
    asked.put(query.id(), onAnswer);
    String payload =
        new JsonObject()
            .put("from", settings.node())
            .put("type", "query")
            .put("id", query.id())
            .put("kind", query.kind())
            .put("body", query.body())
            .encode();
    return redis
        .send(Request.cmd(Command.PUBLISH).arg(topic).arg(payload))
        .thenCompose(
            r ->
                redis.send(
                    members,
                    Request.cmd(Command.ZRANGE)
                        .arg(members)
                        .arg(System.currentTimeMillis())
                        .arg("+inf")
                        .arg("BYSCORE")))
        .thenApply(
            r -> {
              Set<String> nodes = new HashSet<>();
              if (r != null) {
                r.forEach(n -> nodes.add(n.toString()));
              }
              nodes.remove(settings.node());
              return nodes;
            })
        .whenComplete(
            (nodes, err) -> {
              if (err != null) {
                asked.remove(query.id());
              }
            });
  }

  @Override
  public void forget(String queryId) {
    asked.remove(queryId);
  }

  /** Answers another node's question on its topic; no answer if this node fails to make one. */
  private void answer(JsonObject json) {
    String from = json.getString("from");
    ControlQuery q =
        new ControlQuery(json.getString("id"), json.getString("kind"), json.getString("body"));
    CompletableFuture<String> a;
    try {
      a = responder.answer(q);
    } catch (RuntimeException e) {
      a = CompletableFuture.failedFuture(e);
    }
    // The callback handles either outcome; its own future carries nothing more.
    var unused =
        a.thenCompose(
                answer ->
                    redis.send(
                        Request.cmd(Command.PUBLISH)
                            .arg(topic + ":to:" + from)
                            .arg(
                                new JsonObject()
                                    .put("from", settings.node())
                                    .put("id", q.id())
                                    .put("answer", answer)
                                    .encode())))
            .whenComplete(
                (r, err) -> {
                  if (err != null) {
                    log.warn("no answer to {}'s question {}: {}", from, q.kind(), err.toString());
                  }
                });
  }

  private void onAnswer(JsonObject json) {
    BiConsumer<String, String> to = asked.get(json.getString("id", ""));
    String from = json.getString("from");
    String answer = json.getString("answer");
    if (to != null && from != null && answer != null) {
      to.accept(from, answer);
    }
  }

  private void onMessage(Response r) {
    if (r.size() < 3 || !"message".equals(r.get(0).toString())) {
      return;
    }
    String channel = r.get(1).toString();
    if (inbox.equals(channel)) {
      try {
        onAnswer(new JsonObject(r.get(2).toString(StandardCharsets.UTF_8)));
      } catch (RuntimeException e) {
        log.warn("ignoring a malformed answer on {}: {}", inbox, e.toString());
      }
      return;
    }
    if (!topic.equals(channel)) {
      return;
    }
    ControlMessage m;
    JsonObject json;
    try {
      json = new JsonObject(r.get(2).toString(StandardCharsets.UTF_8));
      if ("query".equals(json.getString("type"))) {
        if (!settings.node().equals(json.getString("from"))) {
          answer(json);
        }
        return;
      }
      m =
          new ControlMessage(
              ControlMessage.Kind.valueOf(json.getString("kind")),
              json.getString("subject"),
              json.getInteger("code", 0),
              json.getString("reason", ""));
    } catch (RuntimeException e) {
      log.warn("ignoring a malformed message on {}: {}", topic, e.toString());
      return;
    }
    if (settings.node().equals(json.getString("from"))) {
      return; // this node acted when it sent the message
    }
    try {
      handler.accept(m);
    } catch (RuntimeException e) {
      log.warn("acting on {} failed", m.kind(), e);
    }
  }

  @Override
  public void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (!answering) {
      redis.close();
      return;
    }
    // Leave the set of answering nodes at once rather than after the TTL, then disconnect.
    // The callback handles the outcome; its own future carries nothing more.
    var unused =
        redis
            .send(members, Request.cmd(Command.ZREM).arg(members).arg(settings.node()))
            .whenComplete((r, e) -> redis.close());
  }
}
