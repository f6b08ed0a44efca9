package dev.herald.server;

import dev.herald.server.config.ConfigException;
import dev.herald.server.config.ConfigLoader;
import dev.herald.server.config.HeraldConfig;
import dev.herald.server.doctor.Doctor;
import dev.herald.server.doctor.Report;
import dev.herald.server.logging.Logs;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * Command line entry point: {@code java -jar herald.jar [--config FILE] [--print-config]}. Without
 * {@code --config} the server runs on embedded defaults: demo page and demo users on
 * 127.0.0.1:8080, with a JWT secret and a publish API key generated for this run. {@code java -jar
 * herald.jar doctor URL} examines a running server through whatever sits in front of it (see {@link
 * Doctor}).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("doctor")) {
      System.exit(doctor(args));
      return;
    }
    Path configFile = null;
    boolean print = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--config" -> {
          if (i + 1 >= args.length) {
            fail("--config needs a file name");
          }
          configFile = Path.of(args[++i]);
          if (!Files.isRegularFile(configFile)) {
            fail("config file not found: " + configFile);
          }
        }
        case "--print-config" -> print = true;
        case "-h", "--help" -> {
          System.out.println(usage());
          return;
        }
        default -> fail("unknown argument '" + args[i] + "'\n" + usage());
      }
    }
    Map<String, String> file =
        configFile == null ? embeddedDefaults() : ConfigLoader.readFile(configFile);
    Map<String, String> env = System.getenv();
    HeraldConfig config;
    Logs.Format logFormat;
    try {
      ConfigLoader.Loaded loaded = ConfigLoader.fromMap(file, env, Logs.DEFAULTS);
      logFormat = Logs.format(loaded.extra().get(Logs.KEY));
      config = loaded.herald();
    } catch (ConfigException e) {
      fail(e.getMessage());
      return;
    }
    if (print) {
      ConfigLoader.render(
              ConfigLoader.sources(file, env, Logs.DEFAULTS, true),
              configFile == null ? "(built-in demo defaults)" : configFile.toString())
          .forEach(System.out::println);
      return;
    }
    Logs.configure(logFormat);
    String apiKey = null;
    if (config.demoEnabled() && (config.jwtSecrets().isEmpty() || config.apiKeys().isEmpty())) {
      apiKey = config.apiKeys().isEmpty() ? random(24) : config.apiKeys().get(0);
      config =
          config.withCredentials(
              config.jwtSecrets().isEmpty() ? List.of(random(48)) : config.jwtSecrets(),
              config.apiKeys().isEmpty() ? List.of(apiKey) : config.apiKeys());
    }
    Herald herald = Herald.builder(config).build();
    try {
      herald.start().join();
    } catch (RuntimeException e) {
      fail("cannot start: " + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()));
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> herald.stop(Duration.ofSeconds(10)).join(), "herald-shutdown"));
    banner(herald, apiKey, logFormat);
  }

  private static void banner(Herald herald, @Nullable String apiKey, Logs.Format format) {
    HeraldConfig c = herald.config();
    String host = c.host().equals("0.0.0.0") ? "localhost" : c.host();
    String url = "http://" + host + ":" + herald.port() + "/";
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("url", url);
    fields.put("version", version());
    StringBuilder b = new StringBuilder();
    b.append("\n  Herald ").append(version()).append(" is running: ").append(url).append('\n');
    if (c.demoEnabled()) {
      b.append("  Demo users (pick one on the page, no password): ")
          .append(String.join(", ", DemoRoutes.USERS.keySet()))
          .append('\n');
      if (apiKey != null) {
        b.append("  Publish API key for this run: ").append(apiKey).append('\n');
        b.append("    curl -H 'Authorization: Bearer ")
            .append(apiKey)
            .append("' -H 'Content-Type: application/json' \\\n")
            .append("         -d '{\"channel\":\"demo:lobby\",\"data\":{\"text\":\"hello\"}}' ")
            .append(url)
            .append("api/v1/publish\n");
      }
    }
    b.append("  Stop with Ctrl+C.\n");
    Logs.banner(
        format, System.out::println, LoggerFactory.getLogger(Main.class), b.toString(), fields);
  }

  static Map<String, String> embeddedDefaults() {
    Properties p = new Properties();
    try (InputStream in = Main.class.getResourceAsStream("/herald-default.properties")) {
      p.load(in);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("herald-default.properties missing from the jar", e);
    }
    Map<String, String> m = new LinkedHashMap<>();
    p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k).trim()));
    return m;
  }

  static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  private static String random(int bytes) {
    byte[] b = new byte[bytes];
    new SecureRandom().nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /**
   * {@code doctor URL [--origin ORIGIN] [--idle DURATION] [--token TOKEN] [--cookie COOKIE]}:
   * prints the report, returns its exit code.
   */
  private static int doctor(String[] args) {
    String url = null;
    Doctor.Options options = Doctor.Options.defaults();
    for (int i = 1; i < args.length; i++) {
      switch (args[i]) {
        case "--origin" -> {
          if (i + 1 >= args.length) {
            fail("--origin needs an origin, e.g. https://app.example.com");
          }
          options = options.withOrigin(args[++i]);
        }
        case "--idle" -> {
          if (i + 1 >= args.length) {
            fail("--idle needs a duration, e.g. 60s");
          }
          try {
            options = options.withIdle(Doctor.Options.parseIdle(args[++i]));
          } catch (IllegalArgumentException e) {
            fail("doctor: " + e.getMessage());
          }
        }
        case "--token" -> {
          if (i + 1 >= args.length) {
            fail("--token needs a token that Herald accepts in connect");
          }
          options = options.withToken(args[++i]);
        }
        case "--cookie" -> {
          if (i + 1 >= args.length) {
            fail("--cookie needs a cookie, e.g. SESSION=abc");
          }
          options = options.withCookie(args[++i]);
        }
        case "-h", "--help" -> {
          System.out.println(usage());
          return 0;
        }
        default -> {
          if (url != null || args[i].startsWith("-")) {
            fail("unknown argument '" + args[i] + "'\n" + usage());
          }
          url = args[i];
        }
      }
    }
    if (url == null) {
      fail(
          "doctor needs the public URL of the server, e.g. https://herald.example.com/\n"
              + usage());
    }
    Report report;
    try {
      report = Doctor.examine(URI.create(url), options);
    } catch (IllegalArgumentException e) {
      fail("doctor: " + e.getMessage());
      return 2;
    }
    System.out.print(report.render());
    System.out.flush();
    return report.exitCode();
  }

  private static String usage() {
    return """
        usage: java -jar herald.jar [--config FILE] [--print-config]
               java -jar herald.jar doctor URL [--origin ORIGIN] [--idle DURATION]
                                       [--token TOKEN] [--cookie NAME=VALUE]
          --config FILE    properties file (see docs/configuration.md); HERALD_* environment
                           variables override its keys. Without it: embedded demo defaults.
          --print-config   print the effective configuration (secrets masked), each value with
                           where it came from (default, file, environment), and exit
          doctor URL       examine the server at its public URL (e.g. https://herald.example.com/)
                           through the proxies in between: WebSocket upgrade, SSE and long-polling
                           probes, explained in plain words (docs/troubleshooting.md). Exit code 0:
                           WebSocket works; 1: only a fallback works; 2: nothing works.
          --origin ORIGIN  the Origin the doctor sends (default: the URL's own origin); give the
                           origin of the app that embeds Herald when it is another site
          --idle DURATION  then hold each working transport idle this long (default 5s, 0 to
                           skip, at most 1h) and report proxies that cut it before Herald's
                           heartbeat or poll hold; use more than heartbeat.interval (e.g. 30s)
          --token TOKEN    a token Herald accepts in connect, so the idle holds connect and get
                           Herald's pings as browsers do (without it Herald closes them after
                           connect.timeout)
          --cookie NAME=VALUE  a session cookie that authenticates instead of a token
        """;
  }

  private static void fail(String message) {
    System.err.println("herald: " + message);
    System.exit(2);
  }
}
