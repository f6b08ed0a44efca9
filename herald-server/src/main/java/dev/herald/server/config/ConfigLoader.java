package dev.herald.server.config;

import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.hub.HubConfig;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads configuration from a properties file, then applies environment overrides: key {@code
 * websocket.enabled} is overridden by {@code HERALD_WEBSOCKET_ENABLED} (upper case, {@code .} and
 * {@code -} become {@code _}). Every mistake is collected and reported at once, with the key, the
 * bad value and what was expected; an unknown key names the closest known one.
 */
public final class ConfigLoader {
  public static final String ENV_PREFIX = "HERALD_";

  /** Documented keys with defaults. Namespace keys are listed separately. */
  static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static final Map<String, String> NAMESPACE_DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("server.host", "127.0.0.1");
    DEFAULTS.put("server.port", "8080");
    DEFAULTS.put("server.allowed-origins", "");
    DEFAULTS.put("server.trusted-proxies", "");
    DEFAULTS.put("node.name", "herald-1");
    DEFAULTS.put("websocket.enabled", "true");
    DEFAULTS.put("websocket.path", "/connection/websocket");
    DEFAULTS.put("websocket.compression", "false");
    DEFAULTS.put("transport.write-delay", "0");
    DEFAULTS.put("server.event-loops", "0");
    DEFAULTS.put("server.max-event-loop-lag", "2s");
    DEFAULTS.put("sse.enabled", "true");
    DEFAULTS.put("longpoll.enabled", "true");
    DEFAULTS.put("longpoll.timeout", "25s");
    DEFAULTS.put("longpoll.session-timeout", "45s");
    DEFAULTS.put("limits.max-message-bytes", "65536");
    DEFAULTS.put("limits.max-publish-bytes", "32768");
    DEFAULTS.put("limits.subscriptions-per-connection", "128");
    DEFAULTS.put("limits.outbox-bytes", "1048576");
    DEFAULTS.put("limits.queued-requests", "256");
    DEFAULTS.put("limits.messages-per-second", "100");
    DEFAULTS.put("limits.message-burst", "200");
    DEFAULTS.put("limits.connections-per-user", "100");
    DEFAULTS.put("limits.connections-per-address", "5000");
    DEFAULTS.put("limits.http-sessions", "10000");
    DEFAULTS.put("server.request-timeout", "10s");
    DEFAULTS.put("server.idle-timeout", "120s");
    DEFAULTS.put("heartbeat.interval", "25s");
    DEFAULTS.put("heartbeat.timeout", "10s");
    DEFAULTS.put("connect.timeout", "10s");
    DEFAULTS.put("shutdown.retry-min", "500ms");
    DEFAULTS.put("shutdown.retry-max", "5s");
    DEFAULTS.put("shutdown.batch-size", "1000");
    DEFAULTS.put("shutdown.batch-interval", "100ms");
    DEFAULTS.put("auth.jwt.secrets", "");
    DEFAULTS.put("auth.jwt.issuer", "");
    DEFAULTS.put("auth.jwt.max-lifetime", "24h");
    DEFAULTS.put("auth.jwt.audience", "");
    DEFAULTS.put("auth.jwt.jwks-file", "");
    DEFAULTS.put("auth.jwt.jwks-url", "");
    DEFAULTS.put("auth.jwt.jwks-refetch-interval", "30s");
    DEFAULTS.put("publish.api-keys", "");
    DEFAULTS.put("demo.enabled", "false");
    DEFAULTS.put("metrics.enabled", "true");
    DEFAULTS.put("metrics.path", "/metrics");
    DEFAULTS.put("broker.type", "memory");
    DEFAULTS.put("redis.mode", "standalone");
    DEFAULTS.put("redis.url", "redis://127.0.0.1:6379");
    DEFAULTS.put("redis.sentinels", "");
    DEFAULTS.put("redis.master-name", "");
    DEFAULTS.put("redis.cluster-nodes", "");
    DEFAULTS.put("redis.prefix", "herald");
    DEFAULTS.put("redis.presence-ttl", "30s");
    DEFAULTS.put("redis.reconnect-min", "100ms");
    DEFAULTS.put("redis.reconnect-max", "5s");
    DEFAULTS.put("cluster.route-timeout", "5s");
    DEFAULTS.put("cluster.advertise-url", "");
    DEFAULTS.put("namespaces", "");

