package dev.herald.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

  @Test
  void defaultsAreSafe() {
    HeraldConfig c = HeraldConfig.defaults();
    assertThat(c.host()).isEqualTo("127.0.0.1");
    assertThat(c.websocketEnabled()).isTrue();
    assertThat(c.websocketCompression()).isFalse();
    assertThat(c.allowedOrigins()).isEmpty();
    assertThat(c.demoEnabled()).isFalse();
    assertThat(c.hub().maxMessageBytes()).isEqualTo(65_536);
  }

  @Test
  void abuseLimitsHaveSafeDefaultsAndAreConfigurable() {
    HeraldConfig d = HeraldConfig.defaults();
    assertThat(d.hub().abuse())
        .isEqualTo(new dev.herald.core.hub.HubConfig.AbuseLimits(100, 200, 100, 5000));
    assertThat(d.httpLimits()).isEqualTo(dev.herald.server.config.HttpLimits.defaults());

    HeraldConfig c =
        ConfigLoader.fromMap(
            Map.of(
                "limits.messages-per-second", "0",
                "limits.connections-per-address", "0",
                "limits.http-sessions", "50",
                "server.request-timeout", "3s"),
            Map.of("HERALD_LIMITS_CONNECTIONS_PER_USER", "7", "HERALD_SERVER_IDLE_TIMEOUT", "5m"));
    assertThat(c.hub().abuse().messagesPerSecond()).isZero();
    assertThat(c.hub().abuse().connectionsPerAddress()).isZero();
    assertThat(c.hub().abuse().connectionsPerUser()).isEqualTo(7);
    assertThat(c.httpLimits().maxHttpSessions()).isEqualTo(50);
    assertThat(c.httpLimits().requestTimeout()).isEqualTo(java.time.Duration.ofSeconds(3));
    assertThat(c.httpLimits().idleTimeout()).isEqualTo(java.time.Duration.ofMinutes(5));

    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                ConfigLoader.fromMap(
                    Map.of(
                        "limits.message-burst", "0",
                        "limits.http-sessions", "0",
                        "server.request-timeout", "0",
                        "server.idle-timeout", "20s"),
                    Map.of()));
    assertThat(e.problems())
        .anyMatch(p -> p.startsWith("limits.message-burst"))
        .anyMatch(p -> p.startsWith("limits.http-sessions"))
        .anyMatch(p -> p.startsWith("server.request-timeout"))
        .anyMatch(p -> p.startsWith("server.idle-timeout must be longer than longpoll.timeout"));
  }

  @Test
  void writeDelayIsOffByDefaultAndBounded() {
    assertThat(HeraldConfig.defaults().hub().writeDelay()).isZero();
    assertThat(
            ConfigLoader.fromMap(Map.of(), Map.of("HERALD_TRANSPORT_WRITE_DELAY", "5ms"))
                .hub()
                .writeDelay())
        .isEqualTo(Duration.ofMillis(5));
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () -> ConfigLoader.fromMap(Map.of("transport.write-delay", "1s"), Map.of()));
    assertThat(e.getMessage()).contains("transport.write-delay: '1s' must be at most 100ms");
  }

  @Test
  void oneEventLoopPerCoreByDefault() {
    assertThat(HeraldConfig.defaults().transport().effectiveEventLoops())
        .isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(
            ConfigLoader.fromMap(Map.of("server.event-loops", "1"), Map.of())
                .transport()
                .effectiveEventLoops())
        .isEqualTo(1);
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () -> ConfigLoader.fromMap(Map.of("server.event-loops", "-1"), Map.of()));
    assertThat(e.getMessage()).contains("server.event-loops");
  }

  @Test
  void jwtLimitsDefaultToADayAndAnyAudience() {
    assertThat(HeraldConfig.defaults().jwt())
        .isEqualTo(new JwtSettings(java.time.Duration.ofHours(24), null));
    HeraldConfig c =
        ConfigLoader.fromMap(
            Map.of("auth.jwt.max-lifetime", "1h"), Map.of("HERALD_AUTH_JWT_AUDIENCE", "rt"));
    assertThat(c.jwt()).isEqualTo(new JwtSettings(java.time.Duration.ofHours(1), "rt"));
  }

  @Test
  void idleTimeoutMustOutlastAHeartbeatRound() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                ConfigLoader.fromMap(
                    Map.of(
                        "server.idle-timeout", "60s",
                        "longpoll.timeout", "20s",
                        "heartbeat.interval", "50s",
                        "heartbeat.timeout", "10s"),
                    Map.of()));
    assertThat(e.problems())
        .singleElement()
        .satisfies(
            p ->
                assertThat(p)
                    .startsWith(
                        "server.idle-timeout must be longer than heartbeat.interval +"
                            + " heartbeat.timeout"));
    assertThat(
            ConfigLoader.fromMap(
                    Map.of(
                        "server.idle-timeout", "61s",
                        "longpoll.timeout", "20s",
                        "heartbeat.interval", "50s",
                        "heartbeat.timeout", "10s"),
                    Map.of())
                .httpLimits()
                .idleTimeout())
        .hasSeconds(61);
  }

  @Test
  void environmentOverridesTheFile() {
    HeraldConfig c =
        ConfigLoader.fromMap(
            Map.of(
                "websocket.enabled",
                "true",
                "namespaces",
                "project",
                "namespace.project.history-size",
                "10"),
            Map.of(
                "HERALD_WEBSOCKET_ENABLED",
                "false",
                "HERALD_NAMESPACE_PROJECT_HISTORY_SIZE",
                "50",
                "HERALD_HEARTBEAT_INTERVAL",
                "5s"));
    assertThat(c.websocketEnabled()).isFalse();
    assertThat(c.namespaces().get(0).historySize()).isEqualTo(50);
    assertThat(c.hub().pingInterval()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void everyMistakeIsReportedAtOnceWithAHint() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                ConfigLoader.fromMap(
                    Map.of(
                        "websocket.enabeld", "false",
                        "server.port", "99999",
                        "heartbeat.interval", "soon",
                        "auth.jwt.secrets", "short",
                        "server.allowed-origins", "example.com/path",
                        "namespace.ghost.presence", "true"),
                    Map.of()));
    assertThat(e.problems()).hasSize(6);
    assertThat(e.getMessage())
        .contains("unknown key 'websocket.enabeld' (did you mean 'websocket.enabled'?)")
        .contains("server.port: '99999' is not an integer from 0 to 65535")
        .contains("heartbeat.interval: 'soon' is not a duration")
        .contains("secret #1 is shorter than 32 bytes")
        .contains("'example.com/path' is not an origin")
        .contains("namespace 'ghost' is not listed in 'namespaces'");
  }

  @Test
  void rangesThatWouldFailLaterAreRefusedUpFront() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                ConfigLoader.fromMap(
                    Map.of(
                        "heartbeat.interval", "0",
                        "connect.timeout", "0s",
                        "heartbeat.timeout", "9999999999999d",
                        "limits.outbox-bytes", "2048",
                        "namespaces", "p",
                        "namespace.p.history-ttl", "0"),
                    Map.of()));
    assertThat(e.getMessage())
        .contains("heartbeat.interval: must be above 0")
        .contains("connect.timeout: must be above 0")
        .contains("heartbeat.timeout: '9999999999999d' is not a duration from 0 to 3650d")
        .contains("limits.outbox-bytes (2048) must be at least twice limits.max-publish-bytes")
        .contains("namespace.p.history-ttl must be above 0");
  }

  @Test
  void misspelledEnvironmentVariablesAreReported() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                ConfigLoader.fromMap(
                    Map.of(), Map.of("HERALD_WEBSOCKET_ENABLD", "false", "PATH", "/bin")));
    assertThat(e.getMessage())
        .contains(
            "unknown environment variable HERALD_WEBSOCKET_ENABLD (did you mean HERALD_WEBSOCKET_ENABLED?)");
  }

  @Test
  void defaultNamespaceNameMapsToChannelsWithoutColon() {
    HeraldConfig c = ConfigLoader.fromMap(Map.of("namespaces", "default"), Map.of());
    assertThat(c.namespaces().get(0).name()).isEmpty();
  }

  @Test
  void describeMasksSecrets() {
    Map<String, String> d =
        ConfigLoader.describe(
            Map.of(
                "auth.jwt.secrets",
                "0123456789abcdef0123456789abcdef",
                "publish.api-keys",
                "key-key-key-key-key"),
            Map.of(),
            true);
    assertThat(d.get("auth.jwt.secrets")).isEqualTo("****");
    assertThat(d.get("publish.api-keys")).isEqualTo("****");
    assertThat(d.get("server.port")).isEqualTo("8080");
  }

  @Test
  void everyValueSaysWhereItCameFrom() {
    Map<String, ConfigLoader.Setting> s =
        ConfigLoader.sources(
            Map.of("server.port", "9000", "node.name", "from-file", "publish.api-keys", "k-1"),
            Map.of("HERALD_NODE_NAME", "from-env", "HERALD_LOGGING_FORMAT", "json"),
            Map.of("logging.format", "text"),
            true);
    assertThat(s.get("server.port"))
        .isEqualTo(new ConfigLoader.Setting("9000", ConfigLoader.Source.FILE, null));
    assertThat(s.get("node.name"))
        .isEqualTo(
            new ConfigLoader.Setting(
                "from-env", ConfigLoader.Source.ENVIRONMENT, "HERALD_NODE_NAME"));
    assertThat(s.get("logging.format").source()).isEqualTo(ConfigLoader.Source.ENVIRONMENT);
    assertThat(s.get("server.host"))
        .isEqualTo(new ConfigLoader.Setting("127.0.0.1", ConfigLoader.Source.DEFAULT, null));
    assertThat(s.get("publish.api-keys").value()).isEqualTo("****");
    assertThat(new java.util.ArrayList<>(s.keySet())).isSorted();

    List<String> lines = ConfigLoader.render(s, "/etc/herald/herald.properties");
    assertThat(lines)
        .anyMatch(l -> l.matches("node\\.name=from-env +# environment HERALD_NODE_NAME"))
        .anyMatch(l -> l.matches("server\\.port=9000 +# file /etc/herald/herald\\.properties"))
        .anyMatch(l -> l.matches("server\\.host=127\\.0\\.0\\.1 +# default"));
    // Aligned: every comment starts in the same column.
    assertThat(lines.stream().map(l -> l.indexOf("  # ")).distinct()).hasSize(1);
  }

  @Test
  void parsesDurations() {
    assertThat(ConfigLoader.parseDuration("250")).isEqualTo(Duration.ofMillis(250));
    assertThat(ConfigLoader.parseDuration("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(ConfigLoader.parseDuration("7d")).isEqualTo(Duration.ofDays(7));
  }

  @Test
  void trustedProxiesAreEmptyByDefaultParsedAndValidated() {
    assertThat(HeraldConfig.defaults().proxies().trustedProxies()).isEmpty();
    HeraldConfig c =
        ConfigLoader.fromMap(
            Map.of("server.trusted-proxies", "127.0.0.1, 10.0.0.0/8"),
            Map.of("HERALD_SERVER_TRUSTED_PROXIES", "::1,fd00::/8"));
    assertThat(c.proxies().trustedProxies()).containsExactly("::1", "fd00::/8");
    assertThat(c.proxies().resolver().trusts("fd00::5")).isTrue();

    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                ConfigLoader.fromMap(
                    Map.of("server.trusted-proxies", "proxy.internal, 10.0.0.0/40"), Map.of()));
    assertThat(e.getMessage())
        .contains("server.trusted-proxies: 'proxy.internal', '10.0.0.0/40' not an IP address");
  }
}
