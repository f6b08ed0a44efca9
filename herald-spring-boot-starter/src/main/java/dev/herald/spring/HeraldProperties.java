package dev.herald.spring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Herald's settings in a Spring Boot application: the {@code herald.*} properties. The common
 * settings have their own properties (with IDE completion); any other key of docs/configuration.md
 * goes under {@code herald.config.*} with its name unchanged, e.g. {@code
 * herald.config.limits.max-publish-bytes=16384}. Environment variables bind as usual in Spring
 * ({@code HERALD_SERVER_PORT} is {@code herald.server.port}).
 */
@ConfigurationProperties("herald")
public class HeraldProperties {
  /** Whether to start Herald with the application. */
  private boolean enabled = true;

  private final Server server = new Server();

  /**
   * Channel namespaces the application uses (channels "name:id"); a channel of an undeclared
   * namespace is refused.
   */
  private List<String> namespaces = new ArrayList<>();

  /**
   * Per-namespace options of docs/configuration.md, e.g. herald.namespace.project.history-size=100
   * (the key namespace.project.history-size).
   */
  private Map<String, Map<String, String>> namespace = new LinkedHashMap<>();

  /** This node's name, reported to clients in the connect result. */
  private @Nullable String nodeName;

  private final Metrics metrics = new Metrics();

  private final Session session = new Session();

  /**
   * Any other key of docs/configuration.md, with its name unchanged: herald.config.limits.
   * max-publish-bytes=16384 sets limits.max-publish-bytes.
   */
  private Map<String, String> config = new LinkedHashMap<>();

  /** Herald's own listener: it serves its endpoints on a port of its own. */
  public static class Server {
    /** Address Herald listens on; 0.0.0.0 for all interfaces. */
    private String host = "127.0.0.1";

    /**
     * Herald's port, apart from the application's (server.port); 0 picks a free one. Browsers send
     * the application's cookies to it: cookies are per host, not per port.
     */
    private int port = 8081;

    /**
     * Browser origins, besides Herald's own, that may open connections: the application's pages are
     * on another port, so their origin (e.g. http://localhost:8080) belongs here.
     */
    private List<String> allowedOrigins = new ArrayList<>();

    public String getHost() {
      return host;
    }

    public void setHost(String host) {
      this.host = host;
    }

    public int getPort() {
      return port;
    }

    public void setPort(int port) {
      this.port = port;
    }

    public List<String> getAllowedOrigins() {
      return allowedOrigins;
    }

    public void setAllowedOrigins(List<String> allowedOrigins) {
      this.allowedOrigins = allowedOrigins;
    }
  }

  /** Herald's metrics. */
  public static class Metrics {
    /**
     * Records Herald's metrics, serves them at Herald's /metrics and, with Actuator, registers the
     * herald.* meters in the application's MeterRegistry.
     */
    private boolean enabled = true;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }
  }

  /** Authentication from the application's Spring Security session. */
  public static class Session {
    /**
     * Authenticate connections with the Spring Security context of the servlet session their
     * handshake's cookie names. Off, or when the application defines its own Authenticator bean,
     * Herald uses that bean or its JWT settings (herald.config.auth.jwt.*).
     */
    private boolean enabled = true;

    /** The servlet session cookie (server.servlet.session.cookie.name). */
    private String cookieName = "JSESSIONID";

    /** Close a session's connections (code 4501) when the session ends (logout, expiry). */
    private boolean disconnectOnEnd = true;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getCookieName() {
      return cookieName;
    }

    public void setCookieName(String cookieName) {
      this.cookieName = cookieName;
    }

    public boolean isDisconnectOnEnd() {
      return disconnectOnEnd;
    }

    public void setDisconnectOnEnd(boolean disconnectOnEnd) {
      this.disconnectOnEnd = disconnectOnEnd;
    }
  }

  /**
   * The keys of docs/configuration.md these properties stand for, checked by Herald's {@code
   * ConfigLoader} (which reports every mistake at once).
   */
  public Map<String, String> toConfigKeys() {
    Map<String, String> keys = new LinkedHashMap<>(config);
    keys.put("server.host", server.host);
    keys.put("server.port", Integer.toString(server.port));
    if (!server.allowedOrigins.isEmpty()) {
      keys.put("server.allowed-origins", String.join(",", server.allowedOrigins));
    }
    if (!namespaces.isEmpty()) {
      keys.put("namespaces", String.join(",", namespaces));
    }
    namespace.forEach(
        (name, options) -> options.forEach((k, v) -> keys.put("namespace." + name + "." + k, v)));
    if (nodeName != null) {
      keys.put("node.name", nodeName);
    }
    keys.put("metrics.enabled", Boolean.toString(metrics.enabled));
    return keys;
  }

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public Server getServer() {
    return server;
  }

  public List<String> getNamespaces() {
    return namespaces;
  }

  public void setNamespaces(List<String> namespaces) {
    this.namespaces = namespaces;
  }

  public Map<String, Map<String, String>> getNamespace() {
    return namespace;
  }

  public void setNamespace(Map<String, Map<String, String>> namespace) {
    this.namespace = namespace;
  }

  public @Nullable String getNodeName() {
    return nodeName;
  }

  public void setNodeName(@Nullable String nodeName) {
    this.nodeName = nodeName;
  }

  public Metrics getMetrics() {
    return metrics;
  }

  public Session getSession() {
    return session;
  }

  public Map<String, String> getConfig() {
    return config;
  }

  public void setConfig(Map<String, String> config) {
    this.config = config;
  }
}
