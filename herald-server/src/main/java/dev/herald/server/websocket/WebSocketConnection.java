package dev.herald.server.websocket;

import dev.herald.core.hub.ClientSession;
import dev.herald.core.hub.ConnectionContext;
import dev.herald.core.hub.Hub;
import dev.herald.core.transport.EventLoop;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import dev.herald.protocol.CloseCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One upgraded WebSocket: the last handler of its Netty pipeline (after the frame decoder and
 * encoder) and the hub's {@link TransportConnection} for it. Everything runs on the channel's event
 * loop, which is the connection's {@link #loop()}.
 *
 * <p>Outbound: a message shared by many connections (a publication, a presence event) is framed
 * once, into a buffer kept with the message, and every connection writes a duplicate of that same
 * buffer; several queued messages go out as one frame, separated by LF. Inbound: text frames are
 * joined into messages with the size limit enforced here (1009 with a close frame), checked to be
 * UTF-8 (1007), and handed to the session; frame-level protocol errors are answered by the decoder
 * with a close frame (1002, or 1009 for a frame beyond the hard ceiling).
 *
 * <p>Memory: an idle connection holds this object, its session and Netty's channel; nothing is
 * allocated for fragments or writes until they happen.
 */
final class WebSocketConnection extends ChannelInboundHandlerAdapter
    implements TransportConnection {
  private static final Logger log = LoggerFactory.getLogger(WebSocketConnection.class);

  /** How long after sending a close frame the connection waits for the client's before closing. */
  private static final long CLOSE_TIMEOUT_MILLIS = 1000;

  /** What every connection of the endpoint shares. */
  record Settings(int maxMessageBytes, boolean compression) {}

  private final Settings settings;
  private final EventLoop loop;

  // Set by handlerAdded, which Netty calls when the handler joins the pipeline, before any other
  // method of the handler runs; open, send and close are only called after that.
  @SuppressWarnings("NullAway.Init")
  private ChannelHandlerContext ctx;

  // Null until the handshake response is out and the hub has opened the session.
  private @Nullable ClientSession session;
  // Frames that arrived before the session was opened (rare: the handshake response was still
  // being written); handed over in order once it is.
  private @Nullable List<WebSocketFrame> early;
  // A message arriving in several frames, until its final one.
  private @Nullable CompositeByteBuf partial;
  private boolean discarding;
  private boolean closing;
  private @Nullable ScheduledFuture<?> closeTimer;

  WebSocketConnection(Settings settings, EventLoop loop) {
    this.settings = settings;
    this.loop = loop;
  }

  /** The handshake response is out: the hub takes over. On the loop. */
  void open(Hub hub, ConnectionContext context) {
    if (!ctx.channel().isActive()) {
      return;
    }
    ClientSession opened = hub.openSession(this, context);
    session = opened;
    if (early != null) {
      List<WebSocketFrame> frames = early;
      early = null;
      for (WebSocketFrame f : frames) {
        try {
          onFrame(opened, f);
        } finally {
          f.release();
        }
      }
    }
  }

  // ------------------------------------------------------------------ Netty inbound

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof WebSocketFrame frame)) {
      ReferenceCountUtil.release(msg); // the end of the handshake request
      return;
    }
    ClientSession s = session;
    if (s == null) {
      if (early == null) {
        early = new ArrayList<>(2);
      }
      early.add(frame);
      return;
    }
    try {
      onFrame(s, frame);
    } finally {
      frame.release();
    }
  }

  private void onFrame(ClientSession session, WebSocketFrame frame) {
    if (frame instanceof CloseWebSocketFrame close) {
      onClose(close);
    } else if (frame instanceof PingWebSocketFrame) {
      if (!closing) {
        write(new PongWebSocketFrame(frame.content().retain()));
      }
    } else if (frame instanceof PongWebSocketFrame) {
      // unsolicited pongs are allowed and mean nothing (heartbeats are protocol messages)
    } else if (discarding || closing) {
      // the connection is being closed: nothing more is read
    } else if (frame instanceof BinaryWebSocketFrame) {
      discarding = true;
      session.disconnect(CloseCode.UNSUPPORTED_DATA, CloseCode.UNSUPPORTED_DATA.reason(), 0);
    } else if (frame instanceof TextWebSocketFrame || frame instanceof ContinuationWebSocketFrame) {
      onData(session, frame);
    }
  }

  private void onData(ClientSession session, WebSocketFrame frame) {
    ByteBuf data = frame.content();
    CompositeByteBuf joined = partial;
    if (joined == null && frame.isFinalFragment()) {
      if (data.readableBytes() > settings.maxMessageBytes()) {
        tooBig(session);
      } else {
        deliver(session, data);
      }
      return;
    }
    if (joined == null) {
      joined = ctx.alloc().compositeHeapBuffer(Integer.MAX_VALUE);
      partial = joined;
    }
    if (joined.readableBytes() + data.readableBytes() > settings.maxMessageBytes()) {
      tooBig(session);
      return;
    }
    joined.addComponent(true, data.retain());
    if (frame.isFinalFragment()) {
      CompositeByteBuf complete = joined;
      partial = null;
      try {
        deliver(session, complete);
      } finally {
        complete.release();
      }
    }
  }

  private void deliver(ClientSession session, ByteBuf message) {
    if (!ByteBufUtil.isText(message, StandardCharsets.UTF_8)) {
      discarding = true;
      session.disconnect(CloseCode.INVALID_PAYLOAD, CloseCode.INVALID_PAYLOAD.reason(), 0);
      return;
    }
    session.onText(message.toString(StandardCharsets.UTF_8));
  }

  private void tooBig(ClientSession session) {
    discarding = true;
    releasePartial();
    session.disconnect(
        CloseCode.MESSAGE_TOO_BIG,
        "message larger than " + settings.maxMessageBytes() + " bytes",
        0);
  }

  /** The client closes: answer its close frame (once) and end the connection. */
  private void onClose(CloseWebSocketFrame close) {
    if (closing) {
      closeChannel(); // the answer to our own close frame: the closing handshake is complete
      return;
    }
    closing = true;
    int code = close.statusCode();
    CloseWebSocketFrame answer =
        code < 0 ? new CloseWebSocketFrame() : new CloseWebSocketFrame(code, null);
    ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    ClientSession s = session;
    if (s != null && ctx.channel().isWritable()) {
      s.onWritable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releasePartial();
    if (early != null) {
      early.forEach(ReferenceCountUtil::release);
      early = null;
    }
    ScheduledFuture<?> timer = closeTimer;
    if (timer != null) {
      timer.cancel(false);
    }
    ClientSession s = session;
    if (s != null) {
      s.onTransportClosed();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof CorruptedWebSocketFrameException) {
      // The decoder has sent its close frame (1002, or 1009) and closes the connection.
      log.debug(
          "WebSocket protocol error from {}: {}",
          ctx.channel().remoteAddress(),
          cause.getMessage());
      discarding = true;
      return;
    }
    ClientSession s = session;
    if (cause instanceof DecompressionException && s != null && !discarding) {
      // A compressed frame that inflates beyond the hard frame ceiling.
      tooBig(s);
      return;
    }
    log.debug("WebSocket error on {}: {}", ctx.channel().remoteAddress(), cause.toString());
    closeChannel();
  }

  private void releasePartial() {
    CompositeByteBuf p = partial;
    if (p != null) {
      p.release();
      partial = null;
    }
  }

  /** Writes with the void promise: a failed write is fired to {@link #exceptionCaught}. */
  private void write(Object frame) {
    // The void promise carries no outcome to check (see above).
    var unused = ctx.writeAndFlush(frame, ctx.voidPromise());
  }

  private void closeChannel() {
    // A failed close leaves nothing to do: the channel ends either way (channelInactive follows).
    var unused = ctx.close();
  }

  // ------------------------------------------------------------------ TransportConnection

  @Override
  public String transport() {
    return "websocket";
  }

  @Override
  public EventLoop loop() {
    return loop;
  }

  @Override
  public boolean writable() {
    return !closing && ctx.channel().isWritable();
  }

  @Override
  public void send(List<OutboundMessage> batch) {
    if (closing || !ctx.channel().isActive()) {
      return; // the peer is gone or going; the session learns it from channelInactive
    }
    if (settings.compression()) {
      write(new TextWebSocketFrame(payload(batch)));
    } else if (batch.size() == 1) {
      write(frame(batch.get(0)));
    } else {
      write(frame(batch));
    }
  }

  @Override
  public void close(int code, String reason) {
    if (closing) {
      return;
    }
    closing = true;
    discarding = true;
    releasePartial();
    if (!ctx.channel().isActive()) {
      return;
    }
    write(new CloseWebSocketFrame(code, reason));
    // The client answers with its own close frame (onClose closes then); if it does not, close.
    closeTimer =
        ctx.executor().schedule(this::closeChannel, CLOSE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
  }

  // ------------------------------------------------------------------ framing

  /**
   * One message as a text frame. A shared message is framed once, into a buffer kept with it; each
   * connection writes a duplicate (its own indexes, the same bytes). The kept buffer wraps JDK
   * direct memory, which is freed with the message when it is garbage collected.
   */
  private ByteBuf frame(OutboundMessage m) {
    if (m.shared()) {
      Object kept = m.transportForm();
      if (kept instanceof ByteBuf b) {
        return b.retainedDuplicate();
      }
      byte[] payload = m.bytes();
      ByteBuf b =
          Unpooled.wrappedBuffer(
              ByteBuffer.allocateDirect(headerSize(payload.length) + payload.length));
      b.clear();
      writeHeader(b, payload.length);
      b.writeBytes(payload);
      m.transportForm(b);
      return b.retainedDuplicate();
    }
    byte[] payload = m.bytes();
    ByteBuf b = ctx.alloc().directBuffer(headerSize(payload.length) + payload.length);
    writeHeader(b, payload.length);
    b.writeBytes(payload);
    return b;
  }

  /** Several messages as one text frame, separated by LF (protocol section 1). */
  private ByteBuf frame(List<OutboundMessage> batch) {
    int size = batch.size() - 1;
    for (int i = 0; i < batch.size(); i++) {
      size += batch.get(i).size();
    }
    ByteBuf b = ctx.alloc().directBuffer(headerSize(size) + size);
    writeHeader(b, size);
    for (int i = 0; i < batch.size(); i++) {
      if (i > 0) {
        b.writeByte('\n');
      }
      b.writeBytes(batch.get(i).bytes());
    }
    return b;
  }

  private static ByteBuf payload(List<OutboundMessage> batch) {
    if (batch.size() == 1) {
      return Unpooled.wrappedBuffer(batch.get(0).bytes());
    }
    int size = batch.size() - 1;
    for (OutboundMessage m : batch) {
      size += m.size();
    }
    ByteBuf b = Unpooled.buffer(size);
    for (int i = 0; i < batch.size(); i++) {
      if (i > 0) {
        b.writeByte('\n');
      }
      b.writeBytes(batch.get(i).bytes());
    }
    return b;
  }

  /** Length of a server frame header (unmasked, FIN, text) for a payload of this size. */
  static int headerSize(int payload) {
    return payload < 126 ? 2 : payload <= 0xFFFF ? 4 : 10;
  }

  /** RFC 6455 section 5.2: FIN + text opcode, no mask, then the payload length. */
  static void writeHeader(ByteBuf b, int payload) {
    b.writeByte(0x81);
    if (payload < 126) {
      b.writeByte(payload);
    } else if (payload <= 0xFFFF) {
      b.writeByte(126);
      b.writeShort(payload);
    } else {
      b.writeByte(127);
      b.writeLong(payload);
    }
  }
}
