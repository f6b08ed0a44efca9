package dev.herald.server.metrics;

import dev.herald.core.hub.Hub;
import dev.herald.core.hub.HubMetrics;
import dev.herald.server.fallback.UpgradeDiagnostics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Herald's Prometheus metrics (Micrometer): the hub's hooks, gauges read from the hub at scrape
 * time, transport failure reports, client-reported lag, HTTP request counts and the JVM. Series are
 * listed in docs/configuration.md ("Metrics").
 *
 * <p>Every label takes values from a small fixed set (transport names, close code names, symptoms,
 * route patterns), never from client input as such.
 */
public final class HeraldMetrics implements HubMetrics, AutoCloseable {
  static final List<String> TRANSPORTS = List.of("websocket", "sse", "long-polling");

  private final PrometheusMeterRegistry prometheus;

  /**
   * Where Herald's own meters are registered: the Prometheus registry, plus the application's
   * registry when one is joined (a composite forwards each meter to both).
   */
  private final MeterRegistry registry;

  private final @Nullable MeterRegistry joined;
  private final Map<String, AtomicLong> connections = new ConcurrentHashMap<>();
  private final Map<String, Counter> connects = new ConcurrentHashMap<>();
  private final Map<String, Counter> disconnects = new ConcurrentHashMap<>();
  private final Map<String, Counter> slowConsumers = new ConcurrentHashMap<>();
  private final Counter subscribes;
  private final Counter unsubscribes;
  private final Counter publications;
  private final Counter deliveries;
  private final Map<HubMetrics.Recovery, Counter> recoveries =
      new EnumMap<>(HubMetrics.Recovery.class);
  private final Timer deliveryLatency;
  private final Timer clientLag;
  private @Nullable JvmGcMetrics gc; // bound by bindJvm

