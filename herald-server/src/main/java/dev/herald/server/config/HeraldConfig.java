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
    ClusterSettings cluster,
    TransportSettings transport,
    ProxySettings proxies,
    JwtSettings jwt) {

  public HeraldConfig {
    metrics = metrics == null ? MetricsSettings.defaults() : metrics;
    httpLimits = httpLimits == null ? HttpLimits.defaults() : httpLimits;
    cluster = cluster == null ? ClusterSettings.defaults() : cluster;
    transport = transport == null ? TransportSettings.defaults() : transport;
    proxies = proxies == null ? ProxySettings.none() : proxies;
    jwt = jwt == null ? JwtSettings.defaults() : jwt;
    allowedOrigins = List.copyOf(allowedOrigins);
    jwtSecrets = List.copyOf(jwtSecrets);
    apiKeys = List.copyOf(apiKeys);
    namespaces = List.copyOf(namespaces);
  }

  /** With defaults for the metrics, HTTP limits, cluster, transport, proxy and JWT settings. */
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
        ClusterSettings.defaults(),
        TransportSettings.defaults(),
        ProxySettings.none(),
        JwtSettings.defaults());
  }

  /** Defaults from an empty configuration. */
  public static HeraldConfig defaults() {
    return ConfigLoader.fromMap(java.util.Map.of(), java.util.Map.of());
  }

  public HeraldConfig withPort(int p) {
    return toBuilder().port(p).build();
  }

  public HeraldConfig withHub(HubConfig h) {
    return toBuilder().hub(h).build();
  }

  public HeraldConfig withCredentials(List<String> secrets, List<String> keys) {
    return toBuilder().jwtSecrets(secrets).apiKeys(keys).build();
  }

  public HeraldConfig withMetrics(MetricsSettings m) {
    return toBuilder().metrics(m).build();
  }

  public HeraldConfig withHttpLimits(HttpLimits l) {
    return toBuilder().httpLimits(l).build();
  }

  public HeraldConfig withCluster(ClusterSettings c) {
    return toBuilder().cluster(c).build();
  }

  public HeraldConfig withTransport(TransportSettings t) {
    return toBuilder().transport(t).build();
  }

  public HeraldConfig withProxies(ProxySettings p) {
    return toBuilder().proxies(p).build();
  }

  public HeraldConfig withJwt(JwtSettings j) {
    return toBuilder().jwt(j).build();
  }

  /** A builder starting from these settings. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Changes some settings of an existing configuration. */
  public static final class Builder {
    private String host;
    private int port;
    private List<String> allowedOrigins;
    private boolean websocketEnabled;
    private String websocketPath;
    private boolean websocketCompression;
    private List<String> jwtSecrets;
    private String jwtIssuer;
    private List<String> apiKeys;
    private boolean demoEnabled;
    private HubConfig hub;
    private List<NamespaceSettings> namespaces;
    private HttpTransports http;
    private MetricsSettings metrics;
    private HttpLimits httpLimits;
    private ClusterSettings cluster;
    private TransportSettings transport;
    private ProxySettings proxies;
    private JwtSettings jwt;

    private Builder(HeraldConfig c) {
      host = c.host;
      port = c.port;
      allowedOrigins = c.allowedOrigins;
      websocketEnabled = c.websocketEnabled;
      websocketPath = c.websocketPath;
      websocketCompression = c.websocketCompression;
      jwtSecrets = c.jwtSecrets;
      jwtIssuer = c.jwtIssuer;
      apiKeys = c.apiKeys;
      demoEnabled = c.demoEnabled;
      hub = c.hub;
      namespaces = c.namespaces;
      http = c.http;
      metrics = c.metrics;
      httpLimits = c.httpLimits;
      cluster = c.cluster;
      transport = c.transport;
      proxies = c.proxies;
      jwt = c.jwt;
    }

    public Builder host(String v) {
      host = v;
      return this;
    }

    public Builder port(int v) {
      port = v;
      return this;
    }

    public Builder allowedOrigins(List<String> v) {
      allowedOrigins = v;
      return this;
    }

    public Builder websocketEnabled(boolean v) {
      websocketEnabled = v;
      return this;
    }

    public Builder websocketPath(String v) {
      websocketPath = v;
      return this;
    }

    public Builder websocketCompression(boolean v) {
      websocketCompression = v;
      return this;
    }

    public Builder jwtSecrets(List<String> v) {
      jwtSecrets = v;
      return this;
    }

    public Builder jwtIssuer(String v) {
      jwtIssuer = v;
      return this;
    }

    public Builder apiKeys(List<String> v) {
      apiKeys = v;
      return this;
    }

    public Builder demoEnabled(boolean v) {
      demoEnabled = v;
      return this;
    }

    public Builder hub(HubConfig v) {
      hub = v;
      return this;
    }

    public Builder namespaces(List<NamespaceSettings> v) {
      namespaces = v;
      return this;
    }

    public Builder http(HttpTransports v) {
      http = v;
      return this;
    }

    public Builder metrics(MetricsSettings v) {
      metrics = v;
      return this;
    }

    public Builder httpLimits(HttpLimits v) {
      httpLimits = v;
      return this;
    }

    public Builder cluster(ClusterSettings v) {
      cluster = v;
      return this;
    }

    public Builder transport(TransportSettings v) {
      transport = v;
      return this;
    }

    public Builder proxies(ProxySettings v) {
      proxies = v;
      return this;
    }

    public Builder jwt(JwtSettings v) {
      jwt = v;
      return this;
    }

    public HeraldConfig build() {
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
          cluster,
          transport,
          proxies,
          jwt);
    }
  }
}
