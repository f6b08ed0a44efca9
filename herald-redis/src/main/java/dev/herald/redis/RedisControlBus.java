package dev.herald.redis;

import dev.herald.core.broker.ControlBus;
import dev.herald.core.broker.ControlMessage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
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
 */
public final class RedisControlBus implements ControlBus {
  private static final Logger log = LoggerFactory.getLogger(RedisControlBus.class);

  private final RedisSettings settings;
  private final RedisConnector redis;
  private final String topic;
  private volatile Consumer<ControlMessage> handler = m -> {};

  public RedisControlBus(Vertx vertx, RedisSettings settings) {
    this.settings = settings;
    this.redis = new RedisConnector(vertx, settings);
    this.topic = settings.prefix() + ":control";
  }

  @Override
  public void start(Consumer<ControlMessage> handler) {
    this.handler = handler;
    redis.start(this::onMessage, this::subscribe);
  }

  private void subscribe() {
    // The callback handles a failure (reconnecting); its own future carries nothing more.
    var unused =
        redis
            .sendSubscriber(Request.cmd(Command.SUBSCRIBE).arg(topic))
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

  private void onMessage(Response r) {
    if (r.size() < 3
        || !"message".equals(r.get(0).toString())
        || !topic.equals(r.get(1).toString())) {
      return;
    }
    ControlMessage m;
    JsonObject json;
    try {
      json = new JsonObject(r.get(2).toString(StandardCharsets.UTF_8));
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
    redis.close();
  }
}