  public HeraldMetrics() {
    this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  public HeraldMetrics(PrometheusMeterRegistry prometheus) {
    this(prometheus, null);
  }

  /**
   * Herald's metrics, also registered in {@code joined} (the application's registry, e.g. Spring
   * Boot Actuator's) when it is not null. Only Herald's own {@code herald.*} meters go there: the
   * JVM binders of {@link #bindJvm} stay in Herald's Prometheus registry, since the application
   * binds its own. {@link #close} removes them from {@code joined} again.
   */
  public HeraldMetrics(PrometheusMeterRegistry prometheus, @Nullable MeterRegistry joined) {
    this.prometheus = prometheus;
    this.joined = joined;
    if (joined == null) {
      this.registry = prometheus;
    } else {
      CompositeMeterRegistry both = new CompositeMeterRegistry();
      both.add(prometheus);
      both.add(joined);
      this.registry = both;
    }
    for (String t : TRANSPORTS) {
      connectionGauge(t);
      connectsCounter(t);
      slowCounter(t);
    }
    subscribes =
        Counter.builder("herald.subscribes")
            .description("Subscriptions that went live")
            .register(registry);
    unsubscribes =
        Counter.builder("herald.unsubscribes")
            .description("Subscriptions ended (unsubscribe or disconnect)")
            .register(registry);
    publications =
        Counter.builder("herald.publications")
            .description("Publications received by this node's hub")
            .register(registry);
    deliveries =
        Counter.builder("herald.deliveries")
            .description("Publications queued to local subscribers (one per subscriber)")
            .register(registry);
    for (HubMetrics.Recovery r : HubMetrics.Recovery.values()) {
      recoveries.put(
          r,
          Counter.builder("herald.recoveries")
              .description("Subscribe requests by recovery outcome (history hit or miss)")
              .tag("outcome", r.name().toLowerCase(Locale.ROOT))
              .register(registry));
    }
    deliveryLatency =
        Timer.builder("herald.delivery.latency")
            .description(
                "Server-side latency from publication to the write of its batch (oldest per batch)")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofSeconds(60))
            .register(registry);
    clientLag =
        Timer.builder("herald.client.delivery.lag")
            .description(
                "End-to-end delivery lag (publication to client receive) reported by clients")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofMinutes(10))
            .register(registry);
  }

  /** Binds the JVM and process metrics (memory, GC, threads, classes, CPU, uptime). */
  public HeraldMetrics bindJvm() {
    new JvmMemoryMetrics().bindTo(prometheus);
    JvmGcMetrics g = new JvmGcMetrics();
    g.bindTo(prometheus);
    gc = g;
    new JvmThreadMetrics().bindTo(prometheus);
    new ClassLoaderMetrics().bindTo(prometheus);
    new ProcessorMetrics().bindTo(prometheus);
    new UptimeMetrics().bindTo(prometheus);
    return this;
  }

  /** Gauges read from the hub when scraped. */
  public HeraldMetrics bindHub(Hub hub) {
    Gauge.builder("herald.subscriptions", hub, h -> h.stats().subscriptions())
        .description("Live subscriptions on this node")
        .register(registry);
    Gauge.builder("herald.channels", hub, h -> h.stats().channels())
        .description("Channels with at least one local subscriber")
        .register(registry);
    Gauge.builder("herald.sessions", hub, h -> h.stats().sessions())
        .description("Sessions on this node, connected or not yet")
        .register(registry);
    Gauge.builder("herald.outbox.bytes", hub, h -> h.outboxStats().totalBytes())
        .description("Bytes waiting in all outbound queues")
        .register(registry);
    Gauge.builder("herald.outbox.max.bytes", hub, h -> h.outboxStats().maxBytes())
        .description("Bytes waiting in the fullest outbound queue")
        .register(registry);
    return this;
  }

  /** Broker health: 1 up, 0 down. */
  public HeraldMetrics bindBroker(BooleanSupplier healthy) {
    Gauge.builder("herald.broker.up", healthy, h -> h.getAsBoolean() ? 1 : 0)
        .description("1 when the broker is healthy (always 1 for the in-memory broker)")
        // Micrometer holds gauge state weakly; the supplier is often a lambda nobody else keeps,
        // and once collected the gauge reads NaN.
        .strongReference(true)
        .register(registry);
    return this;
  }

  /** Transport failures reported by clients, by transport and symptom. */
  public HeraldMetrics bindDiagnostics(UpgradeDiagnostics diagnostics) {
    List<String> transports = new java.util.ArrayList<>(UpgradeDiagnostics.TRANSPORTS);
    transports.add("other");
    for (String t : transports) {
      for (String s : UpgradeDiagnostics.SYMPTOMS) {
        FunctionCounter.builder("herald.transport.failures", diagnostics, d -> d.count(t, s))
            .description("Transport failures (upgrade, buffering...) reported by clients")
            .tag("transport", t)
            .tag("symptom", s)
            .register(registry);
      }
    }
    return this;
  }

  public PrometheusMeterRegistry registry() {
    return prometheus;
  }

  /** Where Herald's meters are registered (the Prometheus registry and the joined one, if any). */
  public MeterRegistry meters() {
    return registry;
  }

  /** The Prometheus text exposition. */
  public String scrape() {
    return prometheus.scrape();
  }

  /** A client-reported end-to-end delivery lag sample. */
  public void clientLag(long millis) {
    clientLag.record(millis, TimeUnit.MILLISECONDS);
  }

  // ------------------------------------------------------------------ HubMetrics

  @Override
  public void connected(String transport) {
    connectionGauge(transport).incrementAndGet();
    connectsCounter(transport).increment();
  }

  @Override
  public void disconnected(String transport, boolean wasConnected, int code, String reason) {
    if (wasConnected) {
      connectionGauge(transport).decrementAndGet();
    }
    String key = transport + "/" + reason;
    Counter c = disconnects.get(key);
    if (c == null) {
      c =
          disconnects.computeIfAbsent(
              key,
              k ->
                  Counter.builder("herald.disconnects")
                      .description("Ended sessions by transport and reason")
                      .tag("transport", transport)
                      .tag("reason", reason)
                      .register(registry));
    }
    c.increment();
  }

  @Override
  public void subscribed() {
    subscribes.increment();
  }

  @Override
  public void unsubscribed() {
    unsubscribes.increment();
  }

  @Override
  public void published() {
    publications.increment();
  }

  @Override
  public void delivered(int count) {
    deliveries.increment(count);
  }

  @Override
  public void slowConsumer(String transport) {
    slowCounter(transport).increment();
  }

  @Override
  public void recovery(HubMetrics.Recovery outcome) {
    // Every outcome has its counter (see the constructor).
    Objects.requireNonNull(recoveries.get(outcome)).increment();
  }

  @Override
  public void deliveryLatency(long millis) {
    deliveryLatency.record(millis, TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    JvmGcMetrics g = gc;
    if (g != null) {
      g.close();
    }
    MeterRegistry joined = this.joined;
    if (joined != null) {
      // Not registry.close(): a composite closes its members, and the joined one is not ours.
      for (Meter m : registry.getMeters()) {
        joined.remove(m.getId());
      }
    }
    prometheus.close();
  }

  private AtomicLong connectionGauge(String transport) {
    AtomicLong g = connections.get(transport);
    if (g != null) {
      return g;
    }
    return connections.computeIfAbsent(
        transport,
        t -> {
          AtomicLong v = new AtomicLong();
          Gauge.builder("herald.connections", v, AtomicLong::get)
              .description("Connected clients by transport")
              .tag("transport", t)
              .register(registry);
          return v;
        });
  }

  private Counter connectsCounter(String transport) {
    Counter c = connects.get(transport);
    return c != null
        ? c
        : connects.computeIfAbsent(
            transport,
            t ->
                Counter.builder("herald.connects")
                    .description("Completed connects by transport")
                    .tag("transport", t)
                    .register(registry));
  }

  private Counter slowCounter(String transport) {
    Counter c = slowConsumers.get(transport);
    return c != null
        ? c
        : slowConsumers.computeIfAbsent(
            transport,
            t ->
                Counter.builder("herald.slow.consumers")
                    .description("Connections closed as slow consumers (4003)")
                    .tag("transport", t)
                    .register(registry));
  }
}
