package dev.herald.app.testing;

import dev.herald.app.App;
import dev.herald.app.projects.ContentPublisher;
import dev.herald.app.users.Role;
import dev.herald.core.testkit.ManualScheduler;
import dev.herald.outbox.testing.PostgresServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The reference app on a random port, on H2 or on a real PostgreSQL, with five users: alice, bob,
 * dave (editors), carol (admin) and eve (an editor in no project). Passwords are {@code pw-<id>}.
 */
public final class TestApp implements AutoCloseable {
  /** Which database a test runs on. The same test classes run on both. */
  public enum Db {
    H2,
    POSTGRES
  }

  private final App app;
  private final Db db;

  private TestApp(App app, Db db) {
    this.app = app;
    this.db = db;
  }

  public static Map<String, String> config(Db db) {
    Map<String, String> m = new HashMap<>();
    m.put("server.port", "0");
    m.put("app.demo-users", "false");
    m.put("app.outbox.interval", "200ms");
    m.put("app.scheduler.interval", "200ms");
    m.put("namespaces", "project,user,admin");
    m.put("namespace.admin.history-size", "0");
    m.put("namespace.admin.presence", "false");
    m.put("namespace.admin.join-leave", "false");
    m.put("namespace.user.personal", "true");
    m.put("namespace.user.presence", "false");
    m.put("namespace.user.join-leave", "false");
    if (db == Db.POSTGRES) {
      m.put("app.db.url", PostgresServer.get().newDatabase("herald"));
      m.put("app.db.user", "postgres");
    } else {
      try {
        m.put("app.data-dir", Files.createTempDirectory("herald-h2").toString());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return m;
  }

  public static TestApp start(Db db) {
    return start(db, config(db), ContentPublisher.alwaysSucceeds());
  }

  public static TestApp start(Db db, Map<String, String> config, ContentPublisher publisher) {
    return start(App.Options.of(config).withPublisher(publisher), db);
  }

  /**
   * Starts the app on fake time: {@code time} is the app's clock and the hub's scheduler, so a
   * throttle delay, a session lifetime or a credential expiry passes only when the test advances
   * it, however slow the machine. Start it at the real time, so that cookies are not born expired.
   */
  public static TestApp start(
      Db db, Map<String, String> config, ContentPublisher publisher, ManualScheduler time) {
    return start(App.Options.of(config).withPublisher(publisher).withTime(time.clock(), time), db);
  }

  private static TestApp start(App.Options options, Db db) {
    App app = App.start(options);
    TestApp t = new TestApp(app, db);
    t.seedUsers();
    return t;
  }

  /** Wraps an already started app (for restart tests). */
  public static TestApp wrap(App app, Db db) {
    return new TestApp(app, db);
  }

  private void seedUsers() {
    for (String u : new String[] {"alice", "bob", "dave", "eve"}) {
      app.users()
          .create(u, Character.toUpperCase(u.charAt(0)) + u.substring(1), Role.EDITOR, "pw-" + u);
    }
    app.users().create("carol", "Carol", Role.ADMIN, "pw-carol");
  }

  public App app() {
    return app;
  }

  public Db db() {
    return db;
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + app.port();
  }

  public URI wsUri() {
    return URI.create("ws://127.0.0.1:" + app.port() + "/connection/websocket");
  }

  /** A logged-in API client. */
  public ApiClient login(String user) {
    ApiClient c = new ApiClient(baseUrl());
    c.login(user, "pw-" + user);
    return c;
  }

  public ApiClient anonymous() {
    return new ApiClient(baseUrl());
  }

  @Override
  public void close() {
    app.close();
  }

  static Path tempDir() throws IOException {
    return Files.createTempDirectory("herald-app");
  }
}
