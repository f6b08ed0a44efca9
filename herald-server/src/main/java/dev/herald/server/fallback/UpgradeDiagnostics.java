package dev.herald.server.fallback;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * What clients report about transports that failed them (a WebSocket upgrade answered 200 by a
 * proxy, an SSE stream a proxy buffers...): counts by transport and symptom, and the most recent
 * reports for the diagnostics endpoint. Symptoms come from a fixed set, so a client cannot blow up
 * the number of counters; anything else counts as "other".
 */
public final class UpgradeDiagnostics {
  public static final Set<String> TRANSPORTS = Set.of("websocket", "sse", "long-polling");
  public static final Set<String> SYMPTOMS =
      Set.of(
          "handshake-failed",
          "closed-before-open",
          "no-hello",
          "disabled",
          "buffered",
          "no-data",
          "short-lived",
          "other");
  private static final int RECENT = 100;

  /** One report as kept. */
  public record Report(
      Instant at,
      String transport,
      String symptom,
      @Nullable String detail,
      @Nullable String userAgent,
      String remote,
      @Nullable String via) {}

  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final LongAdder refused = new LongAdder();
  private final ArrayDeque<Report> recent = new ArrayDeque<>(); // guarded by itself

  public Report record(
      String transport,
      String symptom,
      @Nullable String detail,
      @Nullable String userAgent,
      String remote,
      @Nullable String via) {
    String t = TRANSPORTS.contains(transport) ? transport : "other";
    String s = SYMPTOMS.contains(symptom) ? symptom : "other";
    counts.computeIfAbsent(t + "/" + s, k -> new LongAdder()).increment();
    Report r =
        new Report(
            Instant.now(), t, s, clip(detail, 300), clip(userAgent, 200), remote, clip(via, 200));
    synchronized (recent) {
      if (recent.size() == RECENT) {
        recent.removeFirst();
      }
      recent.addLast(r);
    }
    return r;
  }

  /** A report (or lag report) was refused by the per-address or per-session limit. */
  public void refused() {
    refused.increment();
  }

  /** Reports refused by the limit so far. */
  public long refusedCount() {
    return refused.sum();
  }

  /** Reports so far for one transport and symptom (as normalised: unknown ones are "other"). */
  public long count(String transport, String symptom) {
    LongAdder a = counts.get(transport + "/" + symptom);
    return a == null ? 0 : a.sum();
  }

  /** Counts keyed "transport/symptom". */
  public Map<String, Long> counts() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Newest first. */
  public List<Report> recent() {
    synchronized (recent) {
      List<Report> out = new ArrayList<>(recent);
      java.util.Collections.reverse(out);
      return out;
    }
  }

  private static @Nullable String clip(@Nullable String s, int max) {
    if (s == null) {
      return null;
    }
    String clean = s.replaceAll("[\\r\\n\\t]", " ");
    return clean.length() <= max ? clean : clean.substring(0, max) + "…";
  }
}
