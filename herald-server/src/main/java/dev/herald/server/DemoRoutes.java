package dev.herald.server;

import dev.herald.server.auth.JwtAuthenticator;
import dev.herald.server.http.Cors;
import dev.herald.server.http.OriginPolicy;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The demo page and its token endpoint. Enabled only with {@code demo.enabled=true}: the token
 * endpoint hands out a token for any demo user without a password, which is fine on a laptop and
 * never in production.
 */
final class DemoRoutes {
  static final Map<String, String> USERS = new LinkedHashMap<>();

  static {
    USERS.put("alice", "Alice Editor");
    USERS.put("bob", "Bob Reviewer");
    USERS.put("carol", "Carol Admin");
  }

  private DemoRoutes() {}

  static void install(Router router, @Nullable JwtAuthenticator jwt, OriginPolicy origins) {
    // A page on another origin (the docs' cross-origin quick start) fetches its token here.
    router
        .route("/demo/token")
        .method(HttpMethod.GET)
        .method(HttpMethod.OPTIONS)
        .handler(Cors.forPublicResources(origins, "GET"))
        .handler(
            ctx -> {
              String user = ctx.request().getParam("user");
              if (jwt == null || !jwt.canMint()) {
                ctx.response()
                    .setStatusCode(404)
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .end(
                        new JsonObject()
                            .put("error", "demo tokens need auth.jwt.secrets to sign with")
                            .encode());
                return;
              }
              if (user == null || !USERS.containsKey(user)) {
                ctx.response()
                    .setStatusCode(400)
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .end(
                        new JsonObject()
                            .put("error", "user must be one of " + USERS.keySet())
                            .encode());
                return;
              }
              String token = jwt.mint(user, Map.of("name", USERS.get(user)), 3_600_000);
              ctx.response()
                  .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                  .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
                  .end(new JsonObject().put("user", user).put("token", token).encode());
            });
    router.route("/*").handler(StaticHandler.create("webroot/demo").setCachingEnabled(false));
  }
}
