package dev.herald.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Sends the commands of a worker's SSE and long-polling clients ({@code POST /connection/send/..})
 * over one pipelined keep-alive connection, in order. Runs on the worker's event loop.
 */
final class Poster {
  private final Bootstrap bootstrap;
  private final String host;
  private final Worker worker;
  private @Nullable Channel channel;
  private boolean connecting;
  private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
  long sent;
  long answered;

  Poster(Bootstrap bootstrap, String host, Worker worker) {
    this.bootstrap = bootstrap.clone();
    this.host = host;
    this.worker = worker;
  }

  void post(String path, byte[] body) {
    String head =
        "POST "
            + path
            + " HTTP/1.1\r\nHost: "
            + host
            + "\r\nContent-Type: text/plain\r\nContent-Length: "
            + body.length
            + "\r\n\r\n";
    sent++;
    ByteBuf request = Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), body);
    Channel c = channel;
    if (c != null && c.isActive()) {
      c.writeAndFlush(request).addListener(this::written);
      return;
    }
    pending.add(request); // written once the connection is up
    if (!connecting) {
      connecting = true;
      bootstrap.handler(new Init()).connect().addListener((ChannelFuture f) -> connected(f));
    }
  }

  private void connected(ChannelFuture f) {
    connecting = false;
    if (!f.isSuccess()) {
      worker.log("send connection failed: " + f.cause());
      pending.forEach(ByteBuf::release);
      pending.clear();
      return;
    }
    Channel c = f.channel();
    channel = c;
    ByteBuf b;
    while ((b = pending.poll()) != null) {
      c.write(b).addListener(this::written);
    }
    c.flush();
  }

  private void written(Future<? super Void> f) {
    if (!f.isSuccess()) {
      worker.log("send failed: " + f.cause());
    }
  }

  private final class Init extends ChannelInitializer<Channel> {
    @Override
    protected void initChannel(Channel ch) {
      ch.pipeline().addLast(new Responses());
    }
  }

  private final class Responses extends ByteToMessageDecoder implements HttpParser.Sink {
    private final HttpParser parser = new HttpParser();
    private int status;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      parser.feed(in, this);
    }

    @Override
    public void headers(int status, String headerBlock) {
      this.status = status;
    }

    @Override
    public void body(ByteBuf buf, int from, int to) {
      if (status >= 300) {
        worker.log(
            "send answered "
                + status
                + ": "
                + buf.toString(from, to - from, StandardCharsets.UTF_8));
      }
    }

    @Override
    public void end() {
      answered++;
    }
  }
}
