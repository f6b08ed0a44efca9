package dev.herald.server.config;

import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.hub.HubConfig;
import java.util.List;

/**
 * The server's effective configuration. Built by {@link ConfigLoader} from a properties file plus
 * environment overrides, or directly by code that embeds Herald. Every key is documented in
 * docs/configuration.md.
 */
public record HeraldConfig(
    String host,
    int port,
    List<String> allowedOrigins,
    boolean websocketEnabled,
    String websocketPath,
    boolean websocketCompression,
    List<String> jwtSecrets,
    String jwtIssuer,
    List<String> apiKeys,
    boolean demoEnabled,
    HubConfig hub,
    List<NamespaceSettings> namespaces,
    HttpTransports http,
    MetricsSettings metrics,
    TransportSettings transport) {

  public HeraldConfig {
    metrics = metrics == null ? MetricsSettings.defaults() : metrics;
    transport = transport == null ? TransportSettings.defaults() : transport;
    allowedOrigins = List.copyOf(allowedOrigins);
    jwtSecrets = List.copyOf(jwtSecrets);
    apiKeys = List.copyOf(apiKeys);
    namespaces = List.copyOf(namespaces);
  }

  /** Without metrics settings: the defaults ({@code /metrics}, enabled). */
  public HeraldConfig(
      String host,
      int port,
      List<String> allowedOrigins,
      boolean websocketEnabled,
      String websocketPath,
      boolean websocketCompression,
      List<String> jwtSecrets,
      String jwtIssuer,
      List<String> apiKeys,
      boolean demoEnabled,
      HubConfig hub,
      List<NamespaceSettings> namespaces,
      HttpTransports http) {
    this(
        host,
        port,
        allowedOrigins,
        websocketEnabled,
        websocketPath,
        websocketCompression,
        jwtSecrets,
        jwtIssuer,
        apiKeys,
        demoEnabled,
        hub,
        namespaces,
        http,
        MetricsSettings.defaults(),
        TransportSettings.defaults());
  }

  /** Without transport settings: the defaults (no write delay). */
  public HeraldConfig(
      String host,
      int port,
      List<String> allowedOrigins,
      boolean websocketEnabled,
      String websocketPath,
      boolean websocketCompression,
      List<String> jwtSecrets,
      String jwtIssuer,
      List<String> apiKeys,
      boolean demoEnabled,
      HubConfig hub,
      List<NamespaceSettings> namespaces,
      HttpTransports http,
      MetricsSettings metrics) {
    this(
        host,
        port,
        allowedOrigins,
        websocketEnabled,
        websocketPath,
        websocketCompression,
        jwtSecrets,
        jwtIssuer,
        apiKeys,
        demoEnabled,
        hub,
        namespaces,
        http,
        metrics,
        TransportSettings.defaults());
  }

  public HeraldConfig withMetrics(MetricsSettings m) {
    return new HeraldConfig(
        host,
        port,
        allowedOrigins,
        websocketEnabled,
        websocketPath,
        websocketCompression,
        jwtSecrets,
        jwtIssuer,
        apiKeys,
        demoEnabled,
        hub,
        namespaces,
        http,
        m,
        transport);
  }

  public HeraldConfig withTransport(TransportSettings t) {
    return new HeraldConfig(
        host,
        port,
        allowedOrigins,
        websocketEnabled,
        websocketPath,
        websocketCompression,
        jwtSecrets,
        jwtIssuer,
        apiKeys,
        demoEnabled,
        hub,
        namespaces,
        http,
        metrics,
        t);
  }

  /** Defaults from an empty configuration. */
  public static HeraldConfig defaults() {
    return ConfigLoader.fromMap(java.util.Map.of(), java.util.Map.of());
  }

  public HeraldConfig withPort(int p) {
    return new HeraldConfig(
        host,
        p,
        allowedOrigins,
        websocketEnabled,
        websocketPath,
        websocketCompression,
        jwtSecrets,
        jwtIssuer,
        apiKeys,
        demoEnabled,
        hub,
        namespaces,
        http,
        metrics,
        transport);
  }

  public HeraldConfig withHub(HubConfig h) {
    return new HeraldConfig(
        host,
        port,
        allowedOrigins,
        websocketEnabled,
        websocketPath,
        websocketCompression,
        jwtSecrets,
        jwtIssuer,
        apiKeys,
        demoEnabled,
        h,
        namespaces,
        http,
        metrics,
        transport);
  }

  public HeraldConfig withCredentials(List<String> secrets, List<String> keys) {
    return new HeraldConfig(
        host,
        port,
        allowedOrigins,
        websocketEnabled,
        websocketPath,
        websocketCompression,
        secrets,
        jwtIssuer,
        keys,
        demoEnabled,
        hub,
        namespaces,
        http,
        metrics,
        transport);
  }
}
