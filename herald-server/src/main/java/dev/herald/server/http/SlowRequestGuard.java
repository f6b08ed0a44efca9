package dev.herald.server.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes connections that send a request too slowly (slowloris). Every request's headers must be
 * complete within the request timeout: on a new connection counted from the moment it opens, on a
 * kept-alive connection from the moment the previous response ended (so a second request that
 * trickles its headers byte by byte, which keeps the idle timeout from ever firing, is closed too);
 * a request with a body must deliver the body within the same time after its headers.
 *
 * <p>Each HTTP connection has one timer, checked every timeout, with no work per byte: a connection
 * that had no request yet, or whose last response had already ended at the previous check with no
 * request since, is closed; so a connection is closed between one and two timeouts after its last
 * response. A connection with a request in progress (a long poll, an SSE stream) is left alone, and
 * a WebSocket upgrade request ends the checks for its connection (the idle timeout and {@code
 * connect.timeout} take over).
 */
public final class SlowRequestGuard {
  private static final Logger log = LoggerFactory.getLogger(SlowRequestGuard.class);

  private final Vertx vertx;
  private final long timeoutMillis;
  private final Handler<HttpServerRequest> next;
  private final Map<HttpConnection, Watch> watches = new ConcurrentHashMap<>();

  public SlowRequestGuard(Vertx vertx, long timeoutMillis, Handler<HttpServerRequest> next) {
    this.vertx = vertx;
    this.timeoutMillis = timeoutMillis;
    this.next = next;
  }

  /** A TCP connection was accepted. */
  public void onConnection(HttpConnection conn) {
    Watch w = new Watch(conn);
    watches.put(conn, w);
    w.schedule();
    conn.closeHandler(v -> w.stop());
  }

  /** The connection became a WebSocket outside Vert.x: no more HTTP requests to watch. */
  public void upgraded(HttpConnection conn) {
    Watch w = watches.get(conn);
    if (w != null) {
      w.stop();
    }
  }

  /** A request's headers arrived. */
  public void onRequest(HttpServerRequest req) {
    HttpConnection conn = req.connection();
    Watch w = conn == null ? null : watches.get(conn);
    if (w != null) {
      if ("websocket".equalsIgnoreCase(req.getHeader("Upgrade"))) {
        w.stop(); // no more HTTP requests once upgraded; idle and connect timeouts take over
      } else {
        w.requests++;
        w.last = req;
      }
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

  /** One connection's state; touched only on its event loop. */
  private final class Watch {
    private final HttpConnection conn;
    private long timer = -1;
    private boolean stopped;
    private long requests;
    private @Nullable HttpServerRequest last; // null until its first request's headers
    // The request count seen at the previous check when the connection sat between requests.
    private long idleAt = -1;

    Watch(HttpConnection conn) {
      this.conn = conn;
    }

    void schedule() {
      timer =
          vertx.setTimer(
              timeoutMillis,
              id -> {
                timer = -1;
                check();
              });
    }

    void check() {
      if (stopped) {
        return;
      }
      HttpServerRequest l = last;
      if (l == null) {
        close("no complete request headers");
        return;
      }
      if (!l.response().ended()) {
        idleAt = -1; // a request in progress (long poll, SSE stream, slow handler)
      } else if (idleAt == requests) {
        close("no complete headers for the next request");
        return;
      } else {
        idleAt = requests;
      }
      schedule();
    }

    void close(String why) {
      log.debug("closing {}: {} within {} ms", conn.remoteAddress(), why, timeoutMillis);
      stop();
      conn.close();
    }

    void stop() {
      stopped = true;
      if (timer != -1) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
      watches.remove(conn);
    }
  }

  private static boolean hasBody(HttpServerRequest req) {
    HttpMethod m = req.method();
    if (m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)) {
      return false;
    }
    String length = req.getHeader("Content-Length");
    return !"0".equals(length) && (length != null || req.getHeader("Transfer-Encoding") != null);
  }
}
