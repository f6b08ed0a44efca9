package dev.herald.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.app.access.ChannelAccess;
import dev.herald.app.activity.ActivityService;
import dev.herald.app.db.Database;
import dev.herald.app.events.ChangeLog;
import dev.herald.app.events.OutboxRelay;
import dev.herald.app.notifications.NotificationService;
import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.projects.ProjectService;
import dev.herald.app.session.SessionAuthenticator;
import dev.herald.app.session.SessionStore;
import dev.herald.app.users.PasswordHasher;
import dev.herald.app.users.UserRepository;
import dev.herald.app.web.ApiRouter;
import dev.herald.app.web.Json;
import dev.herald.server.Herald;
import dev.herald.server.config.ConfigException;
import dev.herald.server.config.ConfigLoader;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference app: Projects and Notifications on Herald. It uses only Herald's public API: the
 * server builder with a session-cookie authenticator, a channel authorizer and its own routes, and
 * {@link Herald#publish} (through the outbox).
 */
public final class App implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(App.class);

  private final Database db;
  private final Herald herald;
  private final OutboxRelay relay;
  private final ExecutorService blocking;
  private final ScheduledExecutorService timers;
  private final UserRepository users;
  private final ProjectService projects;
  private final boolean seeded;

  private App(
      Database db,
      Herald herald,
      OutboxRelay relay,
      ExecutorService blocking,
      ScheduledExecutorService timers,
      UserRepository users,
      ProjectService projects,
      boolean seeded) {
    this.db = db;
    this.herald = herald;
    this.relay = relay;
    this.blocking = blocking;
    this.timers = timers;
    this.users = users;
    this.projects = projects;
    this.seeded = seeded;
  }

  /** Options for starting the app; tests replace the clock and the content publisher. */
  public record Options(
      Map<String, String> file,
      Map<String, String> env,
      Clock clock,
      ContentPublisher publisher,
      boolean outbox) {
    public static Options of(Map<String, String> file) {
      return new Options(
          file, Map.of(), Clock.systemUTC(), ContentPublisher.alwaysSucceeds(), true);
    }

    public Options withPublisher(ContentPublisher p) {
      return new Options(file, env, clock, p, outbox);
    }

    /** Without the outbox relay: changes are committed but not published (crash simulation). */
    public Options withoutOutbox() {
      return new Options(file, env, clock, publisher, false);
    }
  }

  public static App start(Options o) {
    ConfigLoader.Loaded config = ConfigLoader.fromMap(o.file(), o.env(), AppConfig.DEFAULTS);
    Map<String, String> a = config.extra();
    String url = a.get("app.db.url");
    if (url.isBlank()) {
      Path dir = Path.of(a.get("app.data-dir")).toAbsolutePath().normalize();
      try {
        Files.createDirectories(dir);
      } catch (IOException e) {
        throw new ConfigException(
            List.of("app.data-dir: cannot create " + dir + ": " + e.getMessage()));
      }
      // WRITE_DELAY=0: a commit is on disk before the request returns, so a crash right after
      // commit loses neither the change nor its outbox row.
      url = "jdbc:h2:file:" + dir.resolve("herald") + ";WRITE_DELAY=0";
    }
    int poolSize;
    Duration sessionTtl;
    Duration outboxInterval;
    Duration schedulerInterval;
    try {
      poolSize = Integer.parseInt(a.get("app.db.pool-size"));
      sessionTtl = ConfigLoader.parseDuration(a.get("app.session-ttl"));
      outboxInterval = ConfigLoader.parseDuration(a.get("app.outbox.interval"));
      schedulerInterval = ConfigLoader.parseDuration(a.get("app.scheduler.interval"));
    } catch (RuntimeException e) {
      throw new ConfigException(
          List.of(
              "app.db.pool-size, app.session-ttl, app.outbox.interval and app.scheduler.interval "
                  + "must be a number and durations such as 12h or 1s: "
                  + e.getMessage()));
    }

    Database db = new Database(url, a.get("app.db.user"), a.get("app.db.password"), poolSize);
    int ran = db.migrate();
    log.info(
        "database {} ready ({} migrations applied)",
        url.replaceAll("password=[^;&]*", "password=****"),
        ran);
    ObjectMapper json = Json.mapper();
    Clock clock = o.clock();
    ChangeLog changes = new ChangeLog(json, clock);
    NotificationService notifications = new NotificationService(db, changes, clock);
    ActivityService activities = new ActivityService(db, changes, notifications, clock);
    ProjectService projects =
        new ProjectService(db, changes, activities, notifications, o.publisher(), clock);
    UserRepository users = new UserRepository(db, new PasswordHasher(), clock);
    SessionStore sessions = new SessionStore(db, clock, sessionTtl);
    boolean seeded = Boolean.parseBoolean(a.get("app.demo-users")) && Seed.run(users, projects);
    int repaired = projects.repairInterruptedPublishing();
    if (repaired > 0) {
      log.warn(
          "{} project(s) were left 'publishing' by an earlier stop; marked 'publish failed'",
          repaired);
    }

    ExecutorService blocking =
        Executors.newFixedThreadPool(
            Math.max(2, poolSize / 2),
            r -> {
              Thread t = new Thread(r, "herald-app-worker");
              t.setDaemon(true);
              return t;
            });
    Herald[] holder = new Herald[1];
    OutboxRelay relay =
        new OutboxRelay(
            db,
            changes,
            (channel, payload) -> holder[0].publish(channel, payload),
            outboxInterval.toMillis());
    ApiRouter api =
        new ApiRouter(db, users, sessions, projects, activities, notifications, relay, json);
    Herald herald =
        Herald.builder(config.herald())
            .authenticator(new SessionAuthenticator(sessions, blocking))
            .authorizer(new ChannelAccess(db, blocking))
            .routes(
                router -> {
                  api.install(router);
                  router
                      .get("/*")
                      .handler(StaticHandler.create("webroot/app").setCachingEnabled(false));
                })
            .build();
    holder[0] = herald;
    herald.start().join();
    if (o.outbox() && Boolean.parseBoolean(a.get("app.outbox.enabled"))) {
      relay.start();
    }
    ScheduledExecutorService timers =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "herald-app-scheduler");
              t.setDaemon(true);
              return t;
            });
    timers.scheduleWithFixedDelay(
        () -> {
          try {
            if (projects.publishDue() > 0) {
              relay.wake();
            }
          } catch (RuntimeException e) {
            log.warn("scheduled publishing failed; will retry", e);
          }
        },
        schedulerInterval.toMillis(),
        schedulerInterval.toMillis(),
        TimeUnit.MILLISECONDS);
    timers.scheduleWithFixedDelay(
        () -> {
          try {
            sessions.purgeExpired();
          } catch (RuntimeException e) {
            log.warn("session purge failed", e);
          }
        },
        1,
        60,
        TimeUnit.MINUTES);
    return new App(db, herald, relay, blocking, timers, users, projects, seeded);
  }

  public int port() {
    return herald.port();
  }

  public Herald herald() {
    return herald;
  }

  public Database db() {
    return db;
  }

  public UserRepository users() {
    return users;
  }

  public ProjectService projects() {
    return projects;
  }

  /** Publishes pending changes now (for tests and after out-of-band writes). */
  public void flushOutbox() {
    relay.wake();
  }

  @Override
  public void close() {
    timers.shutdownNow();
    relay.close();
    herald.stop(Duration.ofSeconds(5)).join();
    blocking.shutdownNow();
    db.close();
  }

  public static void main(String[] args) {
    Path configFile = null;
    boolean print = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--config" -> {
          if (i + 1 >= args.length || !Files.isRegularFile(Path.of(args[i + 1]))) {
            fail("--config needs an existing file");
          }
          configFile = Path.of(args[++i]);
        }
        case "--print-config" -> print = true;
        case "-h", "--help" -> {
          System.out.println(
              "usage: java -jar herald-app.jar [--config FILE] [--print-config]\n"
                  + "  Without --config: embedded defaults (H2 in ./data, demo users, http://127.0.0.1:8080/).\n"
                  + "  HERALD_* environment variables override keys; see docs/configuration.md.");
          return;
        }
        default -> fail("unknown argument '" + args[i] + "' (try --help)");
      }
    }
    Map<String, String> file = configFile == null ? defaults() : ConfigLoader.readFile(configFile);
    if (print) {
      Map<String, String> merged =
          new LinkedHashMap<>(ConfigLoader.describe(file, System.getenv(), true));
      ConfigLoader.fromMap(file, System.getenv(), AppConfig.DEFAULTS)
          .extra()
          .forEach((k, v) -> merged.put(k, k.endsWith("password") && !v.isEmpty() ? "****" : v));
      merged.forEach((k, v) -> System.out.println(k + "=" + v));
      return;
    }
    App app;
    try {
      app =
          start(
              new Options(
                  file,
                  System.getenv(),
                  Clock.systemUTC(),
                  ContentPublisher.alwaysSucceeds(),
                  true));
    } catch (ConfigException e) {
      fail(e.getMessage());
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(app::close, "herald-app-shutdown"));
    String host =
        app.herald.config().host().equals("0.0.0.0") ? "localhost" : app.herald.config().host();
    StringBuilder b =
        new StringBuilder(
            "\n  Herald reference app is running: http://" + host + ":" + app.port() + "/\n");
    if (app.seeded || !app.users.all().isEmpty() && app.users.find("alice").isPresent()) {
      b.append("  Demo logins (password '").append(Seed.PASSWORD).append("'): ");
      b.append(String.join(", ", Seed.USERS.keySet())).append(" (carol is an admin)\n");
    }
    b.append("  Stop with Ctrl+C.\n");
    System.out.println(b);
  }

  static Map<String, String> defaults() {
    Properties p = new Properties();
    try (InputStream in = App.class.getResourceAsStream("/app-default.properties")) {
      p.load(in);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("app-default.properties missing", e);
    }
    Map<String, String> m = new LinkedHashMap<>();
    p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k).trim()));
    return m;
  }

  private static void fail(String message) {
    System.err.println("herald-app: " + message);
    System.exit(2);
  }
}
