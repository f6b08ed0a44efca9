package dev.herald.app.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.herald.app.App;
import dev.herald.app.AppConfig;
import dev.herald.app.db.Database;
import dev.herald.app.users.PasswordHasher;
import dev.herald.app.users.Role;
import dev.herald.app.users.UserRepository;
import dev.herald.server.config.ConfigException;
import dev.herald.server.config.ConfigLoader;
import dev.herald.server.doctor.Doctor;
import dev.herald.server.doctor.Report;
import dev.herald.server.logging.Logs;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import org.flywaydb.core.api.output.MigrateOutput;
import org.flywaydb.core.api.output.MigrateResult;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * The app jar's command line: {@code herald-app [serve] [--config FILE] [--print-config]}, {@code
 * doctor URL}, {@code migrate}, {@code create-user}, {@code publish CHANNEL DATA}, {@code version}.
 * Without a subcommand it serves, so {@code java -jar herald-app.jar} starts the app.
 *
 * <p>Exit codes: 0 success; 1 the command ran and failed (weak password, user exists, server
 * refused the publication, cannot connect); 2 invalid configuration (every problem listed); 64
 * usage error (unknown option, missing argument, bad JSON). {@code doctor} exits with the doctor's
 * own codes (0 WebSocket works, 1 only a fallback works, 2 nothing works).
 */
