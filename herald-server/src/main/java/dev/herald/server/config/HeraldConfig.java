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
    HttpLimits httpLimits,
    JwtSettings jwt) {

  public HeraldConfig {
    metrics = metrics == null ? MetricsSettings.defaults() : metrics;
    httpLimits = httpLimits == null ? HttpLimits.defaults() : httpLimits;
    jwt = jwt == null ? JwtSettings.defaults() : jwt;
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
        HttpLimits.defaults(),
        JwtSettings.defaults());
  }

  /** Without HTTP limits: {@link HttpLimits#defaults()}. */
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
        HttpLimits.defaults(),
        JwtSettings.defaults());
  }

  /** Without JWT limits: {@link JwtSettings#defaults()}. */
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
      MetricsSettings metrics,
      HttpLimits httpLimits) {
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
        httpLimits,
        JwtSettings.defaults());
  }

  public HeraldConfig withJwt(JwtSettings j) {
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
        httpLimits,
        j);
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
        httpLimits,
        jwt);
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
        httpLimits,
        jwt);
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
        httpLimits,
        jwt);
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
        httpLimits,
        jwt);
  }

  public HeraldConfig withHttpLimits(HttpLimits l) {
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
        l,
        jwt);
  }
}
