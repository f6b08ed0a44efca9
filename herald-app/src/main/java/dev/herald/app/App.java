package dev.herald.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.app.access.ChannelAccess;
import dev.herald.app.activity.ActivityService;
import dev.herald.app.admin.AdminAudit;
import dev.herald.app.admin.AdminConsole;
import dev.herald.app.admin.AdminStats;
import dev.herald.app.admin.ChannelNames;
import dev.herald.app.cli.Cli;
import dev.herald.app.db.Database;
import dev.herald.app.events.ChangeLog;
import dev.herald.app.events.OutboxMetrics;
import dev.herald.app.notifications.NotificationService;
import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.projects.ProjectService;
import dev.herald.app.session.CookiePolicy;
import dev.herald.app.session.DeviceCookies;
import dev.herald.app.session.LoginThrottle;
import dev.herald.app.session.SessionAuthenticator;
import dev.herald.app.session.SessionStore;
import dev.herald.app.users.PasswordHasher;
import dev.herald.app.users.UserRepository;
import dev.herald.app.web.ApiRouter;
import dev.herald.app.web.Json;
import dev.herald.core.time.Scheduler;
import dev.herald.outbox.Outbox;
import dev.herald.outbox.Relay;
import dev.herald.outbox.RelayListener;
import dev.herald.protocol.CloseCode;
import dev.herald.protocol.JsonCodec;
import dev.herald.server.Herald;
import dev.herald.server.config.ConfigException;
import dev.herald.server.config.ConfigLoader;
import dev.herald.server.config.HeraldConfig;
import dev.herald.server.config.ProxySettings;
import dev.herald.server.logging.Logs;
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
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference app: Projects and Notifications on Herald. It uses only Herald's public API: the
 * server builder with a session-cookie authenticator, a channel authorizer and its own routes, and
 * {@link Herald#publish} (through the outbox).
 */
public final class App implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(App.class);

  /** How long a request that reduced someone's access waits for their subscriptions' re-check. */
  private static final Duration REVALIDATION_WAIT = Duration.ofSeconds(10);

  private final Database db;
  private final Herald herald;
  private final Relay relay;
  private final ExecutorService blocking;
  private final ScheduledExecutorService timers;
  private final UserRepository users;
  private final ProjectService projects;
  private final boolean seeded;

  private App(
      Database db,
      Herald herald,
      Relay relay,
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

  /**
   * Options for starting the app; tests replace the time source and the content publisher.
   *
   * @param clock the app's time (sessions, login throttle, activity timestamps)
   * @param hubScheduler the hub's time (heartbeats, credential expiry), or null for the system's;
   *     tests pass one fake time as both, so that every time-dependent decision is theirs
   */
  public record Options(
      Map<String, String> file,
      Map<String, String> env,
      Clock clock,
      @Nullable Scheduler hubScheduler, // null: the hub's own
      ContentPublisher publisher,
      boolean outbox) {
    public static Options of(Map<String, String> file) {
      return of(file, Map.of());
    }

    public static Options of(Map<String, String> file, Map<String, String> env) {
      return new Options(
          file, env, Clock.systemUTC(), null, ContentPublisher.alwaysSucceeds(), true);
    }

    public Options withPublisher(ContentPublisher p) {
      return new Options(file, env, clock, hubScheduler, p, outbox);
    }

    /** One fake time for the app ({@code clock}) and the hub ({@code scheduler}). */
    public Options withTime(Clock c, Scheduler scheduler) {
      return new Options(file, env, c, scheduler, publisher, outbox);
    }

    /** Without the outbox relay: changes are committed but not published (crash simulation). */
    public Options withoutOutbox() {
      return new Options(file, env, clock, hubScheduler, publisher, false);
    }
  }

  public static App start(Options o) {
    ConfigLoader.Loaded config = ConfigLoader.fromMap(o.file(), o.env(), AppConfig.DEFAULTS);
    Map<String, String> a = config.extra();
    // app.trusted-proxies is an older name for server.trusted-proxies: the entries of both are
    // trusted, by the real-time endpoints as well as by the login throttle and the cookie policy.
    ProxySettings proxies;
    try {
      List<String> entries = new java.util.ArrayList<>(config.herald().proxies().trustedProxies());
      entries.addAll(List.of(AppConfig.value(a, "app.trusted-proxies").split(",")));
      proxies =
          new ProxySettings(entries.stream().map(String::trim).filter(x -> !x.isEmpty()).toList());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(List.of("app.trusted-proxies: " + e.getMessage()));
    }
    HeraldConfig heraldConfig = config.herald().withProxies(proxies);
    int poolSize;
    Duration sessionTtl;
    Duration outboxInterval;
    Duration schedulerInterval;
    Duration statsInterval;
    LoginThrottle throttle;
    CookiePolicy cookies;
    try {
      poolSize = Integer.parseInt(AppConfig.value(a, "app.db.pool-size"));
      sessionTtl = ConfigLoader.parseDuration(AppConfig.value(a, "app.session-ttl"));
      outboxInterval = ConfigLoader.parseDuration(AppConfig.value(a, "app.outbox.interval"));
      schedulerInterval = ConfigLoader.parseDuration(AppConfig.value(a, "app.scheduler.interval"));
      statsInterval = ConfigLoader.parseDuration(AppConfig.value(a, "app.admin.stats-interval"));
      throttle =
          new LoginThrottle(
              o.clock(),
              Integer.parseInt(AppConfig.value(a, "app.login.max-failures-per-account")),
              Integer.parseInt(AppConfig.value(a, "app.login.max-failures-per-address")),
              ConfigLoader.parseDuration(AppConfig.value(a, "app.login.failure-window")),
              ConfigLoader.parseDuration(AppConfig.value(a, "app.login.max-delay")));
      cookies =
          new CookiePolicy(
              CookiePolicy.parse(AppConfig.value(a, "app.session.cookie-secure")),
              proxies.resolver());
    } catch (RuntimeException e) {
      throw new ConfigException(
          List.of(
              "app.db.pool-size, app.session-ttl, app.outbox.interval, app.scheduler.interval and"
                  + " app.admin.stats-interval must be a number and durations such as 12h or 1s;"
                  + " app.login.* positive numbers and durations; app.session.cookie-secure"
                  + " auto, always or never: "
                  + e.getMessage()));
    }
    Logs.format(AppConfig.value(a, "logging.format")); // validates

    Database db = openDatabase(a);
    int ran = db.migrate();
    log.info("database {} ready ({} migrations applied)", maskedUrl(db.url()), ran);
    ObjectMapper json = Json.mapper();
    Clock clock = o.clock();
    ChangeLog changes = new ChangeLog(json, Outbox.builder().clock(clock).build());
    NotificationService notifications = new NotificationService(db, changes, clock);
    ActivityService activities = new ActivityService(db, changes, notifications, clock);
    ProjectService projects =
        new ProjectService(db, changes, activities, notifications, o.publisher(), clock);
    UserRepository users = new UserRepository(db, new PasswordHasher(), clock);
    SessionStore sessions = new SessionStore(db, clock, sessionTtl);
    Herald[] holder = new Herald[1];
    ChannelNames channelNames = new ChannelNames(db);
    AdminStats adminStats = new AdminStats(db, () -> holder[0], channelNames);
    boolean seeded =
        Boolean.parseBoolean(AppConfig.value(a, "app.demo-users")) && Seed.run(users, projects);
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
    // Built once Herald runs (its metrics registry exists from then on); requests wake it.
    Relay[] relayHolder = new Relay[1];
    ApiRouter api =
        new ApiRouter(
            db,
            users,
            sessions,
            projects,
            activities,
            notifications,
            changes,
            () -> {
              Relay r = relayHolder[0];
              if (r != null) {
                r.wake();
              }
            },
            json,
            new AdminConsole(
                () -> holder[0].hub().api(),
                new JsonCodec(),
                channelNames,
                users,
                new AdminAudit(),
                adminStats::snapshot),
            new ApiRouter.Security(
                throttle,
                new DeviceCookies(clock),
                cookies,
                token ->
                    holder[0]
                        .hub()
                        .revokeCredential(
                            SessionStore.credentialId(token), CloseCode.FORBIDDEN, "logged out"),
                userId -> awaitRevalidation(holder[0], userId)));
    java.util.concurrent.atomic.AtomicBoolean databaseUp =
        new java.util.concurrent.atomic.AtomicBoolean(db.ping());
    Herald.Builder builder = Herald.builder(heraldConfig);
    Scheduler hubScheduler = o.hubScheduler();
    if (hubScheduler != null) {
      builder.scheduler(hubScheduler);
    }
    Herald herald =
        builder
            // Checked on a timer (below), never on the event loop: a down database can block.
            .readinessCheck("database", databaseUp::get)
            .authenticator(new SessionAuthenticator(sessions, blocking, adminStats::connected))
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
    Relay relay =
        Relay.builder(db.dataSource(), herald::publish)
            .pollInterval(outboxInterval)
            .listener(
                herald.meterRegistry() == null
                    ? RelayListener.NONE
                    : new OutboxMetrics(herald.meterRegistry()))
            .build();
    relayHolder[0] = relay;
    if (o.outbox() && Boolean.parseBoolean(AppConfig.value(a, "app.outbox.enabled"))) {
      relay.start();
    }
    ScheduledExecutorService timers =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "herald-app-scheduler");
              t.setDaemon(true);
              return t;
            });
    repeat(timers, () -> databaseUp.set(db.ping()), 5, 5, TimeUnit.SECONDS);
    repeat(
        timers,
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
    repeat(
        timers,
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
    boolean adminNamespace =
        config.herald().namespaces().stream().anyMatch(n -> n.name().equals("admin"));
    if (adminNamespace && !statsInterval.isZero()) {
      repeat(
          timers,
          () -> {
            try {
              var unused =
                  herald
                      .publish(AdminStats.CHANNEL, json.writeValueAsString(adminStats.snapshot()))
                      .whenComplete(
                          (position, failure) -> {
                            if (failure != null) {
                              log.warn("admin stats not published: {}", failure.toString());
                            }
                          });
            } catch (Exception e) {
              log.warn("admin stats snapshot failed: {}", e.toString());
            }
          },
          statsInterval.toMillis(),
          statsInterval.toMillis(),
          TimeUnit.MILLISECONDS);
    } else {
      log.info(
          "admin console: no live refresh (namespace 'admin' is not configured); the page polls");
    }
    return new App(db, herald, relay, blocking, timers, users, projects, seeded);
  }

  /**
   * Runs {@code task} every {@code period} on {@code timers}; it ends when {@link #close} shuts
   * them down, so its handle is not kept. Each task catches its own failures: one that threw would
   * silently stop repeating.
   */
  private static void repeat(
      ScheduledExecutorService timers, Runnable task, long delay, long period, TimeUnit unit) {
    var unused = timers.scheduleWithFixedDelay(task, delay, period, unit);
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

  /**
   * Kept for {@code java -cp herald-app.jar dev.herald.app.App}: the command line, see {@link Cli}.
   */
  public static void main(String[] args) {
    Cli.main(args);
  }

  /**
   * The database the configuration names: {@code app.db.url}, or an H2 file under {@code
   * app.data-dir} (created if needed) when the URL is blank.
   */
  public static Database openDatabase(Map<String, String> a) {
    String url = AppConfig.value(a, "app.db.url");
    if (url.isBlank()) {
      Path dir = Path.of(AppConfig.value(a, "app.data-dir")).toAbsolutePath().normalize();
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
    try {
      poolSize = Integer.parseInt(AppConfig.value(a, "app.db.pool-size"));
    } catch (NumberFormatException e) {
      throw new ConfigException(
          List.of(
              "app.db.pool-size: '"
                  + AppConfig.value(a, "app.db.pool-size")
                  + "' is not a number"));
    }
    return new Database(
        url, AppConfig.value(a, "app.db.user"), AppConfig.value(a, "app.db.password"), poolSize);
  }

  /** A JDBC URL fit for logs: passwords in it masked. */
  public static String maskedUrl(String url) {
    return url.replaceAll("(?i)password=[^;&]*", "password=****");
  }

  /** The URL the app answers on (for people: {@code localhost} when it listens everywhere). */
  public String url() {
    String host = herald.config().host().equals("0.0.0.0") ? "localhost" : herald.config().host();
    return "http://" + host + ":" + port() + "/";
  }

  /** What the command line prints once the app runs: URL and demo logins. */
  public String banner() {
    StringBuilder b = new StringBuilder("\n  Herald reference app is running: " + url() + "\n");
    if (hasDemoUsers()) {
      b.append("  Demo logins (password '").append(Seed.PASSWORD).append("'): ");
      b.append(String.join(", ", Seed.USERS.keySet())).append(" (carol is an admin)\n");
    }
    b.append("  Stop with Ctrl+C.\n");
    return b.toString();
  }

  /** Whether the demo users are there (the banner lists them). */
  public boolean hasDemoUsers() {
    return seeded || users.find("alice").isPresent();
  }

  public static String version() {
    String v = App.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** The embedded defaults (app-default.properties) used when no --config is given. */
  public static Map<String, String> defaults() {
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

  /**
   * Re-checks the user's live subscriptions on this node and waits for it, so the request that
   * removed someone from a project answers only once they receive nothing more from it: a change
   * made after that answer can never reach them. Other nodes act when the message reaches them.
   */
  private static void awaitRevalidation(Herald herald, String userId) {
    try {
      herald.hub().revalidate(userId).get(REVALIDATION_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      log.warn("re-checking the subscriptions of {} did not complete", userId, e);
    }
  }
}
