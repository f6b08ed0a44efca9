package dev.herald.app.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.app.access.Access;
import dev.herald.app.activity.ActivityService;
import dev.herald.app.admin.AdminConsole;
import dev.herald.app.db.Database;
import dev.herald.app.events.ChangeLog;
import dev.herald.app.notifications.NotificationService;
import dev.herald.app.projects.Project;
import dev.herald.app.projects.ProjectService;
import dev.herald.app.session.CookiePolicy;
import dev.herald.app.session.DeviceCookies;
import dev.herald.app.session.LoginThrottle;
import dev.herald.app.session.SessionStore;
import dev.herald.app.users.User;
import dev.herald.app.users.UserRepository;
import dev.herald.outbox.ChangePage;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The JSON REST API under {@code /api} (docs/api.md). Handlers run on worker threads (JDBC blocks).
 * Every route but login requires a session cookie; every state-changing request also needs the
 * session's CSRF token in {@code X-CSRF-Token}. After a write commits, the outbox relay is woken so
 * events go out at once.
 */
public final class ApiRouter {
  private static final Logger log = LoggerFactory.getLogger(ApiRouter.class);
  private static final Logger access = LoggerFactory.getLogger("dev.herald.app.access");

  /** MDC key (and routing-context key) of the current API request's id. */
  public static final String REQUEST_ID = "requestId";

  private static final AtomicLong REQUEST_IDS = new AtomicLong();
  private static final String NODE_SALT =
      Long.toHexString(new java.security.SecureRandom().nextInt() & 0xffffffL);
  public static final String CSRF_HEADER = "X-CSRF-Token";
  private static final int MAX_BODY = 64 * 1024;

  /** Longest user name a login may name; longer ones get 400 before anything else happens. */
  public static final int MAX_USERNAME = 200;

  /** Threads checking passwords (Argon2), and login requests that may wait for one of them. */
  static final int LOGIN_THREADS = 2;

  static final int LOGIN_QUEUE = 32;

  private final Database db;
  private final UserRepository users;
  private final SessionStore sessions;
  private final ProjectService projects;
  private final ActivityService activities;
  private final NotificationService notifications;
  private final ChangeLog changes;
  private final Runnable wakeRelay;
  private final ObjectMapper json;
  private final AdminConsole admin;
  private final Security security;
  private final AtomicInteger loginsInFlight = new AtomicInteger();
  private @Nullable WorkerExecutor loginWorkers; // created on the first login; guarded by this

  /**
   * Login throttling and device cookies, cookie settings, and what to do when a login session ends
   * or a user's access shrinks (end that session's live connections; re-check the user's
   * subscriptions).
   */
  public record Security(
      LoginThrottle throttle,
      DeviceCookies devices,
      CookiePolicy cookies,
      Consumer<String> loggedOut,
      Consumer<String> accessReduced) {}

  public ApiRouter(
      Database db,
      UserRepository users,
      SessionStore sessions,
      ProjectService projects,
      ActivityService activities,
      NotificationService notifications,
      ChangeLog changes,
      Runnable wakeRelay,
      ObjectMapper json,
      AdminConsole admin,
      Security security) {
    this.security = security;
    this.db = db;
    this.users = users;
    this.sessions = sessions;
    this.projects = projects;
    this.activities = activities;
    this.notifications = notifications;
    this.changes = changes;
    this.wakeRelay = wakeRelay;
    this.json = json;
    this.admin = admin;
  }

  @FunctionalInterface
  interface Action {
    Object run(Request r);
  }

  /** A response with a status other than 200, or no body (204). */
  record Status(int code, @Nullable Object body) {}

