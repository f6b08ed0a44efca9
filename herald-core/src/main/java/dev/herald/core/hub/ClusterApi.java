package dev.herald.core.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.herald.core.api.ApiJson;
import dev.herald.core.api.ChannelInfo;
import dev.herald.core.api.ClusterResult;
import dev.herald.core.api.ConnectionInfo;
import dev.herald.core.api.HistoryPage;
import dev.herald.core.api.NodeInfo;
import dev.herald.core.api.PresenceInfo;
import dev.herald.core.api.PresenceStats;
import dev.herald.core.api.ServerApi;
import dev.herald.core.auth.Principal;
import dev.herald.core.broker.ControlBus;
import dev.herald.core.broker.ControlQuery;
import dev.herald.core.broker.HistoryPolicy;
import dev.herald.core.broker.IdempotencyKey;
import dev.herald.core.channel.ChannelName;
import dev.herald.core.time.Scheduler;
import dev.herald.protocol.CloseCode;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The hub's {@link ServerApi}: each call asks this node and, over the {@link ControlBus}, every
 * other node the same question ({@link #answer}), waits at most the API timeout for their answers
 * ({@link Gathering}) and combines them. Presence, history and publish go to the shared stores.
 */
final class ClusterApi implements ServerApi {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClusterApi.class);
  static final String CONNECTIONS = "connections";
  static final String CONNECTION = "connection";
  static final String DISCONNECT = "disconnect";
  static final String UNSUBSCRIBE = "unsubscribe";
  static final String CHANNELS = "channels";
  static final String NODE = "node";

  /** The longest user id, connection id or channel prefix accepted. */
  static final int MAX_ID_LENGTH = 255;

  private final Hub hub;
  private final ControlBus bus;
  private final Scheduler scheduler;
  private final long timeoutMillis;
  private final ApiJson json;
  private final Instant started;

  ClusterApi(Hub hub, ControlBus bus, Scheduler scheduler, long timeoutMillis) {
    this.hub = hub;
    this.bus = bus;
    this.scheduler = scheduler;
    this.timeoutMillis = timeoutMillis;
    this.json = new ApiJson(hub.codec());
    this.started = Instant.ofEpochMilli(scheduler.nowMillis());
  }

  // ------------------------------------------------------------------ shared stores

  @Override
  public CompletableFuture<StreamPosition> publish(
      String channel, RawJson data, @Nullable IdempotencyKey once) {
    return hub.publish(channel, data, once);
  }

  @Override
  public CompletableFuture<PresenceInfo> presence(String channel) {
    return hub.presence(channel).thenApply(clients -> new PresenceInfo(channel, clients));
  }

  @Override
  public CompletableFuture<PresenceStats> presenceStats(String channel) {
    return presence(channel).thenApply(PresenceInfo::stats);
  }

  @Override
  public CompletableFuture<HistoryPage> history(String channel, int limit) {
    try {
      if (limit < 1 || limit > MAX_HISTORY_LIMIT) {
        throw new HubException(
            ErrorCode.BAD_REQUEST, "limit must be from 1 to " + MAX_HISTORY_LIMIT + ": " + limit);
      }
      ChannelName name = hub.channel(channel);
      HistoryPolicy policy = HistoryPolicy.of(hub.namespace(name));
      return hub.broker()
          .history(name.value(), 0, policy)
          .thenApply(
              h -> {
                List<Pub> all = h.publications();
                return new HistoryPage(
                    name.value(),
                    h.top(),
                    all.subList(Math.max(0, all.size() - limit), all.size()));
              });
    } catch (HubException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  // ------------------------------------------------------------------ gathered from every node

  @Override
  public CompletableFuture<ClusterResult<List<ConnectionInfo>>> connections(String userId) {
    return guarded(
        () ->
            ask(
                CONNECTIONS,
                json.object().put("user", id("user id", userId)),
                this::connectionList));
  }

  @Override
  public CompletableFuture<ClusterResult<ConnectionInfo>> connection(String connectionId) {
    return guarded(
        () -> {
          String id = id("connection id", connectionId);
          return ask(CONNECTION, json.object().put("id", id), this::connectionList)
              .thenApply(
                  r -> {
                    if (r.value().isEmpty()) {
                      throw notFound(id, r);
                    }
                    return new ClusterResult<>(r.value().get(0), r.nodes(), r.missing());
                  });
        });
  }

  @Override
  public CompletableFuture<ClusterResult<Integer>> disconnectUser(
      String userId, boolean reconnect, @Nullable String reason) {
    return guarded(() -> disconnect("user", id("user id", userId), reconnect, reason));
  }

  @Override
  public CompletableFuture<ClusterResult<Integer>> disconnectConnection(
      String connectionId, boolean reconnect, @Nullable String reason) {
    return guarded(
        () -> {
          String id = id("connection id", connectionId);
          return disconnect("id", id, reconnect, reason)
              .thenApply(
                  r -> {
                    if (r.value() == 0) {
                      throw notFound(id, r);
                    }
                    return r;
                  });
        });
  }

  private CompletableFuture<ClusterResult<Integer>> disconnect(
      String field, String value, boolean reconnect, @Nullable String reason) {
    ObjectNode body = json.object().put(field, value).put("reconnect", reconnect);
    if (reason != null) {
      body.put("reason", reason);
    }
    return audited(
        "disconnect " + field + " " + value + (reconnect ? " (reconnect)" : ""),
        ask(DISCONNECT, body, ClusterApi::sum));
  }

  /** Logs an action's outcome at INFO on the node it was called on: who was acted on, where. */
  private static CompletableFuture<ClusterResult<Integer>> audited(
      String action, CompletableFuture<ClusterResult<Integer>> done) {
    return done.whenComplete(
        (r, err) -> {
          if (err == null) {
            log.info(
                "server API: {}: {} acted on, nodes {}, missing {}",
                action,
                r.value(),
                r.nodes(),
                r.missing());
          } else {
            log.info("server API: {} failed: {}", action, err.toString());
          }
        });
  }

  @Override
  public CompletableFuture<ClusterResult<Integer>> unsubscribe(String userId, String channel) {
    return guarded(
        () ->
            audited(
                "unsubscribe user " + userId + " from " + channel,
                ask(
                    UNSUBSCRIBE,
                    json.object()
                        .put("user", id("user id", userId))
                        .put("channel", hub.channel(channel).value()),
                    ClusterApi::sum)));
  }

  @Override
  public CompletableFuture<ClusterResult<List<ChannelInfo>>> channels(String prefix) {
    if (prefix == null || prefix.length() > MAX_ID_LENGTH) {
      return CompletableFuture.failedFuture(
          new HubException(
              ErrorCode.BAD_REQUEST, "a prefix must be at most " + MAX_ID_LENGTH + " characters"));
    }
    return ask(
        CHANNELS,
        json.object().put("prefix", prefix),
        answers -> {
          Map<String, Integer> merged = new TreeMap<>();
          for (JsonNode a : answers) {
            a.forEach(
                c ->
                    merged.merge(
                        c.path("name").asText(), c.path("subscribers").asInt(), Integer::sum));
          }
          List<ChannelInfo> out = new ArrayList<>();
          merged.forEach((name, n) -> out.add(new ChannelInfo(name, n)));
          return out;
        });
  }

  @Override
  public CompletableFuture<ClusterResult<List<NodeInfo>>> nodes() {
    return ask(
        NODE,
        json.object(),
        answers -> {
          List<NodeInfo> out = new ArrayList<>();
          answers.forEach(a -> out.add(json.node(a)));
          return out;
        });
  }

  @Override
  public NodeInfo node() {
    int connected = 0;
    int subscriptions = 0;
    Set<String> users = new HashSet<>();
    for (ClientSession s : hub.sessions()) {
      String user = s.userId();
      if (user != null && !s.isClosed()) {
        connected++;
        users.add(user);
        subscriptions += s.subscriptionCount();
      }
    }
    HubStats stats = hub.stats();
    return new NodeInfo(
        hub.config().node(),
        started,
        connected,
        users.size(),
        subscriptions,
        stats.channels(),
        hub.connectionsByTransport(),
        stats.publications(),
        hub.accepting(),
        hub.brokerHealthy());
  }

  // ------------------------------------------------------------------ one question, every node

  /**
   * Asks this node and every other one, waits for them at most the API timeout (this node too: its
   * sessions answer on their event loops), and combines the answers (this node's first).
   */
  private <T> CompletableFuture<ClusterResult<T>> ask(
      String kind, ObjectNode body, Function<List<JsonNode>, T> combine) {
    String self = hub.config().node();
    ControlQuery q = new ControlQuery(UUID.randomUUID().toString(), kind, body.toString());
    Gathering all = Gathering.start(self, scheduler, timeoutMillis);
    try {
      // The gathering handles either outcome; nothing else waits on these futures.
      var unusedOwn =
          answer(q)
              .whenComplete(
                  (a, err) -> {
                    if (err == null) {
                      all.answer(self, a);
                    }
                  });
      var unusedOthers =
          bus.ask(q, all::answer)
              .whenComplete(
                  (nodes, err) -> {
                    if (err != null) {
                      all.unreachable();
                    } else {
                      Set<String> expected = new HashSet<>(nodes);
                      expected.remove(self);
                      all.expect(expected);
                    }
                  });
    } catch (RuntimeException e) {
      all.unreachable();
    }
    return all.result()
        .whenComplete((g, e) -> bus.forget(q.id()))
        .thenApply(
            gathered -> {
              List<JsonNode> answers = new ArrayList<>();
              gathered.answers().values().forEach(a -> answers.add(json.parse(a)));
              return new ClusterResult<>(
                  combine.apply(answers),
                  new ArrayList<>(gathered.answers().keySet()),
                  gathered.missing());
            });
  }

  /** This node's answer to a question (its own or another node's). */
  CompletableFuture<String> answer(ControlQuery q) {
    JsonNode body = json.parse(q.body());
    return switch (q.kind()) {
      case CONNECTIONS -> describe(s -> body.path("user").asText().equals(s.userId()));
      case CONNECTION -> describe(s -> body.path("id").asText().equals(s.clientId()));
      case DISCONNECT -> CompletableFuture.completedFuture(count(disconnectHere(body)));
      case UNSUBSCRIBE -> unsubscribeHere(body);
      case CHANNELS -> {
        ArrayNode out = json.array();
        hub.registry()
            .counts(body.path("prefix").asText())
            .forEach((name, n) -> out.add(json.channel(new ChannelInfo(name, n))));
        yield CompletableFuture.completedFuture(out.toString());
      }
      case NODE -> CompletableFuture.completedFuture(json.node(node()).toString());
      default ->
          CompletableFuture.failedFuture(
              new HubException(ErrorCode.BAD_REQUEST, "unknown question " + q.kind()));
    };
  }

  private CompletableFuture<String> describe(Predicate<ClientSession> which) {
    List<CompletableFuture<@Nullable ConnectionInfo>> found = new ArrayList<>();
    for (ClientSession s : hub.sessions()) {
      if (which.test(s)) {
        found.add(s.describe());
      }
    }
    return CompletableFuture.allOf(found.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              List<ConnectionInfo> list = new ArrayList<>();
              for (CompletableFuture<@Nullable ConnectionInfo> f : found) {
                ConnectionInfo c = f.join();
                if (c != null) {
                  list.add(c);
                }
              }
              list.sort(Comparator.comparing(ConnectionInfo::since));
              ArrayNode out = json.array();
              list.forEach(c -> out.add(json.connection(c)));
              return out.toString();
            });
  }

  private int disconnectHere(JsonNode body) {
    boolean reconnect = body.path("reconnect").asBoolean();
    CloseCode code = reconnect ? CloseCode.FORCE_RECONNECT : CloseCode.FORBIDDEN;
    String reason = body.path("reason").asText(code.reason());
    if (body.has("user")) {
      String user = body.path("user").asText();
      Predicate<Principal> hers = p -> user.equals(p.userId());
      // Without reconnect, a connect still authenticating is refused too; with it, the clients
      // must be able to come back at once.
      return reconnect ? hub.disconnect(hers, code, reason) : hub.revoke(hers, code, reason);
    }
    String id = body.path("id").asText();
    int n = 0;
    for (ClientSession s : hub.sessions()) {
      if (id.equals(s.clientId()) && s.principal() != null && !s.isClosed()) {
        s.disconnect(code, reason, 0);
        n++;
      }
    }
    return n;
  }

  private CompletableFuture<String> unsubscribeHere(JsonNode body) {
    String user = body.path("user").asText();
    String channel = body.path("channel").asText();
    List<CompletableFuture<Boolean>> ended = new ArrayList<>();
    for (ClientSession s : hub.sessions()) {
      if (user.equals(s.userId())) {
        ended.add(s.unsubscribeByServer(channel));
      }
    }
    return CompletableFuture.allOf(ended.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              int n = 0;
              for (CompletableFuture<Boolean> f : ended) {
                n += f.join() ? 1 : 0;
              }
              return count(n);
            });
  }

  // ------------------------------------------------------------------ helpers

  /** Turns a refusal of the arguments into a failed future: the API never throws. */
  private static <T> CompletableFuture<T> guarded(
      java.util.function.Supplier<CompletableFuture<T>> call) {
    try {
      return call.get();
    } catch (HubException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private List<ConnectionInfo> connectionList(List<JsonNode> answers) {
    List<ConnectionInfo> out = new ArrayList<>();
    for (JsonNode a : answers) {
      a.forEach(c -> out.add(json.connection(c)));
    }
    return out;
  }

  private String count(int n) {
    return json.object().put("count", n).toString();
  }

  private static Integer sum(List<JsonNode> answers) {
    int n = 0;
    for (JsonNode a : answers) {
      n += a.path("count").asInt();
    }
    return n;
  }

  private static HubException notFound(String connectionId, ClusterResult<?> r) {
    return new HubException(
        ErrorCode.NOT_FOUND,
        "no node holds connection '"
            + connectionId
            + "'"
            + (r.missing().isEmpty()
                ? ""
                : " (nodes that did not answer: " + String.join(", ", r.missing()) + ")"));
  }

  /** A user id or connection id as given, or a {@code 107} failure when it is empty or too long. */
  private static String id(String what, @Nullable String value) {
    if (value == null || value.isEmpty() || value.length() > MAX_ID_LENGTH) {
      throw new HubException(
          ErrorCode.BAD_REQUEST, "a " + what + " must be 1 to " + MAX_ID_LENGTH + " characters");
    }
    return value;
  }
}
