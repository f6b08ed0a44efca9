package dev.herald.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts HTTP requests by method, route pattern (e.g. {@code /connection/poll/:session}, never the
 * raw path) and status class ({@code 2xx}...), as {@code herald_http_server_requests_total}.
 * Installed as the router's first handler; counts when the response headers are written.
 */
public final class HttpMetricsHandler implements Handler<RoutingContext> {
  private static final Set<String> METHODS =
      Set.of("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH");

  private final MeterRegistry registry;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  public HttpMetricsHandler(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void handle(RoutingContext ctx) {
    ctx.addHeadersEndHandler(v -> record(ctx));
    ctx.next();
  }

  private void record(RoutingContext ctx) {
    HttpMethod m = ctx.request().method();
    String method = m != null && METHODS.contains(m.name()) ? m.name() : "OTHER";
    int status = ctx.response().getStatusCode();
    String route = route(ctx.currentRoute());
    String statusClass = status >= 100 && status < 600 ? (status / 100) + "xx" : "other";
    String key = method + ' ' + route + ' ' + statusClass;
    Counter c = counters.get(key);
    if (c == null) {
      c =
          counters.computeIfAbsent(
              key,
              k ->
                  Counter.builder("herald.http.server.requests")
                      .description("HTTP requests by method, route pattern and status class")
                      .tag("method", method)
                      .tag("route", route)
                      .tag("status", statusClass)
                      .register(registry));
    }
    c.increment();
  }

  private static String route(Route r) {
    // No matching route leaves this handler's own (path-less) route current: "unmatched".
    if (r == null || r.isRegexPath()) {
      return "unmatched";
    }
    String p = r.getPath();
    return p == null || p.isEmpty() ? "unmatched" : p;
  }
}
