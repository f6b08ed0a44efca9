package dev.herald.app.admin;

import dev.herald.app.admin.AdminAudit.Action;
import dev.herald.app.admin.AdminAudit.Outcome;
import dev.herald.app.users.User;
import dev.herald.app.users.UserRepository;
import dev.herald.app.web.ApiException;
import dev.herald.app.web.Request;
import dev.herald.core.api.ClusterResult;
import dev.herald.core.api.ConnectionInfo;
import dev.herald.core.api.HistoryPage;
import dev.herald.core.api.NodeInfo;
import dev.herald.core.api.PresenceInfo;
import dev.herald.core.api.ServerApi;
import dev.herald.core.hub.HubException;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What the admin console does, on Herald's server API ({@link ServerApi}, cluster-wide on Redis):
 * find a user's connections, disconnect one or all of them, look at a channel's presence and recent
 * history, publish a test message, list the cluster's nodes. Channels are shown with the app's
 * names ({@link ChannelNames}), users with their display names.
 *
 * <p>Admins only: every method first refuses anyone else with {@code 403}. Every call, refused or
 * not, leaves one audit line ({@link AdminAudit}). Calls block a worker thread (the API's handlers
 * run on workers) for at most {@link #WAIT}; the server API itself answers within its cluster
 * timeout, naming the nodes that did not answer, which the replies pass on as {@code missingNodes}.
 */
public final class AdminConsole {
  /** Publications of a channel's history shown when the request names no limit. */
  public static final int DEFAULT_HISTORY = 20;

  /** The most publications of a channel's history the console shows at once. */
  public static final int MAX_HISTORY = 100;

  /** The longest a console request waits for Herald before answering {@code 504}. */
  static final Duration WAIT = Duration.ofSeconds(15);

  private final Supplier<ServerApi> api;
  private final JsonCodec codec;
  private final ChannelNames names;
  private final UserRepository users;
  private final AdminAudit audit;
  private final Supplier<Object> stats;

  public AdminConsole(
      Supplier<ServerApi> api,
      JsonCodec codec,
      ChannelNames names,
      UserRepository users,
      AdminAudit audit,
      Supplier<Object> stats) {
    this.stats = stats;
    this.api = api;
    this.codec = codec;
    this.names = names;
    this.users = users;
    this.audit = audit;
  }

  /** The details of one audit line, and whether the answer was partial. */
  private static final class Trail {
    final Map<String, @Nullable Object> details = new LinkedHashMap<>();
    String target;
    boolean partial;

    Trail(String target) {
      this.target = target;
    }

    void cluster(ClusterResult<?> r) {
      if (!r.complete()) {
        partial = true;
        details.put("missingNodes", String.join(",", r.missing()));
      }
    }
  }

  @FunctionalInterface
  private interface Work {
    Map<String, Object> run(Trail trail);
  }

  /**
   * Runs one console action for {@code who}: 403 unless an admin, then {@code work}; one audit line
   * whatever happens (refused: 4xx; failed: anything else).
   */
  private Map<String, Object> audited(User who, Action action, String target, Work work) {
    if (!who.isAdmin()) {
      audit.record(who.id(), action, target, Outcome.FORBIDDEN, Map.of());
      throw ApiException.forbidden("The admin console is for administrators only.");
    }
    Trail trail = new Trail(target);
    try {
      Map<String, Object> out = work.run(trail);
      audit.record(
          who.id(),
          action,
          trail.target,
          trail.partial ? Outcome.PARTIAL : Outcome.OK,
          trail.details);
      return out;
    } catch (ApiException e) {
      trail.details.put("error", e.code() + ": " + e.getMessage());
      audit.record(
          who.id(),
          action,
          trail.target,
          e.status() < 500 ? Outcome.REFUSED : Outcome.FAILED,
          trail.details);
      throw e;
    } catch (RuntimeException e) {
      trail.details.put("error", e.toString());
      audit.record(who.id(), action, trail.target, Outcome.FAILED, trail.details);
      throw e;
    }
  }

  /**
   * {@code GET /api/admin/stats}: the live statistics snapshot. Looking at it is not audited (the
   * page polls it when the live channel is off); a refusal is.
   */
  public Object stats(User who) {
    if (!who.isAdmin()) {
      audit.record(who.id(), Action.VIEW_STATS, "-", Outcome.FORBIDDEN, Map.of());
      throw ApiException.forbidden("The admin console is for administrators only.");
    }
    return stats.get();
  }

  // ------------------------------------------------------------------ actions

  /** {@code GET /api/admin/users/:id/connections}: the user's connections on every node. */
  public Map<String, Object> connections(User admin, String userId) {
    return audited(
        admin,
        Action.FIND_CONNECTIONS,
        userId,
        t -> {
          User user = existingUser(userId);
          ClusterResult<List<ConnectionInfo>> r = await(api.get().connections(user.id()));
          t.cluster(r);
          t.details.put("found", r.value().size());
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("user", person(user));
          out.put("connections", describe(r.value()));
          out.put("nodes", r.nodes());
          out.put("missingNodes", r.missing());
          return out;
        });
  }

  /**
   * {@code POST /api/admin/connections/:id/disconnect}: ends one connection wherever it is, with
   * {@code 4007}: the client reconnects at once (and recovers what it missed).
   */
  public Map<String, Object> disconnectConnection(User admin, String connectionId) {
    return audited(
        admin,
        Action.DISCONNECT_CONNECTION,
        connectionId,
        t -> {
          ServerApi a = api.get();
          // Who and where, for the audit line: the connection as it was before it closed.
          ConnectionInfo c = await(a.connection(connectionId)).value();
          t.details.put("user", c.user());
          t.details.put("node", c.node());
          t.details.put("transport", c.transport());
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("connection", connectionId);
          out.put("user", c.user());
          out.put("node", c.node());
          closed(a.disconnectConnection(connectionId, true, REASON), t, out);
          return out;
        });
  }

  /**
   * {@code POST /api/admin/users/:id/disconnect}: ends every connection of the user on every node,
   * with {@code 4007} (their pages reconnect at once).
   */
  public Map<String, Object> disconnectUser(User admin, String userId) {
    return audited(
        admin,
        Action.DISCONNECT_USER,
        userId,
        t -> {
          User user = existingUser(userId);
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("user", person(user));
          closed(api.get().disconnectUser(user.id(), true, REASON), t, out);
          return out;
        });
  }

  /**
   * {@code GET /api/admin/channels/:channel}: the channel's name in the app, who is present (when
   * its namespace has presence) and its most recent publications (when it has history). A part the
   * channel's namespace does not offer is {@code available: false} with the reason, not an error.
   */
  public Map<String, Object> channel(User admin, String channel, @Nullable Long limit) {
    return audited(
        admin,
        Action.VIEW_CHANNEL,
        channel,
        t -> {
          int n = historyLimit(limit);
          ServerApi a = api.get();
          // Both reads at once; each part answers on its own.
          CompletableFuture<PresenceInfo> presence = a.presence(channel);
          CompletableFuture<HistoryPage> history = a.history(channel, n);
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("channel", names.name(channel));
          out.put("presence", part(presence, this::describePresence, t));
          out.put("history", part(history, AdminConsole::describeHistory, t));
          return out;
        });
  }

  /**
   * {@code POST /api/admin/publish}: publishes {@code data} (JSON) to {@code channel}, as a back
   * end would, and answers its position. The app's own pages ignore a message without their event
   * fields (herald.js's {@code sync} reports it and goes on); it shows up in the channel's history.
   */
  public Map<String, Object> publish(User admin, Request request) {
    return audited(
        admin,
        Action.PUBLISH,
        "-",
        t -> {
          String channel = request.string("channel");
          String data = request.rawJson("data");
          t.target = channel == null ? "-" : channel;
          Map<String, String> invalid = new LinkedHashMap<>();
          if (channel == null || channel.isBlank()) {
            invalid.put("channel", "required");
          }
          if (data == null) {
            invalid.put("data", "required: any JSON value");
          }
          if (channel == null || data == null || !invalid.isEmpty()) {
            throw ApiException.invalid(invalid);
          }
          t.details.put("bytes", data.length());
          RawJson json;
          try {
            json = codec.parseRaw(data);
          } catch (ProtocolException e) {
            throw ApiException.invalid(Map.of("data", "not JSON: " + e.getMessage()));
          }
          StreamPosition p = await(api.get().publish(channel, json, null));
          t.details.put("offset", p.offset());
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("channel", names.name(channel));
          out.put("epoch", p.epoch());
          out.put("offset", p.offset());
          return out;
        });
  }

  /** {@code GET /api/admin/nodes}: every node of the cluster that answered. */
  public Map<String, Object> nodes(User admin) {
    return audited(
        admin,
        Action.LIST_NODES,
        "-",
        t -> {
          ClusterResult<List<NodeInfo>> r = await(api.get().nodes());
          t.cluster(r);
          return nodesOf(r);
        });
  }

  /** The cluster's nodes as the console shows them (also in the live statistics). */
  public static Map<String, Object> nodesOf(ClusterResult<List<NodeInfo>> r) {
    List<Map<String, Object>> list = new ArrayList<>();
    for (NodeInfo n : r.value()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", n.name());
      m.put("status", !n.accepting() ? "draining" : n.brokerHealthy() ? "ready" : "broker down");
      m.put("startedAt", n.started().toString());
      m.put("connections", n.connections());
      m.put("users", n.users());
      m.put("subscriptions", n.subscriptions());
      m.put("channels", n.channels());
      m.put("transports", n.transports());
      m.put("publications", n.publications());
      list.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("nodes", list);
    out.put("missingNodes", r.missing());
    return out;
  }

  /** The close reason the disconnected clients are given. */
  static final String REASON = "disconnected by an administrator";

  /**
   * Waits for a disconnect; its count ({@code closed}) and missing nodes to the reply and audit.
   */
  private static void closed(
      CompletableFuture<ClusterResult<Integer>> disconnect, Trail t, Map<String, Object> out) {
    ClusterResult<Integer> r = await(disconnect);
    t.cluster(r);
    t.details.put("closed", r.value());
    out.put("closed", r.value());
    out.put("missingNodes", r.missing());
  }

  // ------------------------------------------------------------------ shaping

  private User existingUser(String userId) {
    return users.find(userId).orElseThrow(() -> ApiException.notFound("User '" + userId + "'"));
  }

  private static Map<String, Object> person(User u) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", u.id());
    m.put("displayName", u.displayName());
    return m;
  }

  /** Connections with their channels named, in one lookup for all of them. */
  private List<Map<String, Object>> describe(List<ConnectionInfo> connections) {
    Set<String> channels = new LinkedHashSet<>();
    connections.forEach(c -> channels.addAll(c.channels()));
    Map<String, ChannelNames.Named> named = names.names(channels);
    List<Map<String, Object>> out = new ArrayList<>();
    for (ConnectionInfo c : connections) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", c.id());
      m.put("user", c.user());
      m.put("transport", c.transport());
      m.put("node", c.node());
      m.put("since", c.since().toString());
      m.put("address", c.address());
      m.put("channels", c.channels().stream().map(named::get).toList());
      out.add(m);
    }
    return out;
  }

  private Map<String, Object> describePresence(PresenceInfo p) {
    Map<String, String> people = new LinkedHashMap<>();
    for (ClientInfo c : p.clients()) {
      people.computeIfAbsent(c.user(), id -> users.find(id).map(User::displayName).orElse(id));
    }
    List<Map<String, Object>> clients = new ArrayList<>();
    for (ClientInfo c : p.clients()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("connection", c.client());
      m.put("user", c.user());
      m.put("displayName", people.getOrDefault(c.user(), c.user()));
      m.put("state", c.state().toString());
      clients.add(m);
    }
    clients.sort(
        java.util.Comparator.comparing((Map<String, Object> m) -> (String) m.get("user"))
            .thenComparing(m -> (String) m.get("connection")));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("connections", p.clients().size());
    out.put("users", people.size());
    out.put("clients", clients);
    return out;
  }

  private static Map<String, Object> describeHistory(HistoryPage h) {
    List<Map<String, Object>> pubs = new ArrayList<>();
    // Newest first: what an operator looks for is usually the last thing sent.
    for (int i = h.publications().size() - 1; i >= 0; i--) {
      Pub p = h.publications().get(i);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("offset", p.offset());
      m.put("at", Instant.ofEpochMilli(p.ts()).toString());
      m.put("user", p.user());
      m.put("data", p.data().toString());
      pubs.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("epoch", h.top().epoch());
    out.put("offset", h.top().offset());
    out.put("publications", pubs);
    return out;
  }

  /**
   * One part of the channel view: {@code {available: true, ...}}, or {@code {available: false,
   * reason}} when the channel's namespace does not offer it (108) or the store cannot be read
   * (115). An invalid channel (102) fails the whole request with 400.
   */
  private static <T> Map<String, Object> part(
      CompletableFuture<T> f, java.util.function.Function<T, Map<String, Object>> shape, Trail t) {
    Map<String, Object> out = new LinkedHashMap<>();
    try {
      T value = await(f);
      out.put("available", true);
      out.putAll(shape.apply(value));
    } catch (ApiException e) {
      if (e.status() == 400 && !e.code().equals("not_available")) {
        throw e;
      }
      t.partial = t.partial || e.status() >= 500;
      out.put("available", false);
      out.put("reason", e.getMessage());
    }
    return out;
  }

  static int historyLimit(@Nullable Long limit) {
    if (limit == null) {
      return DEFAULT_HISTORY;
    }
    if (limit < 1 || limit > MAX_HISTORY) {
      throw ApiException.invalid(Map.of("limit", "from 1 to " + MAX_HISTORY));
    }
    return limit.intValue();
  }

  /**
   * The future's value, waiting at most {@link #WAIT}; Herald's refusals become the app's API
   * errors.
   */
  static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "interrupted", "The server is stopping.", null);
    } catch (TimeoutException e) {
      throw new ApiException(
          504, "timeout", "Herald did not answer within " + WAIT.toSeconds() + " s.", null);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof HubException h) {
        throw translate(h);
      }
      throw new IllegalStateException(cause);
    }
  }

  /** A server API refusal as the app's API error (docs/operations.md, "Admin console"). */
  static ApiException translate(HubException e) {
    ErrorCode code = e.code();
    return switch (code) {
      case UNKNOWN_CHANNEL -> new ApiException(400, "invalid_channel", e.getMessage(), null);
      case BAD_REQUEST -> new ApiException(400, "bad_request", e.getMessage(), null);
      case NOT_AVAILABLE -> new ApiException(400, "not_available", e.getMessage(), null);
      case PAYLOAD_TOO_LARGE -> new ApiException(413, "payload_too_large", e.getMessage(), null);
      case NOT_FOUND -> new ApiException(404, "not_found", e.getMessage(), null);
      case UNAVAILABLE -> new ApiException(503, "unavailable", e.getMessage(), null);
      default ->
          new ApiException(
              502, code.name().toLowerCase(java.util.Locale.ROOT), e.getMessage(), null);
    };
  }
}
