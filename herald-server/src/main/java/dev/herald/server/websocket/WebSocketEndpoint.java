package dev.herald.server.websocket;

import dev.herald.core.hub.ConnectionContext;
import dev.herald.core.hub.Hub;
import dev.herald.protocol.ProtocolVersion;
import dev.herald.server.http.OriginPolicy;
import dev.herald.server.http.TrustedProxies;
import dev.herald.server.transport.VertxLoops;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.DeflateFrameServerExtensionHandshaker;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.impl.VertxHandler;
import io.vertx.ext.web.RoutingContext;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket endpoint. Upgraded connections leave Vert.x: the handshake request is taken from
 * the HTTP connection's Netty pipeline before Vert.x builds a request for it, the upgrade is done
 * with Netty's handshaker, and the connection then runs on a lean pipeline of its own (frame
 * decoder, frame encoder, {@link WebSocketConnection}), holding no HTTP request, routing context or
 * per-connection write queue of Vert.x. Handshakes that must be refused (disabled, Origin, missing
 * Upgrade headers, subprotocol, shutting down) go on to Vert.x, where {@link #handle} answers them
 * with a plain HTTP status and {@code X-Herald-Error}. All protocol logic is in the hub.
 */
public final class WebSocketEndpoint {
  private static final Logger log = LoggerFactory.getLogger(WebSocketEndpoint.class);

  /** zlib's default compression level, as the handshakers use without a level given. */
  private static final int DEFLATE_LEVEL = 6;

  /** A refused handshake: HTTP status, {@code X-Herald-Error} code and message. */
  record Refusal(int status, String code, String message) {}

  private final Hub hub;
  private final OriginPolicy origins;
  private final boolean enabled;
  private final String path;
  private final VertxLoops loops;
  private final TrustedProxies proxies;
  private final boolean compression;
  private final WebSocketConnection.Settings settings;
  private final Upgrade upgrade = new Upgrade();
  // Immutable, shared by every handshake (the URL only names the endpoint in Netty's logs).
  private final WebSocketServerHandshakerFactory handshakers;
  private volatile Consumer<HttpConnection> upgraded = c -> {};

  /**
   * @param path the WebSocket path ({@code websocket.path})
   * @param loops the server's event loops as the hub sees them
   * @param proxies decide the client address each handshake is counted under
   * @param compression whether permessage-deflate is offered ({@code websocket.compression})
   */
  public WebSocketEndpoint(
      Hub hub,
      OriginPolicy origins,
      boolean enabled,
      String path,
      VertxLoops loops,
      TrustedProxies proxies,
      boolean compression) {
    this.hub = hub;
    this.origins = origins;
    this.enabled = enabled;
    this.path = path;
    this.loops = loops;
    this.proxies = proxies;
    this.compression = compression;
    this.settings = new WebSocketConnection.Settings(hub.config().maxMessageBytes(), compression);
    this.handshakers =
        new WebSocketServerHandshakerFactory(
            "ws://herald" + path,
            ProtocolVersion.WEBSOCKET_SUBPROTOCOL,
            WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(hardFrameCeiling(settings.maxMessageBytes()))
                .allowExtensions(compression)
                .expectMaskedFrames(true)
                .allowMaskMismatch(false)
                .closeOnProtocolViolation(true)
                .withUTF8Validator(false)
                .build());
  }

  /**
   * The frame size the decoder itself accepts. Messages between the configured limit and this
   * ceiling are refused by {@link WebSocketConnection} with a clean 1009; a single frame beyond it
   * is refused by the decoder, also with 1009.
   */
  public static int hardFrameCeiling(int maxMessageBytes) {
    return (int)
        Math.min(Integer.MAX_VALUE, Math.max(4L * maxMessageBytes, maxMessageBytes + 65_536L));
  }

  /**
   * Watches a new HTTP connection for a WebSocket handshake on this endpoint's path. Call from the
   * server's connection handler, before the connection reads its first request.
   */
  public void install(HttpConnection connection) {
    if (!(connection instanceof ConnectionBase c)) {
      return; // not an HTTP/1 connection of this Vert.x version: handshakes are refused below
    }
    ChannelPipeline p = c.channelHandlerContext().pipeline();
    if (p.get("handler") == null) {
      return;
    }
    if (compression) {
      // A frame inflates to at most the hard ceiling: beyond it the inflater fails (answered with
      // 1009 by WebSocketConnection) instead of filling the heap with a small compressed frame.
      int maxInflated = hardFrameCeiling(settings.maxMessageBytes());
      p.addBefore(
          "handler",
          null,
          new WebSocketServerExtensionHandler(
              new PerMessageDeflateServerExtensionHandshaker(maxInflated),
              new DeflateFrameServerExtensionHandshaker(DEFLATE_LEVEL, maxInflated)));
    }
    loops.of(c.context()); // known before an upgrade needs it
    p.addBefore("handler", null, upgrade);
  }

  /** Told of every HTTP connection that became a WebSocket (it serves no more HTTP requests). */
  public void onUpgrade(Consumer<HttpConnection> listener) {
    this.upgraded = listener;
  }

  /** The refusal for a handshake, or null when it may be upgraded. */
  @Nullable Refusal refusal(
      HttpMethod method, String origin, String host, Function<String, List<String>> headers) {
    if (!enabled) {
      return new Refusal(
          404,
          "websocket-disabled",
          "WebSocket is disabled on this server (websocket.enabled=false)");
    }
    if (!origins.allows(origin, host)) {
      return new Refusal(
          403,
          "origin-not-allowed",
          "Origin '" + origin + "' is not allowed (server.allowed-origins)");
    }
    if (!HttpMethod.GET.equals(method) || !upgradeHeaders(headers)) {
      return new Refusal(
          400,
          "upgrade-missing",
          "This endpoint needs a WebSocket upgrade, but the request arrived without 'Upgrade:"
              + " websocket' and 'Connection: Upgrade'. If a proxy sits in front of the server, it"
              + " is not forwarding these headers.");
    }
    List<String> offered = headers.apply("Sec-WebSocket-Protocol");
    if (!offered.isEmpty()
        && !offers(String.join(",", offered), ProtocolVersion.WEBSOCKET_SUBPROTOCOL)) {
      return new Refusal(
          400,
          "subprotocol-unsupported",
          "Offered subprotocols '"
              + String.join(",", offered)
              + "' do not include "
              + ProtocolVersion.WEBSOCKET_SUBPROTOCOL);
    }
    if (!hub.accepting()) {
      return new Refusal(503, "shutting-down", "The server is shutting down");
    }
    return null;
  }

  /**
   * Answers, in Vert.x, a handshake that {@link Upgrade} let through: one that must be refused (or
   * arrived on a connection that could not be upgraded here).
   */
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    Refusal r =
        refusal(
            HttpMethod.valueOf(req.method().name()),
            req.getHeader(HttpHeaders.ORIGIN),
            req.getHeader(HttpHeaders.HOST),
            req.headers()::getAll);
    if (r == null) {
      r = new Refusal(400, "upgrade-missing", "This connection cannot be upgraded to a WebSocket");
    }
    if (r.status() == 503) {
      ctx.response().putHeader("Retry-After", Long.toString(hub.shutdownRetryAfterSeconds()));
    }
    ctx.response()
        .setStatusCode(r.status())
        .putHeader("X-Herald-Error", r.code())
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .end(r.message() + "\n");
  }

  private static boolean upgradeHeaders(Function<String, List<String>> headers) {
    boolean upgrade = false;
    for (String v : headers.apply("Upgrade")) {
      upgrade |= v.trim().equalsIgnoreCase("websocket");
    }
    boolean connection = false;
    for (String v : headers.apply("Connection")) {
      for (String token : v.split(",", -1)) {
        connection |= token.trim().equalsIgnoreCase("upgrade");
      }
    }
    return upgrade && connection;
  }

  private static boolean offers(String header, String protocol) {
    for (String p : header.split(",", -1)) {
      if (p.trim().equals(protocol)) {
        return true;
      }
    }
    return false;
  }

  private boolean onPath(String uri) {
    int q = uri.indexOf('?');
    int end = q < 0 ? uri.length() : q;
    return end == path.length() && uri.startsWith(path);
  }

  /**
   * Sits in every HTTP/1 connection's pipeline, in front of Vert.x, and takes the handshakes it can
   * accept; everything else passes untouched. Stateless, shared by all connections.
   */
  @ChannelHandler.Sharable
  private final class Upgrade extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest req && onPath(req.uri())) {
        io.netty.handler.codec.http.HttpHeaders h = req.headers();
        Refusal r =
            refusal(
                req.method(),
                h.get(HttpHeaderNames.ORIGIN),
                h.get(HttpHeaderNames.HOST),
                h::getAll);
        if (r == null) {
          try {
            upgrade(ctx, req);
          } catch (RuntimeException e) {
            log.warn("WebSocket upgrade failed; closing the connection", e);
            var unused = ctx.close(); // nothing more to do if closing fails
          }
          return;
        }
      }
      ctx.fireChannelRead(msg);
    }

    private void upgrade(ChannelHandlerContext ctx, HttpRequest req) {
      Channel ch = ctx.channel();
      ChannelPipeline p = ctx.pipeline();
      FullHttpRequest full =
          new DefaultFullHttpRequest(
              req.protocolVersion(),
              req.method(),
              req.uri(),
              Unpooled.EMPTY_BUFFER,
              req.headers(),
              EmptyHttpHeaders.INSTANCE);
      WebSocketServerHandshaker handshaker = handshakers.newHandshaker(full);
      if (handshaker == null) {
        // The 426 answer is all there is to do; a failed write ends the connection anyway.
        var unused = WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ch);
        return;
      }
      String peer =
          ch.remoteAddress() instanceof InetSocketAddress a
              ? a.getAddress().getHostAddress()
              : "unknown";
      ConnectionContext context = proxies.connectionContext(peer, req.headers()::getAll);
      // The connection is no longer HTTP: Vert.x lets go of it, and the idle timeout of HTTP
      // connections gives way to the hub's heartbeats and connect timeout.
      p.remove(this);
      if (p.get(IdleStateHandler.class) != null) {
        p.remove(IdleStateHandler.class);
      }
      ChannelHandler vertx = p.get("handler");
      if (vertx instanceof VertxHandler<?> v) {
        upgraded.accept((HttpConnection) v.getConnection());
      }
      if (vertx != null) {
        p.remove(vertx);
      }
      WebSocketConnection connection = new WebSocketConnection(settings, loops.of(ch.eventLoop()));
      p.addLast("herald", connection);
      io.netty.channel.ChannelFuture shaken = handshaker.handshake(ch, full);
      // The handshaker puts the frame encoder after the decoder (Vert.x's HTTP encoder follows its
      // decoder); the decoder's own close frames (1002, 1009) must pass the encoder on their way
      // out, so it goes in front of the decoder.
      if (p.get("wsencoder") != null && p.get("wsdecoder") != null) {
        p.remove("wsencoder");
        p.addBefore(
            "wsdecoder",
            "wsencoder",
            new io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder(false));
      }
      shaken.addListener(
          f -> {
            if (f.isSuccess()) {
              connection.open(hub, context);
            } else {
              log.debug("WebSocket handshake with {} failed: {}", peer, f.cause().toString());
              var unused = ch.close(); // nothing more to do if closing fails
            }
          });
    }
  }
}