  public void install(Router router) {
    router.route("/api/*").handler(ApiRouter::requestId);
    router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY));

    router.post("/api/login").handler(this::login);
    api(
        router.post("/api/logout"),
        r -> {
          String token = r.ctx().request().getCookie(SessionStore.COOKIE).getValue();
          sessions.delete(token);
          // The row is gone, so no new connection can use the cookie; end the open ones too.
          security.loggedOut().accept(token);
          r.ctx().response().addCookie(security.cookies().sessionCookie(r.ctx().request(), "", 0));
          return new Status(204, null);
        });
    api(router.get("/api/me"), r -> me(r.user(), r.ctx()));
    api(
        router.get("/api/users"),
        r -> {
          String query = r.query("q");
          String q = query == null ? "" : query.toLowerCase(Locale.ROOT);
          return users.all().stream()
              .filter(
                  u -> u.id().startsWith(q) || u.displayName().toLowerCase(Locale.ROOT).contains(q))
              .map(u -> Map.of("id", u.id(), "displayName", u.displayName()))
              .toList();
        });

    api(router.get("/api/projects"), r -> projects.list(r.user()));
    api(
        router.post("/api/projects"),
        r ->
            new Status(
                201,
                projects.create(
                    r.user(), r.string("name"), r.string("description"), r.strings("members"))));
    api(router.get("/api/projects/:id"), r -> projects.get(r.user(), r.id("id")));
    api(
        router.get("/api/projects/:id/snapshot"),
        r -> snapshot(r.user(), r.id("id"), snapshotParts(r.query("only"))));
    api(router.get("/api/projects/:id/changes"), r -> projectChanges(r));
    api(
        router.post("/api/projects/:id/members"),
        r -> projects.addMember(r.user(), r.id("id"), r.string("userId")));
    api(
        router.delete("/api/projects/:id/members/:userId"),
        r -> {
          Project p = projects.removeMember(r.user(), r.id("id"), r.path("userId"));
          security.accessReduced().accept(r.path("userId"));
          return p;
        });
    api(router.get("/api/projects/:id/items"), r -> projects.items(r.user(), r.id("id")));
    api(
        router.post("/api/projects/:id/items"),
        r -> {
          // Wrong types are reported together with the other invalid fields.
          Map<String, String> errors = new LinkedHashMap<>();
          String contentRef = r.collect(errors, () -> r.string("contentRef"));
          Integer contentVersion = r.collect(errors, () -> r.integer("contentVersion"));
          String title = r.collect(errors, () -> r.string("title"));
          String type = r.collect(errors, () -> r.string("type"));
          return new Status(
              201,
              projects.addItem(
                  r.user(), r.id("id"), contentRef, contentVersion, title, type, errors));
        });
    api(
        router.delete("/api/projects/:id/items/:itemId"),
        r -> {
          projects.removeItem(r.user(), r.id("id"), r.id("itemId"));
          return new Status(204, null);
        });
    api(
        router.post("/api/projects/:id/items/:itemId/ready"),
        r -> projects.markReady(r.user(), r.id("id"), r.id("itemId")));
    api(
        router.post("/api/projects/:id/items/:itemId/reject"),
        r -> projects.reject(r.user(), r.id("id"), r.id("itemId"), r.string("reason")));
    api(router.post("/api/projects/:id/publish"), r -> projects.publish(r.user(), r.id("id")));
    api(
        router.post("/api/projects/:id/schedule"),
        r -> projects.schedule(r.user(), r.id("id"), r.time("at")));
    api(
        router.delete("/api/projects/:id/schedule"),
        r -> projects.unschedule(r.user(), r.id("id")));

    api(
        router.get("/api/projects/:id/activities"),
        r -> activities.list(r.user(), r.id("id"), r.queryLong("before"), r.queryInt("limit", 50)));
    api(
        router.post("/api/projects/:id/activities"),
        r ->
            new Status(
                201,
                activities.post(r.user(), r.id("id"), r.longValue("itemId"), r.string("message"))));
    api(
        router.patch("/api/activities/:id"),
        r -> activities.edit(r.user(), r.id("id"), r.string("message")));
    api(
        router.delete("/api/activities/:id"),
        r -> {
          activities.delete(r.user(), r.id("id"));
          return new Status(204, null);
        });
    api(
        router.post("/api/activities/:id/replies"),
        r -> new Status(201, activities.reply(r.user(), r.id("id"), r.string("message"))));
    api(
        router.patch("/api/replies/:id"),
        r -> activities.editReply(r.user(), r.id("id"), r.string("message")));
    api(
        router.delete("/api/replies/:id"),
        r -> {
          activities.deleteReply(r.user(), r.id("id"));
          return new Status(204, null);
        });

    api(
        router.get("/api/notifications"),
        r -> {
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("seq", db.read(h -> changes.head(h, NotificationService.channel(r.user().id()))));
          out.put("unread", notifications.unread(r.user()));
          out.put(
              "items",
              notifications.list(r.user(), r.queryLong("before"), r.queryInt("limit", 20)));
          return out;
        });
    api(
        router.get("/api/notifications/unread-count"),
        r -> Map.of("unread", notifications.unread(r.user())));
    api(
        router.get("/api/notifications/changes"),
        r -> changes(NotificationService.channel(r.user().id()), r));
    api(
        router.post("/api/notifications/read-all"),
        r -> Map.of("changed", notifications.markAllRead(r.user())));
    api(
        router.post("/api/notifications/:id/read"),
        r -> {
          notifications.markRead(r.user(), r.id("id"));
          return new Status(204, null);
        });

    // The admin console (docs/operations.md): admins only, every action audited.
    api(router.get("/api/admin/stats"), r -> admin.stats(r.user()));
    api(router.get("/api/admin/nodes"), r -> admin.nodes(r.user()));
    api(
        router.get("/api/admin/users/:userId/connections"),
        r -> admin.connections(r.user(), r.path("userId")));
    api(
        router.post("/api/admin/users/:userId/disconnect"),
        r -> admin.disconnectUser(r.user(), r.path("userId")));
    api(
        router.post("/api/admin/connections/:connectionId/disconnect"),
        r -> admin.disconnectConnection(r.user(), r.path("connectionId")));
    api(
        router.get("/api/admin/channels/:channel"),
        r -> admin.channel(r.user(), r.path("channel"), r.queryLong("limit")));
    api(router.post("/api/admin/publish"), r -> admin.publish(r.user(), r));

    router
        .route("/api/*")
        .last()
        .handler(
            ctx ->
                error(
                    ctx,
                    ApiException.notFound(
                        "API endpoint " + ctx.request().method() + " " + ctx.request().path())));
  }

  // ---------------------------------------------------------------- handlers

  /**
   * Login. Cheap checks and the throttle run on the event loop; the password check (Argon2) runs on
   * a small pool of its own with a bounded queue, so a login flood cannot starve the other API
   * requests: when the queue is full the attempt gets {@code 503 busy} with {@code Retry-After}.
   */
  private void login(RoutingContext ctx) {
    Request r = new Request(ctx, json, null);
    String username;
    String password;
    LoginThrottle.Attempt attempt;
    try {
      username = r.string("username");
      password = r.string("password");
      if (username != null && username.length() > MAX_USERNAME) {
        throw ApiException.invalid(
            Map.of(
                "username",
                ApiException.tooLong("The user name", username.length(), MAX_USERNAME)));
      }
      Cookie device = ctx.request().getCookie(DeviceCookies.COOKIE);
      attempt =
          security
              .throttle()
              .attempt(
                  username,
                  security.cookies().clientAddress(ctx.request()),
                  device == null
                      ? null
                      : security.devices().verify(device.getValue(), username).orElse(null));
    } catch (ApiException e) {
      error(ctx, e);
      return;
    }
    if (attempt instanceof LoginThrottle.Refused refused) {
      long seconds = Math.max(1, (refused.retryAfter().toMillis() + 999) / 1000);
      ctx.response().putHeader("Retry-After", Long.toString(seconds));
      error(
          ctx,
          new ApiException(
              429,
              "too_many_attempts",
              "Too many failed logins. Try again in " + seconds + " s.",
              null));
      return;
    }
    LoginThrottle.Permit permit = (LoginThrottle.Permit) attempt;
    if (loginsInFlight.incrementAndGet() > LOGIN_THREADS + LOGIN_QUEUE) {
      loginsInFlight.decrementAndGet();
      permit.cancel();
      ctx.response().putHeader("Retry-After", "1");
      error(ctx, new ApiException(503, "busy", "Too many logins at once. Try again.", null));
      return;
    }
    loginWorkers(ctx)
        .executeBlocking(
            () -> {
              withRequestId(
                  ctx, () -> run(ctx, null, req -> checkPassword(req, username, password, permit)));
              return null;
            },
            false)
        .onComplete(done -> loginsInFlight.decrementAndGet());
  }

  private synchronized WorkerExecutor loginWorkers(RoutingContext ctx) {
    if (loginWorkers == null) {
      loginWorkers = ctx.vertx().createSharedWorkerExecutor("herald-login", LOGIN_THREADS);
    }
    return loginWorkers;
  }

  private Object checkPassword(
      Request r,
      @Nullable String username,
      @Nullable String password,
      LoginThrottle.Permit permit) {
    Optional<User> user = users.authenticate(username, password);
    if (user.isEmpty()) {
      throw new ApiException(401, "invalid_credentials", "Wrong user name or password.", null);
    }
    permit.succeeded();
    Cookie old = r.ctx().request().getCookie(SessionStore.COOKIE);
    if (old != null) {
      // Rotate: never keep a session id from before login, nor its live connections.
      sessions.delete(old.getValue());
      security.loggedOut().accept(old.getValue());
    }
    SessionStore.Session s = sessions.create(user.get());
    boolean secure = security.cookies().secure(r.ctx().request());
    r.ctx()
        .response()
        .addCookie(
            security
                .cookies()
                .sessionCookie(r.ctx().request(), s.token(), sessions.ttl().toSeconds()))
        .addCookie(security.devices().issue(user.get().id(), secure));
    return Map.of("user", user.get(), "csrfToken", s.csrfToken());
  }

  private Map<String, Object> me(User user, RoutingContext ctx) {
    SessionStore.Session s = ctx.get("session");
    return Map.of("user", user, "csrfToken", s.csrfToken());
  }

  /**
   * Whether a snapshot is the project alone ({@code only=project}, for lists) rather than the
   * project with its items and newest activities (no {@code only}).
   */
  private static boolean snapshotParts(@Nullable String only) {
    if (only == null) {
      return false;
    }
    if (!only.equals("project")) {
      throw ApiException.invalid(Map.of("only", "Leave it out, or give 'project'."));
    }
    return true;
  }

  /**
   * The project's state for a page load or a refetch. {@code seq} is read first, so the state is at
   * least as new as it: replaying "changes since seq" on top may repeat a change the state already
   * has, which clients skip by entity version.
   */
  private Map<String, Object> snapshot(User user, long projectId, boolean projectOnly) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put(
        "seq",
        db.read(
            h -> {
              Access.require(h, user, projectId);
              return changes.head(h, ProjectService.channel(projectId));
            }));
    out.put("project", projects.get(user, projectId));
    if (!projectOnly) {
      out.put("items", projects.items(user, projectId));
      out.put("activities", activities.list(user, projectId, null, 50));
    }
    return out;
  }

  private Object projectChanges(Request r) {
    long id = r.id("id");
    db.read(
        h -> {
          Access.require(h, r.user(), id);
          return null;
        });
    return changes(ProjectService.channel(id), r);
  }

  /** "Changes since" (herald-outbox's ChangePage): {seq, more, changes[, snapshotRequired]}. */
  private Object changes(String channel, Request r) {
    long since;
    try {
      String given = r.query("since");
      since = ChangePage.parseSince(given == null ? "" : given); // blank: "required"
    } catch (IllegalArgumentException e) {
      throw ApiException.invalid(
          Map.of(
              "since", "Give the last seq you applied, a whole number from 0 (0 for everything)."));
    }
    String page = db.read(h -> changes.since(h, channel, since).toJson());
    try {
      return json.readTree(page);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("herald-outbox wrote a change page that is not JSON", e);
    }
  }

  // ---------------------------------------------------------------- plumbing

  /**
   * Gives every API request an id: in the {@code X-Request-Id} response header, in the MDC (key
   * {@code requestId}) while its handler runs, and in the access log line written when it ends.
   * Only method, path (no query string), status and duration are logged (and, as structured fields,
   * the route pattern and the user id): never bodies, cookies or headers.
   */
  private static void requestId(RoutingContext ctx) {
    String id = Long.toHexString(REQUEST_IDS.incrementAndGet()) + "-" + NODE_SALT;
    long start = System.nanoTime();
    ctx.put(REQUEST_ID, id);
    ctx.response().putHeader("X-Request-Id", id);
    String method = ctx.request().method().name();
    String path = ctx.request().path();
    ctx.addEndHandler(
        v -> {
          MDC.put(REQUEST_ID, id);
          try {
            int status = ctx.response().getStatusCode();
            long ms = (System.nanoTime() - start) / 1_000_000;
            SessionStore.Session session = ctx.get("session");
            access
                .atInfo()
                .addKeyValue("method", method)
                .addKeyValue("route", routePattern(ctx))
                .addKeyValue("status", status)
                .addKeyValue("durationMs", ms)
                .addKeyValue("user", session == null ? null : session.user().id())
                .log("{} {} -> {} ({} ms)", method, path, status, ms);
          } finally {
            MDC.remove(REQUEST_ID);
          }
        });
    ctx.next();
  }

  /**
   * The pattern of the route that answered ({@code /api/projects/:id}), never the raw path, so
   * access lines group by endpoint and carry no ids; {@code unmatched} for a 404 of no route.
   */
  private static String routePattern(RoutingContext ctx) {
    Route r = ctx.currentRoute();
    String p = r == null ? null : r.getPath();
    return p == null || p.equals("/api/") || p.endsWith("*") ? "unmatched" : p;
  }

  /** Runs a blocking handler with the request id in the MDC. */
  private static void withRequestId(RoutingContext ctx, Runnable r) {
    String id = ctx.get(REQUEST_ID);
    if (id != null) {
      MDC.put(REQUEST_ID, id);
    }
    try {
      r.run();
    } finally {
      MDC.remove(REQUEST_ID);
    }
  }

  /** A route that needs a session, and a CSRF token when it changes state. */
  private void api(Route route, Action action) {
    route.blockingHandler(ctx -> withRequestId(ctx, () -> authenticated(ctx, action)), false);
  }

  private void authenticated(RoutingContext ctx, Action action) {
    Cookie cookie = ctx.request().getCookie(SessionStore.COOKIE);
    Optional<SessionStore.Session> session =
        cookie == null ? Optional.empty() : sessions.find(cookie.getValue());
    if (session.isEmpty()) {
      error(ctx, ApiException.unauthorized());
      return;
    }
    HttpMethod m = ctx.request().method();
    boolean changes =
        !(m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS));
    if (changes && !csrfMatches(session.get().csrfToken(), ctx.request().getHeader(CSRF_HEADER))) {
      error(
          ctx,
          new ApiException(
              403, "csrf_failed", "Missing or wrong " + CSRF_HEADER + " header.", null));
      return;
    }
    ctx.put("session", session.get());
    run(ctx, session.get().user(), action);
    if (changes) {
      wakeRelay.run();
    }
  }

  /**
   * Compares in constant time, so response timing does not reveal how much of a guess was right.
   */
  static boolean csrfMatches(String expected, @Nullable String given) {
    return given != null
        && MessageDigest.isEqual(
            expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
  }

  private void run(RoutingContext ctx, @Nullable User user, Action action) {
    try {
      Object result = action.run(new Request(ctx, json, user));
      if (result instanceof Status s) {
        respond(ctx, s.code(), s.body());
      } else {
        respond(ctx, 200, result);
      }
    } catch (ApiException e) {
      error(ctx, e);
    } catch (RuntimeException e) {
      log.error("{} {} failed", ctx.request().method(), ctx.request().path(), e);
      error(ctx, new ApiException(500, "internal", "Something went wrong on the server.", null));
    }
  }

  private void respond(RoutingContext ctx, int status, @Nullable Object body) {
    if (body == null) {
      ctx.response().setStatusCode(status).end();
      return;
    }
    try {
      ctx.response()
          .setStatusCode(status)
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
          .end(json.writeValueAsString(body));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private void error(RoutingContext ctx, ApiException e) {
    Map<String, Object> err = new LinkedHashMap<>();
    err.put("status", e.status());
    err.put("code", e.code());
    err.put("message", e.getMessage());
    if (!e.fields().isEmpty()) {
      err.put("fields", e.fields());
    }
    respond(ctx, e.status(), Map.of("error", err));
  }
}
