package dev.herald.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.Map;

/**
 * The floor: the least a server can do for a broadcast. WebSocket clients connect to {@code /ws};
 * {@code POST /publish} takes a body, frames it once as a WebSocket text frame, and writes that one
 * shared buffer to every connected channel. No authentication, channels, history or queues: every
 * server compared with it does more, and its cost per delivery is the one write per message per
 * socket that any server pays without coalescing.
 */
public final class FloorServer {
  private FloorServer() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = Args.parse(args);
    int port = Integer.parseInt(o.getOrDefault("port", "8090"));
    String host = o.getOrDefault("host", "127.0.0.1");
    EventLoopGroup group = Transports.group(0);
    ChannelGroup clients = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    Channel server =
        new ServerBootstrap()
            .group(group)
            .channel(Transports.server())
            .option(ChannelOption.SO_BACKLOG, 4096)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(65536))
                        .addLast(new WebSocketServerProtocolHandler("/ws"))
                        .addLast(new Handler(clients));
                  }
                })
            .bind(host, port)
            .sync()
            .channel();
    System.out.println("floor listening on " + host + ":" + port);
    server.closeFuture().sync();
  }

  /** The whole frame (header and payload), built once per message. */
  static ByteBuf textFrame(ByteBuf payload) {
    int len = payload.readableBytes();
    ByteBuf frame = Unpooled.directBuffer(len + 4);
    frame.writeByte(0x81);
    if (len < 126) {
      frame.writeByte(len);
    } else if (len < 65536) {
      frame.writeByte(126).writeShort(len);
    } else {
      frame.writeByte(127).writeLong(len);
    }
    frame.writeBytes(payload, payload.readerIndex(), len);
    return frame;
  }

  private static final class Handler extends SimpleChannelInboundHandler<Object> {
    private final ChannelGroup clients;

    Handler(ChannelGroup clients) {
      this.clients = clients;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
        clients.add(ctx.channel());
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof FullHttpRequest req)) {
        return; // frames from clients are ignored
      }
      HttpResponseStatus status = HttpResponseStatus.NOT_FOUND;
      if (req.method().equals(HttpMethod.POST) && req.uri().equals("/publish")) {
        ByteBuf frame = textFrame(req.content());
        // The group writes a retained duplicate to each channel; a client whose write fails is
        // gone, and the floor keeps no account of it.
        var unused = clients.writeAndFlush(frame);
        status = HttpResponseStatus.NO_CONTENT;
      } else if (req.uri().equals("/health")) {
        status = HttpResponseStatus.OK;
      }
      FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
      res.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
      if (HttpUtil.isKeepAlive(req)) {
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
      } else {
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
      }
    }
  }
}
