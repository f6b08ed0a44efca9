package dev.herald.server.websocket;

import dev.herald.core.hub.ClientSession;
import dev.herald.core.hub.ConnectionContext;
import dev.herald.core.hub.Hub;
import dev.herald.protocol.CloseCode;
import dev.herald.protocol.ProtocolVersion;
import dev.herald.server.http.OriginPolicy;
import dev.herald.server.http.TrustedProxies;
import dev.herald.server.transport.WriteCoalescing;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket endpoint: checks the handshake (enabled, Origin, Upgrade headers, subprotocol),
 * upgrades, and connects the socket to a hub session. All protocol logic is in the hub.
 */
public final class WebSocketEndpoint {
  private static final Logger log = LoggerFactory.getLogger(WebSocketEndpoint.class);

  private final Vertx vertx;
  private final Hub hub;
  private final OriginPolicy origins;
  private final boolean enabled;
  private final TrustedProxies proxies;
  private final int maxMessageBytes;
  private final WriteCoalescing coalescing;

  public WebSocketEndpoint(Vertx vertx, Hub hub, OriginPolicy origins, boolean enabled) {
    this(vertx, hub, origins, enabled, Duration.ZERO, TrustedProxies.none());
  }

  /**
   * @param writeDelay {@code transport.write-delay}: how long new messages may wait to be written
   *     together with those queued meanwhile (zero: at once)
   * @param proxies decide the client address each handshake is counted under
   */
  public WebSocketEndpoint(
      Vertx vertx,
      Hub hub,
      OriginPolicy origins,
      boolean enabled,
      Duration writeDelay,
      TrustedProxies proxies) {
    this.coalescing = new WriteCoalescing(writeDelay);
    this.vertx = vertx;
    this.hub = hub;
    this.origins = origins;
    this.enabled = enabled;
    this.proxies = proxies;
    this.maxMessageBytes = hub.config().maxMessageBytes();
  }

  /**
   * The frame size Vert.x itself accepts. Messages between the configured limit and this ceiling
   * are refused by {@link FrameAssembler} with a clean 1009; beyond it, Vert.x drops the TCP
   * connection.
   */
  public static int hardFrameCeiling(int maxMessageBytes) {
    return (int)
        Math.min(Integer.MAX_VALUE, Math.max(4L * maxMessageBytes, maxMessageBytes + 65_536L));
  }

  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    if (!enabled) {
      refuse(
          ctx,
          404,
          "websocket-disabled",
          "WebSocket is disabled on this server (websocket.enabled=false)");
      return;
    }
    if (!origins.allows(req.getHeader(HttpHeaders.ORIGIN), req.getHeader(HttpHeaders.HOST))) {
      refuse(
          ctx,
          403,
          "origin-not-allowed",
          "Origin '"
              + req.getHeader(HttpHeaders.ORIGIN)
              + "' is not allowed (server.allowed-origins)");
      return;
    }
    if (!req.canUpgradeToWebSocket()) {
      refuse(
          ctx,
          400,
          "upgrade-missing",
          "This endpoint needs a WebSocket upgrade, but the request arrived without 'Upgrade: websocket' and 'Connection: Upgrade'. "
              + "If a proxy sits in front of the server, it is not forwarding these headers.");
      return;
    }
    String offered = req.getHeader("Sec-WebSocket-Protocol");
    if (offered != null && !offers(offered, ProtocolVersion.WEBSOCKET_SUBPROTOCOL)) {
      refuse(
          ctx,
          400,
          "subprotocol-unsupported",
          "Offered subprotocols '"
              + offered
              + "' do not include "
              + ProtocolVersion.WEBSOCKET_SUBPROTOCOL);
      return;
    }
    if (!hub.accepting()) {
      ctx.response().putHeader("Retry-After", "2");
      refuse(ctx, 503, "shutting-down", "The server is shutting down");
      return;
    }
    ConnectionContext context = proxies.connectionContext(req);
    String remote = context.remoteAddress();
    req.toWebSocket()
        .onSuccess(ws -> attach(ws, context))
        .onFailure(e -> log.debug("WebSocket upgrade failed from {}: {}", remote, e.toString()));
  }

  private void attach(ServerWebSocket ws, ConnectionContext context) {
    WebSocketConnection connection =
        new WebSocketConnection(ws, vertx.getOrCreateContext(), coalescing);
    ClientSession session = hub.openSession(connection, context);
    FrameAssembler frames =
        new FrameAssembler(
            maxMessageBytes,
            new FrameAssembler.Sink() {
              @Override
              public void message(String text) {
                session.onText(text);
              }

              @Override
              public void tooBig() {
                session.disconnect(
                    CloseCode.MESSAGE_TOO_BIG,
                    "message larger than " + maxMessageBytes + " bytes",
                    0);
              }

              @Override
              public void binary() {
                session.disconnect(
                    CloseCode.UNSUPPORTED_DATA, CloseCode.UNSUPPORTED_DATA.reason(), 0);
              }

              @Override
              public void invalidUtf8() {
                session.disconnect(
                    CloseCode.INVALID_PAYLOAD, CloseCode.INVALID_PAYLOAD.reason(), 0);
              }
            });
    ws.frameHandler(frames::onFrame);
    ws.drainHandler(v -> session.onWritable());
    ws.exceptionHandler(
        e -> log.debug("WebSocket error on {}: {}", session.clientId(), e.toString()));
    ws.closeHandler(v -> session.onTransportClosed());
  }

  private static boolean offers(String header, String protocol) {
    for (String p : header.split(",")) {
      if (p.trim().equals(protocol)) {
        return true;
      }
    }
    return false;
  }

  private static void refuse(RoutingContext ctx, int status, String code, String message) {
    ctx.response()
        .setStatusCode(status)
        .putHeader("X-Herald-Error", code)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .end(message + "\n");
  }
}
