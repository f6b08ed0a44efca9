package dev.herald.server.config;

/**
 * The Prometheus endpoint.
 *
 * @param enabled whether {@code path} serves the metrics (and the hub records them)
 * @param path where Prometheus scrapes, e.g. {@code /metrics}
 */
public record MetricsSettings(boolean enabled, String path) {
  public static MetricsSettings defaults() {
    return new MetricsSettings(true, "/metrics");
  }
}