@Command(
    name = "herald-app",
    mixinStandardHelpOptions = true,
    versionProvider = Cli.Version.class,
    exitCodeOnInvalidInput = Cli.USAGE,
    description = {
      "Herald reference app: Projects and Notifications, live.",
      "Without a subcommand: serve (embedded defaults unless --config is given)."
    },
    subcommands = {
      Cli.Serve.class,
      Cli.DoctorCommand.class,
      Cli.Migrate.class,
      Cli.CreateUser.class,
      Cli.Publish.class,
      Cli.VersionCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Cli implements Callable<Integer> {
  public static final int FAILED = 1;
  public static final int CONFIG = 2;
  public static final int USAGE = 64;

  /** The CLI's own variable for {@code publish}; not a configuration key. */
  public static final String PUBLISH_KEY_ENV = "HERALD_PUBLISH_API_KEY";

  final Map<String, String> env;
  final InputStream stdin;
  final PrintWriter out;
  final PrintWriter err;
  boolean shutdownHook = true;
  private @Nullable App started;

  @Mixin ServeOptions serveOptions = new ServeOptions();

  Cli(Map<String, String> env, InputStream stdin, PrintWriter out, PrintWriter err) {
    this.env = env;
    this.stdin = stdin;
    this.out = out;
    this.err = err;
  }

  /** A command line on the given environment and streams (tests run it in-process). */
  public static CommandLine commandLine(
      Map<String, String> env, InputStream stdin, PrintWriter out, PrintWriter err) {
    Cli cli = new Cli(env, stdin, out, err);
    CommandLine cmd = new CommandLine(cli);
    cmd.setOut(out);
    cmd.setErr(err);
    CommandLine.IParameterExceptionHandler usage = cmd.getParameterExceptionHandler();
    cmd.setParameterExceptionHandler(
        (ex, args) -> {
          usage.handleParseException(ex, args);
          return USAGE;
        });
    cmd.setExecutionExceptionHandler(
        (e, c, parsed) -> {
          if (e instanceof ConfigException ce) {
            err.println("herald-app: " + ce.getMessage());
            err.flush();
            return CONFIG;
          }
          if (e instanceof Failure f) {
            err.println("herald-app: " + f.getMessage());
            err.flush();
            return f.code;
          }
          err.println("herald-app: " + e);
          err.flush();
          return FAILED;
        });
    return cmd;
  }

  /** The app started by {@code serve}, or null. */
  public @Nullable App started() {
    return started;
  }

  /** Disables the JVM shutdown hook {@code serve} installs (tests close the app themselves). */
  public void noShutdownHook() {
    shutdownHook = false;
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    CommandLine cmd = commandLine(System.getenv(), System.in, out, err);
    int code = cmd.execute(args);
    out.flush();
    err.flush();
    Cli cli = cmd.getCommand();
    if (code == 0 && cli.started != null) {
      return; // serving: the shutdown hook stops the app on SIGTERM / Ctrl+C
    }
    System.exit(code);
  }

  @Override
  public Integer call() {
    return serve(serveOptions);
  }

  /** A failure with a plain message and an exit code. */
  static final class Failure extends RuntimeException {
    final int code;

    Failure(int code, String message) {
      super(message);
      this.code = code;
    }
  }

  // ------------------------------------------------------------------ configuration

  static final class ConfigOption {
    @Option(
        names = "--config",
        paramLabel = "FILE",
        description =
            "Properties file (docs/configuration.md); HERALD_* environment variables override its"
                + " keys. Default: the embedded defaults (H2 in ./data, demo users).")
    @Nullable Path config;
  }

  static final class ServeOptions {
    @Mixin ConfigOption config = new ConfigOption();

    @Option(
        names = "--print-config",
        description = "Print the effective configuration (secrets masked) and exit.")
    boolean printConfig;
  }

  Map<String, String> file(ConfigOption o) {
    return o.config == null ? App.defaults() : ConfigLoader.readFile(o.config);
  }

  /** The environment for the configuration: without the CLI's own {@value #PUBLISH_KEY_ENV}. */
  Map<String, String> configEnv() {
    Map<String, String> m = new HashMap<>(env);
    m.remove(PUBLISH_KEY_ENV);
    return m;
  }

  ConfigLoader.Loaded load(Map<String, String> file) {
    ConfigLoader.Loaded loaded = ConfigLoader.fromMap(file, configEnv(), AppConfig.DEFAULTS);
    Logs.format(AppConfig.value(loaded.extra(), "logging.format"));
    return loaded;
  }

  // ------------------------------------------------------------------ serve

  int serve(ServeOptions o) {
    Map<String, String> file = file(o.config);
    Map<String, String> env = configEnv();
    ConfigLoader.Loaded loaded = load(file);
    if (o.printConfig) {
      Map<String, ConfigLoader.Setting> settings =
          ConfigLoader.sources(file, env, AppConfig.DEFAULTS, true);
      settings.computeIfPresent(
          "app.db.url",
          (k, v) -> new ConfigLoader.Setting(App.maskedUrl(v.value()), v.source(), v.env()));
      String label =
          o.config == null || o.config.config == null
              ? "(built-in defaults)"
              : o.config.config.toString();
      ConfigLoader.render(settings, label).forEach(out::println);
      out.flush();
      return 0;
    }
    Logs.Format logFormat = Logs.format(AppConfig.value(loaded.extra(), Logs.KEY));
    Logs.configure(logFormat);
    App app;
    try {
      app = App.start(App.Options.of(file, env));
    } catch (CompletionException e) {
      Throwable c = e.getCause() == null ? e : e.getCause();
      throw new Failure(FAILED, "cannot start: " + c.getMessage());
    }
    started = app;
    if (shutdownHook) {
      Runtime.getRuntime().addShutdownHook(new Thread(app::close, "herald-app-shutdown"));
    }
    Logs.banner(
        logFormat,
        text -> {
          out.println(text);
          out.flush();
        },
        LoggerFactory.getLogger(App.class),
        app.banner(),
        Map.of("url", app.url(), "version", App.version()));
    return 0;
  }

  @Command(
      name = "serve",
      mixinStandardHelpOptions = true,
      description = "Run the app (the default when no subcommand is given).")
  // picocli sets the @ParentCommand field and the required parameters before call().
  @SuppressWarnings("NullAway.Init")
  static final class Serve implements Callable<Integer> {
    @ParentCommand Cli cli;
    @Mixin ServeOptions options = new ServeOptions();

    @Override
    public Integer call() {
      return cli.serve(options);
    }
  }

  // ------------------------------------------------------------------ doctor

  @Command(
      name = "doctor",
      mixinStandardHelpOptions = true,
      description = {
        "Examine a running Herald at its public URL through the proxies in between: WebSocket"
            + " upgrade, SSE and long-polling probes, explained in plain words.",
        "Exit code 0: WebSocket works; 1: only a fallback works; 2: nothing works."
      })
  // picocli sets the @ParentCommand field and the required parameters before call().
  @SuppressWarnings("NullAway.Init")
  static final class DoctorCommand implements Callable<Integer> {
    @ParentCommand Cli cli;

    @Parameters(
        index = "0",
        paramLabel = "URL",
        description = "Public URL, e.g. https://herald.example.com/")
    String url;

    @Option(
        names = "--origin",
        paramLabel = "ORIGIN",
        description = "Origin to send (default: the URL's own origin).")
    @Nullable String origin;

    @Option(
        names = "--idle",
        paramLabel = "DURATION",
        description =
            "Then hold each working transport idle this long (default 5s, 0 to skip, at most 1h)"
                + " and report proxies that cut it before Herald's heartbeat or poll hold; use"
                + " more than heartbeat.interval, e.g. 30s.")
    @Nullable String idle;

    @Option(
        names = "--token",
        paramLabel = "TOKEN",
        description =
            "A token Herald accepts in connect, so the idle holds connect and get Herald's pings"
                + " as browsers do (without it Herald closes them after connect.timeout).")
    @Nullable String token;

    @Option(
        names = "--cookie",
        paramLabel = "NAME=VALUE",
        description = "A session cookie that authenticates, instead of a token.")
    @Nullable String cookie;

    @Override
    public Integer call() {
      Doctor.Options options = Doctor.Options.defaults();
      Report report;
      try {
        if (origin != null) {
          options = options.withOrigin(origin);
        }
        if (idle != null) {
          options = options.withIdle(Doctor.Options.parseIdle(idle));
        }
        if (token != null) {
          options = options.withToken(token);
        }
        if (cookie != null) {
          options = options.withCookie(cookie);
        }
        report = Doctor.examine(URI.create(url), options);
      } catch (IllegalArgumentException e) {
        throw new Failure(USAGE, "doctor: " + e.getMessage());
      }
      cli.out.print(report.render());
      cli.out.flush();
      return report.exitCode();
    }
  }

  // ------------------------------------------------------------------ migrate

  @Command(
      name = "migrate",
      mixinStandardHelpOptions = true,
      description =
          "Apply pending database migrations (Flyway) to the configured database and print what"
              + " ran. serve does this too at start; run it alone before a rolling upgrade.")
  // picocli sets the @ParentCommand field and the required parameters before call().
  @SuppressWarnings("NullAway.Init")
  static final class Migrate implements Callable<Integer> {
    @ParentCommand Cli cli;
    @Mixin ConfigOption config = new ConfigOption();

    @Override
    public Integer call() {
      ConfigLoader.Loaded loaded = cli.load(cli.file(config));
      try (Database db = open(loaded)) {
        MigrateResult r = db.migrateWithResult();
        cli.out.println("database: " + App.maskedUrl(db.url()));
        for (MigrateOutput m : r.migrations) {
          cli.out.println(
              "applied V" + m.version + " " + m.description + " (" + m.executionTime + " ms)");
        }
        String version =
            r.targetSchemaVersion != null ? r.targetSchemaVersion : r.initialSchemaVersion;
        cli.out.println(
            r.migrationsExecuted == 0
                ? "schema up to date at version " + version
                : r.migrationsExecuted + " migration(s) applied; schema at version " + version);
        cli.out.flush();
      }
      return 0;
    }
  }

  static Database open(ConfigLoader.Loaded loaded) {
    try {
      return App.openDatabase(loaded.extra());
    } catch (ConfigException e) {
      throw e;
    } catch (RuntimeException e) {
      String url = AppConfig.value(loaded.extra(), "app.db.url");
      throw new Failure(
          FAILED,
          "cannot open the database"
              + (url.isBlank()
                  ? " in " + AppConfig.value(loaded.extra(), "app.data-dir")
                  : " " + url)
              + ": "
              + rootMessage(e));
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return App.maskedUrl(String.valueOf(t.getMessage()));
  }

  // ------------------------------------------------------------------ create-user

  static final Set<String> COMMON_PASSWORDS =
      Set.of(
          "password",
          "password1",
          "password123",
          "123456789012",
          "qwertyuiopas",
          "letmein12345",
          "administrator",
          "changeme1234",
          "welcome12345",
          "iloveyou1234",
          "passwordpassword");

  static final int MIN_PASSWORD = 12;

  @Command(
      name = "create-user",
      mixinStandardHelpOptions = true,
      description = {
        "Create a user (migrating the database first). The password is read from standard input"
            + " (first line), never from the command line:",
        "  printf '%%s\\n' \"$PASSWORD\" | herald-app create-user ann --name 'Ann Lee'"
            + " --password-stdin"
      })
  // picocli sets the @ParentCommand field and the required parameters before call().
  @SuppressWarnings("NullAway.Init")
  static final class CreateUser implements Callable<Integer> {
    @ParentCommand Cli cli;
    @Mixin ConfigOption config = new ConfigOption();

    @Parameters(
        index = "0",
        paramLabel = "ID",
        description = "User id: a lower-case letter, then 1-31 of a-z 0-9 _ . -")
    String id;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "Display name.")
    String name;

    @Option(names = "--admin", description = "Make the user an admin (sees every project).")
    boolean admin;

    @Option(
        names = "--password-stdin",
        required = true,
        description = "Read the password from standard input (required).")
    boolean passwordStdin;

    @Override
    public Integer call() throws IOException {
      if (!UserRepository.ID.matcher(id).matches()) {
        throw new Failure(
            USAGE,
            "user id '"
                + id
                + "' is not valid: a lower-case letter, then 1-31 of a-z 0-9 _ . - (e.g. ann.lee)");
      }
      if (name.isBlank() || name.length() > 100) {
        throw new Failure(USAGE, "--name must be 1 to 100 characters");
      }
      String password =
          new BufferedReader(new InputStreamReader(cli.stdin, StandardCharsets.UTF_8)).readLine();
      if (password == null || password.isEmpty()) {
        throw new Failure(
            USAGE,
            "no password on standard input: pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" |"
                + " herald-app create-user "
                + id
                + " --name NAME --password-stdin");
      }
      String weak = weakness(password, id, name);
      if (weak != null) {
        throw new Failure(FAILED, "password refused: " + weak);
      }
      ConfigLoader.Loaded loaded = cli.load(cli.file(config));
      try (Database db = open(loaded)) {
        db.migrate();
        UserRepository users = new UserRepository(db, new PasswordHasher(), Clock.systemUTC());
        if (users.exists(id)) {
          throw new Failure(FAILED, "user '" + id + "' already exists");
        }
        users.create(id, name.trim(), admin ? Role.ADMIN : Role.EDITOR, password);
      }
      cli.out.println(
          "created user " + id + " (" + name.trim() + ", " + (admin ? "admin" : "editor") + ")");
      cli.out.flush();
      return 0;
    }
  }

  /** Why a password is too weak, or null. */
  static @Nullable String weakness(String password, String id, String name) {
    if (password.length() < MIN_PASSWORD) {
      return "at least " + MIN_PASSWORD + " characters are needed";
    }
    String lower = password.toLowerCase(Locale.ROOT);
    if (lower.contains(id.toLowerCase(Locale.ROOT))
        || lower.contains(name.toLowerCase(Locale.ROOT).replace(" ", ""))) {
      return "it must not contain the user id or name";
    }
    if (COMMON_PASSWORDS.contains(lower)
        || lower.startsWith("password")
        || lower.startsWith("123456")
        || lower.startsWith("qwerty")
        || lower.chars().distinct().count() < 4) {
      return "it is too common or too repetitive";
    }
    return null;
  }

  // ------------------------------------------------------------------ publish

  @Command(
      name = "publish",
      mixinStandardHelpOptions = true,
      description = {
        "Publish DATA (JSON) to CHANNEL through a running server's HTTP publish API"
            + " (POST /api/v1/publish) and print the publication's position.",
        "The API key (one of the server's publish.api-keys) comes from --api-key-file or the"
            + " environment variable "
            + PUBLISH_KEY_ENV
            + "."
      })
  // picocli sets the @ParentCommand field and the required parameters before call().
  @SuppressWarnings("NullAway.Init")
  static final class Publish implements Callable<Integer> {
    @ParentCommand Cli cli;

    @Parameters(index = "0", paramLabel = "CHANNEL", description = "e.g. project:42")
    String channel;

    @Parameters(index = "1", paramLabel = "DATA", description = "JSON, e.g. '{\"text\":\"hi\"}'")
    String data;

    @Option(
        names = "--url",
        required = true,
        paramLabel = "URL",
        description = "Base URL of the server, e.g. http://127.0.0.1:8080/")
    String url;

    @Option(
        names = "--api-key-file",
        paramLabel = "FILE",
        description = "File whose first line is the API key.")
    @Nullable Path apiKeyFile;

    @Option(
        names = "--timeout",
        paramLabel = "SECONDS",
        defaultValue = "10",
        description = "Give up after this many seconds (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() throws IOException, InterruptedException {
      ObjectMapper json = new ObjectMapper();
      JsonNode parsed;
      try {
        parsed = json.readTree(data);
      } catch (IOException e) {
        parsed = null;
      }
      if (parsed == null || parsed.isMissingNode()) {
        throw new Failure(
            USAGE,
            "DATA is not valid JSON: "
                + data
                + " (quote it for the shell, e.g. '{\"text\":\"hi\"}'; a string is '\"hi\"')");
      }
      String key = apiKey();
      URI base;
      try {
        base = URI.create(url.endsWith("/") ? url : url + "/");
      } catch (IllegalArgumentException e) {
        throw new Failure(USAGE, "--url '" + url + "' is not a URL: " + e.getMessage());
      }
      if ((!"http".equals(base.getScheme()) && !"https".equals(base.getScheme()))
          || base.getHost() == null) {
        throw new Failure(
            USAGE, "--url '" + url + "' must be an http:// or https:// URL with a host");
      }
      ObjectNode body = json.createObjectNode();
      body.put("channel", channel);
      body.set("data", parsed);
      URI target = base.resolve("api/v1/publish");
      HttpClient client =
          HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(timeoutSeconds)).build();
      HttpRequest request =
          HttpRequest.newBuilder(target)
              .timeout(Duration.ofSeconds(timeoutSeconds))
              .header("Authorization", "Bearer " + key)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body)))
              .build();
      HttpResponse<String> response;
      try {
        response = client.send(request, HttpResponse.BodyHandlers.ofString());
      } catch (ConnectException e) {
        throw new Failure(
            FAILED, "cannot connect to " + base + ": connection refused (is the server running?)");
      } catch (HttpConnectTimeoutException e) {
        throw new Failure(FAILED, "cannot connect to " + base + ": timed out");
      } catch (HttpTimeoutException e) {
        throw new Failure(
            FAILED, "no answer from " + target + " within " + timeoutSeconds + " seconds");
      } catch (IOException e) {
        throw new Failure(FAILED, "cannot reach " + base + ": " + e);
      }
      int status = response.statusCode();
      String message = serverMessage(json, response.body());
      if (status == 200) {
        JsonNode pos = json.readTree(response.body());
        cli.out.println(
            "published to "
                + channel
                + ": offset "
                + pos.path("offset").asText()
                + ", epoch "
                + pos.path("epoch").asText());
        cli.out.flush();
        return 0;
      }
      switch (status) {
        case 401 ->
            throw new Failure(
                FAILED,
                "the server refused the API key (401"
                    + (message == null ? "" : ": " + message)
                    + "); it must be one of the server's publish.api-keys");
        case 404, 405 ->
            throw new Failure(
                FAILED,
                message != null && status == 404
                    ? "channel not found (404): " + message
                    : "no publish API at "
                        + target
                        + " ("
                        + status
                        + "): --url must be the Herald server's base URL, e.g."
                        + " http://127.0.0.1:8080/");
        default ->
            throw new Failure(
                FAILED,
                "publish failed ("
                    + status
                    + "): "
                    + (message == null ? clip(response.body()) : message));
      }
    }

    private String apiKey() throws IOException {
      if (apiKeyFile != null) {
        if (!Files.isReadable(apiKeyFile)) {
          throw new Failure(USAGE, "--api-key-file " + apiKeyFile + ": cannot read the file");
        }
        String k =
            Files.readString(apiKeyFile, StandardCharsets.UTF_8)
                .strip()
                .lines()
                .findFirst()
                .orElse("")
                .strip();
        if (k.isEmpty()) {
          throw new Failure(USAGE, "--api-key-file " + apiKeyFile + " is empty");
        }
        return k;
      }
      String k = cli.env.get(PUBLISH_KEY_ENV);
      if (k == null || k.isBlank()) {
        throw new Failure(
            USAGE, "no API key: set " + PUBLISH_KEY_ENV + " or pass --api-key-file FILE");
      }
      return k.strip();
    }
  }

  /** The message of a Herald error body ({"error":{"message":...}} or {"message":...}). */
  static @Nullable String serverMessage(ObjectMapper json, String body) {
    try {
      JsonNode n = json.readTree(body);
      if (n == null) {
        return null;
      }
      JsonNode m = n.path("error").path("message");
      if (m.isTextual()) {
        return m.asText();
      }
      m = n.path("message");
      return m.isTextual() ? m.asText() : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static String clip(@Nullable String s) {
    return s == null ? "" : s.length() > 200 ? s.substring(0, 200) + "…" : s;
  }

  // ------------------------------------------------------------------ version

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"herald-app " + App.version() + " (Java " + Runtime.version() + ")"};
    }
  }

  @Command(name = "version", mixinStandardHelpOptions = true, description = "Print the version.")
  // picocli sets the @ParentCommand field and the required parameters before call().
  @SuppressWarnings("NullAway.Init")
  static final class VersionCommand implements Callable<Integer> {
    @ParentCommand Cli cli;

    @Override
    public Integer call() {
      cli.out.println(new Version().getVersion()[0]);
      cli.out.flush();
      return 0;
    }
  }
}
