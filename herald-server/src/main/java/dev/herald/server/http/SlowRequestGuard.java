package dev.herald.server.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes connections that send a request too slowly (slowloris): a new connection must deliver its
 * first request's headers within the request timeout, and a request with a body must deliver the
 * body within the same time after its headers. Idle keep-alive connections are left to the server's
 * idle timeout. One timer per connection while it is waiting; no work per byte.
 */
public final class SlowRequestGuard {
  private static final Logger log = LoggerFactory.getLogger(SlowRequestGuard.class);

  private final Vertx vertx;
  private final long timeoutMillis;
  private final Handler<HttpServerRequest> next;
  // Connections still waiting for their first request's headers -> timer id.
  private final Map<HttpConnection, Long> awaitingHeaders = new ConcurrentHashMap<>();

  public SlowRequestGuard(Vertx vertx, long timeoutMillis, Handler<HttpServerRequest> next) {
    this.vertx = vertx;
    this.timeoutMillis = timeoutMillis;
    this.next = next;
  }

  /** A TCP connection was accepted. */
  public void onConnection(HttpConnection conn) {
    long timer =
        vertx.setTimer(
            timeoutMillis,
            id -> {
              if (awaitingHeaders.remove(conn) != null) {
                log.debug(
                    "closing {}: no complete request headers within {} ms",
                    conn.remoteAddress(),
                    timeoutMillis);
                conn.close();
              }
            });
    awaitingHeaders.put(conn, timer);
    conn.closeHandler(
        v -> {
          Long t = awaitingHeaders.remove(conn);
          if (t != null) {
            vertx.cancelTimer(t);
          }
        });
  }

  /** A request's headers arrived. */
  public void onRequest(HttpServerRequest req) {
    HttpConnection conn = req.connection();
    Long t = conn == null ? null : awaitingHeaders.remove(conn);
    if (t != null) {
      vertx.cancelTimer(t);
    }
    if (hasBody(req)) {
      vertx.setTimer(
          timeoutMillis,
          id -> {
            if (!req.isEnded() && conn != null) {
              log.debug(
                  "closing {}: request body to {} not complete within {} ms",
                  conn.remoteAddress(),
                  req.path(),
                  timeoutMillis);
              conn.close();
            }
          });
    }
    next.handle(req);
  }

  private static boolean hasBody(HttpServerRequest req) {
    HttpMethod m = req.method();
    if (m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS) {
      return false;
    }
    String length = req.getHeader("Content-Length");
    return !"0".equals(length) && (length != null || req.getHeader("Transfer-Encoding") != null);
  }
}
