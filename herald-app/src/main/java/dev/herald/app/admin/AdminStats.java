package dev.herald.app.admin;

import dev.herald.app.db.Database;
import dev.herald.core.api.ClusterResult;
import dev.herald.core.hub.HubStats;
import dev.herald.core.limits.WarnLimiter;
import dev.herald.protocol.ClientInfo;
import dev.herald.server.Herald;
import dev.herald.server.fallback.UpgradeDiagnostics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin console's snapshot, built only from Herald's public API and the app's own data:
 *
 * <ul>
 *   <li>totals from {@code herald.hub().stats()} (connections, subscriptions, channels, messages);
 *   <li>per transport: connections <em>authenticated since start</em>, counted by the app's
 *       authenticator (Herald's public API has no live per-transport count yet);
 *   <li>per channel: subscribers of each project channel, from presence (project channels have
 *       presence on); channels of namespaces without presence ({@code user}) are not counted one by
 *       one;
 *   <li>upgrade failures from {@code herald.diagnostics()};
 *   <li>every node of the cluster, from the server API ({@code nodes()}, gathered over Redis).
 * </ul>
 *
 * Published every few seconds on {@link #CHANNEL}, which only admins may subscribe to.
 */
public final class AdminStats {
  private static final Logger log = LoggerFactory.getLogger(AdminStats.class);

  /** The channel the snapshots go out on (namespace {@code admin}, admins only). */
  public static final String CHANNEL = "admin:stats";

  static final int TOP = 10;
  static final int MAX_PROJECT_CHANNELS = 500;
  static final int RECENT_FAILURES = 20;

  private final Database db;
  private final Supplier<Herald> herald;
  private final ChannelNames names;
  private final Map<String, LongAdder> connectsByTransport = new ConcurrentHashMap<>();
  // Says at warn that channels are missing from the console, at most once a minute.
  private final WarnLimiter warnings = new WarnLimiter(60_000, System::currentTimeMillis);
  // Says at warn that the cluster's nodes could not be listed, at most once a minute.
  private final WarnLimiter nodeWarnings = new WarnLimiter(60_000, System::currentTimeMillis);

  public AdminStats(Database db, Supplier<Herald> herald, ChannelNames names) {
    this.db = db;
    this.names = names;
    this.herald = herald;
  }

  /** Counts an authenticated connection (called by the app's authenticator). */
  public void connected(String transport) {
    connectsByTransport
        .computeIfAbsent(transport == null ? "unknown" : transport, k -> new LongAdder())
        .increment();
  }

  /** The snapshot as JSON-ready maps (the same shape for the endpoint and the channel). */
  public Map<String, Object> snapshot() {
    Herald h = herald.get();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("at", Instant.now().toString());
    HubStats s = h.hub().stats();
    out.putAll(nodes(h));
    Map<String, Object> totals = new LinkedHashMap<>();
    totals.put("connections", s.sessions());
    totals.put("authenticated", s.connected());
    totals.put("subscriptions", s.subscriptions());
    totals.put("channels", s.channels());
    totals.put("publications", s.publications());
    totals.put("deliveries", s.deliveries());
    totals.put("slowConsumers", s.slowConsumers());
    out.put("totals", totals);
    Map<String, Long> transports = new java.util.TreeMap<>();
    connectsByTransport.forEach((k, v) -> transports.put(k, v.sum()));
    out.put("connectsByTransport", transports);
    out.put("connectionsByTransport", h.hub().connectionsByTransport());
    ChannelCounts counts = projectChannels(h);
    List<Map<String, Object>> channels = counts.channels();
    Map<String, ChannelNames.Named> named =
        names.names(channels.stream().map(c -> (String) c.get("channel")).toList());
    channels.forEach(c -> c.put("named", named.get((String) c.get("channel"))));
    out.put("channels", channels);
    out.put("topChannels", channels.stream().limit(TOP).toList());
    // Channels whose presence could not be read (e.g. Redis unreachable): not in the lists above.
    Map<String, Object> unreadable = new LinkedHashMap<>();
    unreadable.put("channels", counts.unreadable());
    unreadable.put("reason", counts.reason());
    out.put("unreadableChannels", unreadable);
    UpgradeDiagnostics d = h.diagnostics();
    out.put("upgradeFailureCounts", d.counts());
    out.put(
        "recentUpgradeFailures",
        d.recent().stream()
            .limit(RECENT_FAILURES)
            .map(
                r -> {
                  Map<String, Object> m = new LinkedHashMap<>();
                  m.put("at", r.at().toString());
                  m.put("transport", r.transport());
                  m.put("symptom", r.symptom());
                  m.put("detail", r.detail());
                  m.put("userAgent", r.userAgent());
                  m.put("via", r.via());
                  return m;
                })
            .toList());
    out.put(
        "gaps",
        List.of(
            "Per-channel counts cover project channels (presence); personal user channels are"
                + " only in the totals."));
    return out;
  }

  /**
   * Every node of the cluster that answers ({@code nodes}) and those that did not ({@code
   * missingNodes}); when the cluster cannot be asked at all, this node alone, with the reason.
   */
  private Map<String, Object> nodes(Herald h) {
    try {
      return AdminConsole.nodesOf(h.hub().api().nodes().get(NODES_WAIT_MS, TimeUnit.MILLISECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return thisNodeOnly(h, "interrupted");
    } catch (TimeoutException e) {
      return thisNodeOnly(h, "no answer within " + NODES_WAIT_MS + " ms");
    } catch (ExecutionException | RuntimeException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : null;
      return thisNodeOnly(h, String.valueOf((cause == null ? e : cause).getMessage()));
    }
  }

  private Map<String, Object> thisNodeOnly(Herald h, String reason) {
    long held = nodeWarnings.admit();
    if (held >= 0) {
      log.warn(
          "admin console: the cluster's nodes could not be listed ({}); showing this node only"
              + " ({} earlier reports held back)",
          reason,
          held);
    }
    Map<String, Object> out =
        AdminConsole.nodesOf(
            new ClusterResult<>(
                List.of(h.hub().api().node()), List.of(h.config().hub().node()), List.of()));
    out.put("nodesError", reason);
    return out;
  }

  /**
   * How long a snapshot waits for the cluster's nodes to answer (each answers within its own
   * cluster timeout; this only bounds a snapshot if that fails).
   */
  static final long NODES_WAIT_MS = 10_000;

  private ChannelCounts projectChannels(Herald h) {
    List<Long> ids =
        db.read(
            x ->
                x.createQuery("SELECT id FROM projects ORDER BY id DESC")
                    .setMaxRows(MAX_PROJECT_CHANNELS)
                    .mapTo(Long.class)
                    .list());
    Map<String, CompletableFuture<List<ClientInfo>>> pending = new LinkedHashMap<>();
    for (long id : ids) {
      String channel = "project:" + id;
      pending.put(channel, h.hub().presence(channel));
    }
    ChannelCounts counts = count(pending, PRESENCE_WAIT_MS);
    if (counts.unreadable() > 0) {
      long held = warnings.admit();
      if (held >= 0) {
        log.warn(
            "admin console: presence of {} of {} project channels could not be read ({}); they"
                + " are left out of the channel list ({} earlier reports held back)",
            counts.unreadable(),
            pending.size(),
            counts.reason(),
            held);
      }
    }
    return counts;
  }

  /** How long a snapshot waits for all presence reads together. */
  static final long PRESENCE_WAIT_MS = 2_000;

  /**
   * Subscribers per channel from presence reads, most first; channels whose read failed or did not
   * answer within {@code waitMillis} (one deadline for all) are counted as unreadable, with the
   * first reason, so the console can say its list is incomplete rather than drop them silently.
   */
  static ChannelCounts count(
      Map<String, CompletableFuture<List<ClientInfo>>> pending, long waitMillis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
    List<Map<String, Object>> out = new ArrayList<>();
    int unreadable = 0;
    String reason = null;
    for (Map.Entry<String, CompletableFuture<List<ClientInfo>>> e : pending.entrySet()) {
      List<ClientInfo> clients;
      try {
        clients = e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        clients = null;
        reason = reason == null ? "interrupted" : reason;
      } catch (ExecutionException ex) {
        clients = null;
        Throwable cause = ex.getCause() == null ? ex : ex.getCause();
        reason = reason == null ? String.valueOf(cause.getMessage()) : reason;
      } catch (TimeoutException ex) {
        clients = null;
        reason = reason == null ? "no answer within " + waitMillis + " ms" : reason;
      }
      if (clients == null) {
        unreadable++;
        continue;
      }
      if (clients.isEmpty()) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("channel", e.getKey());
      m.put("subscribers", clients.size());
      m.put("users", clients.stream().map(ClientInfo::user).distinct().count());
      out.add(m);
    }
    out.sort(
        Comparator.comparing((Map<String, Object> m) -> (Integer) m.get("subscribers"))
            .reversed()
            .thenComparing(m -> (String) m.get("channel")));
    return new ChannelCounts(out, unreadable, reason);
  }

  /**
   * Per-channel counts for the console; {@code unreadable} channels (and the first {@code reason})
   * are missing from {@code channels}.
   */
  record ChannelCounts(
      List<Map<String, Object>> channels, int unreadable, @Nullable String reason) {}
}