    NAMESPACE_DEFAULTS.put("history-size", "1000");
    NAMESPACE_DEFAULTS.put("history-ttl", "10m");
    NAMESPACE_DEFAULTS.put("stream-ttl", "24h");
    NAMESPACE_DEFAULTS.put("presence", "true");
    NAMESPACE_DEFAULTS.put("join-leave", "true");
    NAMESPACE_DEFAULTS.put("client-publish", "false");
    NAMESPACE_DEFAULTS.put("personal", "false");
  }

  private static final String REDIS_URL = "rediss?://\\S+";
  // host:port, optionally user:password@ before it, and no database other than 0 after it.
  private static final String REDIS_SERVER_URL = "rediss?://([^@/\\s]+@)?[^@/\\s]+(/0?)?";
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)?");
  private static final Pattern NAMESPACE_NAME = Pattern.compile("[A-Za-z0-9_\\-.@=/]{1,64}");

  private ConfigLoader() {}

  /** Loads a file (may be null for built-in defaults) and applies the process environment. */
  public static HeraldConfig load(@Nullable Path file) {
    return fromMap(file == null ? Map.of() : readFile(file), System.getenv());
  }

  public static Map<String, String> readFile(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new ConfigException(List.of("cannot read config file " + file + ": " + e.getMessage()));
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (String k : p.stringPropertyNames()) {
      m.put(k, p.getProperty(k).trim());
    }
    return m;
  }

  /** Builds the configuration from file entries and environment variables. */
  public static HeraldConfig fromMap(Map<String, String> file, Map<String, String> env) {
    return new Reading(effective(file, env, Map.of()), Map.of(), unknownEnv(file, env, Map.of()))
        .build();
  }

  /**
   * The configuration of an application that embeds Herald and adds keys of its own: {@code
   * extraDefaults} declares them with their defaults; they are merged and overridden from the
   * environment like Herald's keys, and unknown keys are still reported.
   */
  public record Loaded(HeraldConfig herald, Map<String, String> extra) {}

  public static Loaded fromMap(
      Map<String, String> file, Map<String, String> env, Map<String, String> extraDefaults) {
    Map<String, String> merged = effective(file, env, extraDefaults);
    HeraldConfig herald =
        new Reading(merged, extraDefaults, unknownEnv(file, env, extraDefaults)).build();
    Map<String, String> extra = new LinkedHashMap<>();
    for (String k : extraDefaults.keySet()) {
      extra.put(k, merged.get(k));
    }
    return new Loaded(herald, extra);
  }

  /**
   * The merged key/value view (defaults, then file, then environment), with secrets masked when
   * {@code mask} is true. For "print the effective configuration".
   */
  public static Map<String, String> describe(
      Map<String, String> file, Map<String, String> env, boolean mask) {
    Map<String, String> out = new TreeMap<>();
    sources(file, env, Map.of(), mask).forEach((k, s) -> out.put(k, s.value()));
    return out;
  }

  /** Where an effective value came from. */
  public enum Source {
    DEFAULT,
    FILE,
    ENVIRONMENT
  }

  /**
   * One effective value and where it came from.
   *
   * @param env the environment variable that set it, when {@code source} is {@code ENVIRONMENT}
   */
  public record Setting(String value, Source source, @Nullable String env) {}

  /**
   * Every effective value, sorted by key, with its source: the environment variable when one is set
   * for the key, else the file when it has the key, else the default. Secrets masked when {@code
   * mask} is true. {@code extraDefaults}: an embedding application's own keys.
   */
  public static Map<String, Setting> sources(
      Map<String, String> file,
      Map<String, String> env,
      Map<String, String> extraDefaults,
      boolean mask) {
    Map<String, Setting> out = new TreeMap<>();
    effective(file, env, extraDefaults)
        .forEach(
            (k, v) -> {
              String value = mask ? masked(k, v) : v;
              String var = envName(k);
              if (env.containsKey(var)) {
                out.put(k, new Setting(value, Source.ENVIRONMENT, var));
              } else {
                out.put(
                    k,
                    new Setting(value, file.containsKey(k) ? Source.FILE : Source.DEFAULT, null));
              }
            });
    return out;
  }

  /**
   * The lines {@code --print-config} prints: {@code key=value}, then where the value came from
   * ({@code # default}, {@code # file <fileLabel>}, {@code # environment HERALD_...}), aligned.
   */
  public static List<String> render(Map<String, Setting> settings, String fileLabel) {
    int width = 0;
    for (Map.Entry<String, Setting> e : settings.entrySet()) {
      width = Math.max(width, e.getKey().length() + 1 + e.getValue().value().length());
    }
    width = Math.min(width, 72);
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, Setting> e : settings.entrySet()) {
      Setting s = e.getValue();
      String kv = e.getKey() + "=" + s.value();
      String from =
          switch (s.source()) {
            case DEFAULT -> "default";
            case FILE -> "file " + fileLabel;
            case ENVIRONMENT -> "environment " + s.env();
          };
      lines.add(kv + " ".repeat(Math.max(2, width - kv.length() + 2)) + "# " + from);
    }
    return lines;
  }

  private static String masked(String key, String value) {
    if (isSecret(key) && !value.isEmpty()) {
      return "****";
    }
    if (key.equals("redis.url")
        || key.equals("redis.sentinels")
        || key.equals("redis.cluster-nodes")) {
      // A Redis URL may carry a password: redis://user:secret@host -> redis://****@host
      return value.replaceAll("//[^@/,]*@", "//****@");
    }
    return value;
  }

  static boolean isSecret(String key) {
    return key.equals("auth.jwt.secrets")
        || key.equals("publish.api-keys")
        || key.endsWith("password");
  }

  private static Map<String, String> effective(
      Map<String, String> file, Map<String, String> env, Map<String, String> extra) {
    Map<String, String> m = new LinkedHashMap<>(DEFAULTS);
    m.putAll(extra);
    m.putAll(file);
    List<String> keys = new ArrayList<>(DEFAULTS.keySet());
    keys.addAll(extra.keySet());
    for (String key : keys) {
      String v = env.get(envName(key));
      if (v != null) {
        m.put(key, v.trim());
      }
    }
    for (String ns : list(m.get("namespaces"))) {
      for (Map.Entry<String, String> e : NAMESPACE_DEFAULTS.entrySet()) {
        String key = "namespace." + ns + "." + e.getKey();
        m.putIfAbsent(key, e.getValue());
        String v = env.get(envName(key));
        if (v != null) {
          m.put(key, v.trim());
        }
      }
    }
    return m;
  }

  /** HERALD_* variables that override no key: almost always a typo, so they are reported. */
  private static List<String> unknownEnv(
      Map<String, String> file, Map<String, String> env, Map<String, String> extra) {
    Map<String, String> merged = effective(file, Map.of(), extra);
    java.util.Set<String> known = new java.util.HashSet<>();
    for (String k : merged.keySet()) {
      known.add(envName(k));
    }
    List<String> out = new ArrayList<>();
    for (String e : env.keySet()) {
      if (e.startsWith(ENV_PREFIX) && !known.contains(e)) {
        out.add(e);
      }
    }
    java.util.Collections.sort(out);
    return out;
  }

  public static String envName(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  static List<String> list(@Nullable String v) {
    if (v == null || v.isBlank()) {
      return List.of();
    }
    return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /** One pass over the merged map, collecting problems. */
  private static final class Reading {
    private final Map<String, String> m;
    private final Map<String, String> extra;
    private final List<String> unknownEnv;
    private final List<String> problems = new ArrayList<>();

    Reading(Map<String, String> m, Map<String, String> extra, List<String> unknownEnv) {
      this.m = m;
      this.extra = extra;
      this.unknownEnv = unknownEnv;
    }

    HeraldConfig build() {
      List<String> namespaceNames = list(value("namespaces"));
      for (String key : m.keySet()) {
        if (!DEFAULTS.containsKey(key)
            && !extra.containsKey(key)
            && !isNamespaceKey(key, namespaceNames)) {
          problems.add("unknown key '" + key + "'" + suggestion(key, namespaceNames));
        }
      }
      String host = value("server.host");
      int port = integer("server.port", 0, 65535);
      List<String> origins = list(value("server.allowed-origins"));
      for (String o : origins) {
        if (!o.equals("*") && !o.matches("https?://[^/\\s]+")) {
          problems.add(
              "server.allowed-origins: '"
                  + o
                  + "' is not an origin like https://app.example.com (scheme://host[:port], no path) or *");
        }
      }
      ProxySettings proxies = ProxySettings.none();
      try {
        proxies = new ProxySettings(list(value("server.trusted-proxies")));
      } catch (IllegalArgumentException e) {
        problems.add("server.trusted-proxies: " + e.getMessage());
      }
      String path = value("websocket.path");
      if (!path.startsWith("/")) {
        problems.add("websocket.path: '" + path + "' must start with /");
      }
      String metricsPath = value("metrics.path");
      if (!metricsPath.startsWith("/")) {
        problems.add("metrics.path: '" + metricsPath + "' must start with /");
      }
      boolean metricsEnabled = bool("metrics.enabled");
      List<String> secrets = list(value("auth.jwt.secrets"));
      for (int i = 0; i < secrets.size(); i++) {
        if (secrets.get(i).getBytes(StandardCharsets.UTF_8).length < 32) {
          problems.add(
              "auth.jwt.secrets: secret #"
                  + (i + 1)
                  + " is shorter than 32 bytes (HS256 needs at least 256 bits)");
        }
      }
      Duration jwtMaxLifetime = duration("auth.jwt.max-lifetime");
      JwtSettings jwt = jwt(jwtMaxLifetime);
      List<String> apiKeys = list(value("publish.api-keys"));
      for (int i = 0; i < apiKeys.size(); i++) {
        if (apiKeys.get(i).length() < 16) {
          problems.add("publish.api-keys: key #" + (i + 1) + " is shorter than 16 characters");
        }
      }
      HubConfig hub = null;
      Duration ping = positive(duration("heartbeat.interval"), "heartbeat.interval");
      Duration pong = positive(duration("heartbeat.timeout"), "heartbeat.timeout");
      Duration connect = positive(duration("connect.timeout"), "connect.timeout");
      Duration retryMin = duration("shutdown.retry-min");
      Duration retryMax = duration("shutdown.retry-max");
      int drainBatch = integer("shutdown.batch-size", 1, 1_000_000);
      Duration drainInterval = duration("shutdown.batch-interval");
      int maxMessage = integer("limits.max-message-bytes", 256, 16 * 1024 * 1024);
      int maxPublish = integer("limits.max-publish-bytes", 1, 16 * 1024 * 1024);
      int subs = integer("limits.subscriptions-per-connection", 1, 100_000);
      int outbox = integer("limits.outbox-bytes", 1024, Integer.MAX_VALUE);
      int queuedRequests = integer("limits.queued-requests", 1, 100_000);
      int rate = integer("limits.messages-per-second", 0, 1_000_000);
      int burst = integer("limits.message-burst", 1, 1_000_000);
      int perUser = integer("limits.connections-per-user", 0, 10_000_000);
      int perAddress = integer("limits.connections-per-address", 0, 10_000_000);
      int httpSessions = integer("limits.http-sessions", 1, 10_000_000);
      Duration requestTimeout =
          positive(duration("server.request-timeout"), "server.request-timeout");
      Duration idleTimeout = positive(duration("server.idle-timeout"), "server.idle-timeout");
      boolean wsEnabled = bool("websocket.enabled");
      boolean compression = bool("websocket.compression");
      boolean demo = bool("demo.enabled");
      boolean sse = bool("sse.enabled");
      boolean longPoll = bool("longpoll.enabled");
      int eventLoops = integer("server.event-loops", 0, 256);
      Duration maxLoopLag = duration("server.max-event-loop-lag");
      Duration writeDelay = duration("transport.write-delay");
      if (writeDelay.compareTo(TransportSettings.MAX_WRITE_DELAY) > 0) {
        problems.add(
            "transport.write-delay: '"
                + value("transport.write-delay")
                + "' must be at most "
                + TransportSettings.MAX_WRITE_DELAY.toMillis()
                + "ms (it adds up to that much latency)");
      }
      Duration pollTimeout = positive(duration("longpoll.timeout"), "longpoll.timeout");
      Duration pollSession =
          positive(duration("longpoll.session-timeout"), "longpoll.session-timeout");
      if (pollSession.compareTo(pollTimeout) <= 0) {
        problems.add("longpoll.session-timeout must be longer than longpoll.timeout");
      }
      if (idleTimeout.compareTo(pollTimeout) <= 0) {
        problems.add(
            "server.idle-timeout must be longer than longpoll.timeout (an open poll is idle)");
      }
      if (idleTimeout.compareTo(ping.plus(pong)) <= 0) {
        problems.add(
            "server.idle-timeout must be longer than heartbeat.interval + heartbeat.timeout ("
                + ping.plus(pong).toSeconds()
                + "s), or healthy connections between heartbeats are closed as idle");
      }
      if (maxPublish > maxMessage) {
        problems.add(
            "limits.max-publish-bytes ("
                + maxPublish
                + ") must not exceed limits.max-message-bytes ("
                + maxMessage
                + ")");
      }
      if (outbox < 2L * (maxPublish + 1024)) {
        problems.add(
            "limits.outbox-bytes ("
                + outbox
                + ") must be at least twice limits.max-publish-bytes plus 1 KiB ("
                + 2L * (maxPublish + 1024)
                + "): otherwise one large publication disconnects every subscriber as a slow consumer");
      }
      if (retryMax.compareTo(retryMin) < 0) {
        problems.add("shutdown.retry-max must be >= shutdown.retry-min");
      }
      ClusterSettings cluster = cluster();
      List<NamespaceSettings> namespaces = new ArrayList<>();
      for (String ns : namespaceNames) {
        if (!NAMESPACE_NAME.matcher(ns).matches()) {
          problems.add(
              "namespaces: '"
                  + ns
                  + "' is not a valid namespace name (letters, digits, _ - . @ = /)");
          continue;
        }
        String p = "namespace." + ns + ".";
        int size = integer(p + "history-size", 0, 1_000_000);
        Duration ttl = duration(p + "history-ttl");
        Duration streamTtl = duration(p + "stream-ttl");
        if (streamTtl.compareTo(ttl) < 0) {
          problems.add(p + "stream-ttl must be >= " + p + "history-ttl");
          continue;
        }
        if (size > 0 && ttl.isZero()) {
          problems.add(
              p
                  + "history-ttl must be above 0 when "
                  + p
                  + "history-size is above 0 (or set history-size=0 for no history)");
          continue;
        }
        namespaces.add(
            NamespaceSettings.builder(ns.equals("default") ? "" : ns)
                .historySize(size)
                .historyTtl(ttl)
                .streamTtl(streamTtl)
                .presence(bool(p + "presence"))
                .joinLeave(bool(p + "join-leave"))
                .clientPublish(bool(p + "client-publish"))
                .personal(bool(p + "personal"))
                .build());
      }
      for (String envKey : unknownEnv) {
        problems.add("unknown environment variable " + envKey + suggestion(envKey, namespaceNames));
      }
      if (!problems.isEmpty()) {
        throw new ConfigException(problems);
      }
      try {
        hub =
            new HubConfig(
                value("node.name"),
                ping,
                pong,
                connect,
                subs,
                outbox,
                16 * 1024,
                maxMessage,
                maxPublish,
                1024,
                queuedRequests,
                retryMin,
                retryMax,
                new HubConfig.AbuseLimits(rate, burst, perUser, perAddress),
                new HubConfig.Drain(drainBatch, drainInterval),
                writeDelay);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(List.of(e.getMessage()));
      }
      return new HeraldConfig(
          host,
          port,
          origins,
          wsEnabled,
          path,
          compression,
          secrets,
          value("auth.jwt.issuer"),
          apiKeys,
          demo,
          hub,
          namespaces,
          new HttpTransports(sse, longPoll, pollTimeout, pollSession),
          new MetricsSettings(metricsEnabled, metricsPath),
          new HttpLimits(httpSessions, requestTimeout, idleTimeout),
          cluster,
          new TransportSettings(eventLoops, maxLoopLag),
          proxies,
          jwt);
    }

    private JwtSettings jwt(Duration maxLifetime) {
      String file = value("auth.jwt.jwks-file");
      String url = value("auth.jwt.jwks-url");
      Duration refetch = duration("auth.jwt.jwks-refetch-interval");
      Path jwksFile = null;
      URI jwksUrl = null;
      if (!file.isEmpty() && !url.isEmpty()) {
        problems.add("auth.jwt.jwks-file and auth.jwt.jwks-url: set one, not both");
      } else if (!file.isEmpty()) {
        jwksFile = Path.of(file);
        if (!Files.isReadable(jwksFile)) {
          problems.add("auth.jwt.jwks-file: '" + file + "' is not a readable file");
        }
      } else if (!url.isEmpty()) {
        try {
          jwksUrl = new URI(url);
          String scheme = jwksUrl.getScheme();
          if (!("https".equals(scheme) || "http".equals(scheme)) || jwksUrl.getHost() == null) {
            problems.add("auth.jwt.jwks-url: '" + url + "' is not an http(s) URL");
          }
        } catch (java.net.URISyntaxException e) {
          problems.add("auth.jwt.jwks-url: '" + url + "' is not an http(s) URL");
        }
      }
      return new JwtSettings(maxLifetime, value("auth.jwt.audience"), jwksFile, jwksUrl, refetch);
    }

    private ClusterSettings cluster() {
      String type = value("broker.type");
      if (!type.equals("memory") && !type.equals("redis")) {
        problems.add("broker.type: '" + type + "' is not memory or redis");
      }
      String url = value("redis.url");
      if (!url.matches(REDIS_URL)) {
        problems.add(
            "redis.url: '" + url + "' is not a Redis URL like redis://host:6379 or rediss://...");
      }
      String mode = value("redis.mode");
      List<String> sentinels = list(value("redis.sentinels"));
      String masterName = value("redis.master-name");
      List<String> clusterNodes = list(value("redis.cluster-nodes"));
      if (!mode.equals("sentinel") && !sentinels.isEmpty()) {
        problems.add("redis.sentinels: set, but redis.mode is " + mode + " (set it to sentinel)");
      }
      if (!mode.equals("sentinel") && !masterName.isEmpty()) {
        problems.add("redis.master-name: set, but redis.mode is " + mode + " (set it to sentinel)");
      }
      if (!mode.equals("cluster") && !clusterNodes.isEmpty()) {
        problems.add(
            "redis.cluster-nodes: set, but redis.mode is " + mode + " (set it to cluster)");
      }
      switch (mode) {
        case "standalone" -> {}
        case "sentinel" -> {
          if (sentinels.isEmpty()) {
            problems.add(
                "redis.sentinels: redis.mode sentinel needs the sentinels' URLs, comma-separated"
                    + " (redis://10.0.0.7:26379,redis://10.0.0.8:26379,...)");
          }
          for (String sentinel : sentinels) {
            if (!sentinel.matches(REDIS_SERVER_URL)) {
              problems.add(
                  "redis.sentinels: '"
                      + masked("redis.sentinels", sentinel)
                      + "' is not a URL like redis://host:26379 (a sentinel has no database"
                      + " numbers: no /1 at the end)");
            }
          }
          if (!masterName.matches("[A-Za-z0-9_\\-.]{1,64}")) {
            problems.add(
                "redis.master-name: '"
                    + masterName
                    + "' must be the name the sentinels monitor the master under (1-64 of"
                    + " A-Z a-z 0-9 _ - .)");
          }
        }
        case "cluster" -> {
          if (clusterNodes.isEmpty()) {
            problems.add(
                "redis.cluster-nodes: redis.mode cluster needs the URLs of some of the cluster's"
                    + " nodes, comma-separated (redis://10.0.0.7:7000,redis://10.0.0.8:7000,...)");
          }
          for (String node : clusterNodes) {
            if (!node.matches(REDIS_SERVER_URL)) {
              problems.add(
                  "redis.cluster-nodes: '"
                      + masked("redis.cluster-nodes", node)
                      + "' is not a URL like redis://host:7000 (a Redis Cluster has no database"
                      + " numbers: no /1 at the end)");
            }
          }
        }
        default ->
            problems.add("redis.mode: '" + mode + "' is not standalone, sentinel or cluster");
      }
      String prefix = value("redis.prefix");
      if (!prefix.matches("[A-Za-z0-9_\\-.]{1,64}")) {
        problems.add("redis.prefix: '" + prefix + "' must be 1-64 of A-Z a-z 0-9 _ - .");
      }
      Duration presenceTtl = duration("redis.presence-ttl");
      if (presenceTtl.toMillis() < 1000) {
        problems.add("redis.presence-ttl: must be at least 1s");
      }
      Duration min = positive(duration("redis.reconnect-min"), "redis.reconnect-min");
      Duration max = positive(duration("redis.reconnect-max"), "redis.reconnect-max");
      if (max.compareTo(min) < 0) {
        problems.add("redis.reconnect-max must be >= redis.reconnect-min");
      }
      Duration route = positive(duration("cluster.route-timeout"), "cluster.route-timeout");
      String advertise = value("cluster.advertise-url");
      if (!advertise.isEmpty() && !advertise.matches("http://[^/\\s]+")) {
        problems.add(
            "cluster.advertise-url: '"
                + advertise
                + "' is not like http://10.0.0.5:8080 (how other nodes reach this one)");
      }
      return new ClusterSettings(
          type,
          url,
          prefix,
          presenceTtl,
          min,
          max,
          route,
          advertise,
          mode,
          sentinels,
          masterName,
          clusterNodes);
    }

    private boolean isNamespaceKey(String key, List<String> namespaces) {
      if (!key.startsWith("namespace.")) {
        return false;
      }
      for (String ns : namespaces) {
        String p = "namespace." + ns + ".";
        if (key.startsWith(p) && NAMESPACE_DEFAULTS.containsKey(key.substring(p.length()))) {
          return true;
        }
      }
      return false;
    }

    private String suggestion(String key, List<String> namespaces) {
      List<String> known = new ArrayList<>(DEFAULTS.keySet());
      known.addAll(extra.keySet());
      if (key.startsWith(ENV_PREFIX)) {
        known.addAll(m.keySet());
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
          int d = distance(key, envName(k));
          if (d < bestDistance) {
            bestDistance = d;
            best = envName(k);
          }
        }
        return best != null && bestDistance <= 4 ? " (did you mean " + best + "?)" : "";
      }
      if (key.startsWith("namespace.")) {
        String[] parts = key.split("\\.", 3);
        if (parts.length == 3 && !namespaces.contains(parts[1])) {
          return ": namespace '" + parts[1] + "' is not listed in 'namespaces'";
        }
        for (String ns : namespaces) {
          for (String k : NAMESPACE_DEFAULTS.keySet()) {
            known.add("namespace." + ns + "." + k);
          }
        }
      }
      String best = null;
      int bestDistance = Integer.MAX_VALUE;
      for (String k : known) {
        int d = distance(key, k);
        if (d < bestDistance) {
          bestDistance = d;
          best = k;
        }
      }
      return best != null && bestDistance <= 4 ? " (did you mean '" + best + "'?)" : "";
    }

    private int integer(String key, int min, int max) {
      return parse(
          key,
          "an integer from " + min + " to " + max,
          v -> {
            long n = Long.parseLong(v);
            if (n < min || n > max) {
              throw new IllegalArgumentException();
            }
            return (int) n;
          },
          min);
    }

    private boolean bool(String key) {
      return parse(
          key,
          "true or false",
          v -> {
            if (v.equalsIgnoreCase("true")) {
              return true;
            }
            if (v.equalsIgnoreCase("false")) {
              return false;
            }
            throw new IllegalArgumentException();
          },
          false);
    }

    /** A duration; a wrong one is a problem, and its default stands in for the checks after it. */
    private Duration duration(String key) {
      return parse(
          key,
          "a duration from 0 to 3650d such as 500ms, 10s, 5m, 24h or 7d",
          v -> {
            Duration d = ConfigLoader.parseDuration(v);
            if (d.compareTo(Duration.ofDays(3650)) > 0) {
              throw new IllegalArgumentException("too long");
            }
            return d;
          },
          defaultDuration(key));
    }

    /** A duration that must be above 0; zero is a problem, and the default stands in. */
    private Duration positive(Duration d, String key) {
      if (d.isZero()) {
        problems.add(key + ": must be above 0");
        return defaultDuration(key);
      }
      return d;
    }

    private static Duration defaultDuration(String key) {
      String d = DEFAULTS.get(key);
      if (d == null && key.startsWith("namespace.")) {
        d = NAMESPACE_DEFAULTS.get(key.substring(key.lastIndexOf('.') + 1));
      }
      if (d == null) {
        throw new IllegalStateException("no default for " + key);
      }
      return parseDuration(d);
    }

    /** A key's value: every key read here has a default, so none is missing. */
    private String value(String key) {
      String v = m.get(key);
      if (v == null) {
        throw new IllegalStateException("no default for " + key);
      }
      return v;
    }

    private <T> T parse(String key, String expected, Function<String, T> f, T fallback) {
      String v = value(key);
      try {
        return f.apply(v);
      } catch (RuntimeException e) {
        problems.add(key + ": '" + v + "' is not " + expected);
        return fallback;
      }
    }
  }

  /**
   * Parses {@code 500ms}, {@code 10s}, {@code 5m}, {@code 24h}, {@code 7d}; a bare number is
   * milliseconds.
   */
  public static Duration parseDuration(String v) {
    Matcher matcher = DURATION.matcher(v.trim());
    if (!matcher.matches()) {
      throw new IllegalArgumentException("bad duration " + v);
    }
    long n = Long.parseLong(matcher.group(1));
    String unit = matcher.group(2) == null ? "ms" : matcher.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      default -> throw new IllegalArgumentException(unit);
    };
  }

  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
