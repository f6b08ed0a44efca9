package dev.herald.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * One simulated client: does the handshake of its {@link Kind}, the Herald connect and subscribes
 * where needed, answers heartbeats, and records every publication it receives. WebSocket framing
 * (client masking, server frames, fragments) and the HTTP transports are written here directly on
 * Netty buffers, so a worker holds thousands of connections at a few hundred bytes each.
 */
final class LoadConnection extends ByteToMessageDecoder implements HttpParser.Sink {
  private static final byte[] PUB_KEY = Bytes.SEQ;
  private static final byte[] REPLY = Bytes.ascii("{\"type\":\"reply\"");
  private static final byte[] ERROR = Bytes.ascii("\"error\"");
  private static final byte[] PING = Bytes.ascii("{\"type\":\"ping\"");
  private static final byte[] DISCONNECT = Bytes.ascii("{\"type\":\"disconnect\"");
  private static final byte[] DATA = Bytes.ascii("data: ");
  private static final byte[] EVENT_SESSION = Bytes.ascii("event: session");
  private static final byte[] SESSION = Bytes.ascii("\"session\":\"");
  private static final byte[] PONG = Bytes.ascii("{\"type\":\"pong\"}");

  private enum State {
    HANDSHAKE,
    FRAMES,
    HTTP
  }

  private final Worker worker;
  private final int index;
  private final HttpParser http = new HttpParser();
  private State state;

  // Set by channelActive, which Netty calls before any read or other event of the connection
  // reaches this handler; nothing here writes before that.
  @SuppressWarnings("NullAway.Init")
  private ChannelHandlerContext ctx;

  private long expected;
  private int replies;
  private boolean ready;
  private boolean failed;
  private @Nullable String session;
  private boolean sessionEvent;
  private long ack;
  private long pollBatch;
  private boolean opening;
  long startedNanos;
  // SSE: part of a line split across reads; WebSocket: a fragmented message
  private @Nullable ByteBuf line;

  LoadConnection(Worker worker, int index) {
    this.worker = worker;
    this.index = index;
    state =
        worker.kind() == Kind.HERALD_SSE || worker.kind() == Kind.HERALD_POLL
            ? State.HTTP
            : State.HANDSHAKE;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    this.ctx = ctx;
    String host = worker.hostHeader();
    String request =
        switch (worker.kind()) {
          case FLOOR_WS -> upgrade("/ws", host, null);
          case SOCKETIO_WS -> upgrade("/socket.io/?EIO=4&transport=websocket", host, null);
          case HERALD_WS -> upgrade("/connection/websocket", host, "herald.v1.json");
          case HERALD_SSE ->
              "GET /connection/sse HTTP/1.1\r\nHost: "
                  + host
                  + "\r\nAccept: text/event-stream\r\n\r\n";
          case HERALD_POLL -> {
            opening = true;
            yield "POST /connection/poll HTTP/1.1\r\nHost: "
                + host
                + "\r\nContent-Length: 0\r\n\r\n";
          }
        };
    send(Unpooled.wrappedBuffer(request.getBytes(StandardCharsets.US_ASCII)));
    super.channelActive(ctx);
  }

  private static String upgrade(String path, String host, @Nullable String protocol) {
    byte[] key = new byte[16];
    ThreadLocalRandom.current().nextBytes(key);
    return "GET "
        + path
        + " HTTP/1.1\r\nHost: "
        + host
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        + "Sec-WebSocket-Key: "
        + java.util.Base64.getEncoder().encodeToString(key)
        + "\r\n"
        + (protocol == null ? "" : "Sec-WebSocket-Protocol: " + protocol + "\r\n")
        + "\r\n";
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (state == State.HANDSHAKE) {
      http.feed(in, this);
      if (state == State.HANDSHAKE) {
        return;
      }
    }
    if (state == State.HTTP) {
      http.feed(in, this);
      return;
    }
    while (readFrame(in)) {
      // one frame at a time
    }
  }

  // ---- WebSocket ----

  private boolean readFrame(ByteBuf in) {
    int ri = in.readerIndex();
    int available = in.writerIndex() - ri;
    if (available < 2) {
      return false;
    }
    int b0 = in.getByte(ri) & 0xFF;
    int b1 = in.getByte(ri + 1) & 0x7F;
    int header = 2;
    long length = b1;
    if (b1 == 126) {
      header = 4;
      if (available < header) {
        return false;
      }
      length = in.getUnsignedShort(ri + 2);
    } else if (b1 == 127) {
      header = 10;
      if (available < header) {
        return false;
      }
      length = in.getLong(ri + 2);
    }
    if (available < header + length) {
      return false;
    }
    int from = ri + header;
    int to = (int) (from + length);
    boolean fin = (b0 & 0x80) != 0;
    int opcode = b0 & 0x0F;
    switch (opcode) {
      case 0x1, 0x0 -> {
        if (!fin || line != null) {
          if (line == null) {
            line = ctx.alloc().heapBuffer();
          }
          line.writeBytes(in, from, to - from);
          if (fin) {
            frame(line, line.readerIndex(), line.writerIndex());
            line.release();
            line = null;
          }
        } else {
          frame(in, from, to);
        }
      }
      case 0x8 -> close();
      case 0x9 -> sendFrame(0xA, in.retainedSlice(from, to - from));
      default -> {
        // pong and binary frames are not expected; ignore
      }
    }
    in.readerIndex(to);
    return true;
  }

  private void frame(ByteBuf buf, int from, int to) {
    switch (worker.kind()) {
      case FLOOR_WS -> publication(buf, from, to);
      case SOCKETIO_WS -> socketIo(buf, from, to);
      default -> lines(buf, from, to);
    }
  }

  private void socketIo(ByteBuf buf, int from, int to) {
    if (to - from < 1) {
      return;
    }
    byte type = buf.getByte(from);
    if (type == '0') {
      sendText("40"); // Engine.IO open: connect to the main namespace
    } else if (type == '2') {
      sendText("3"); // Engine.IO ping
    } else if (type == '4' && to - from >= 2) {
      byte packet = buf.getByte(from + 1);
      if (packet == '0') {
        ready(); // namespace connected; the server put the socket in the room
      } else if (packet == '2') {
        publication(buf, from, to);
      } else if (packet == '4') {
        fail("socket.io connect error: " + buf.toString(from, to - from, StandardCharsets.UTF_8));
      }
    }
  }

  private void sendText(String text) {
    sendFrame(0x1, Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** A masked client frame (RFC 6455 5.3). */
  private void sendFrame(int opcode, ByteBuf payload) {
    int len = payload.readableBytes();
    ByteBufAllocator alloc = ctx.alloc();
    ByteBuf frame = alloc.buffer(len + 14);
    frame.writeByte(0x80 | opcode);
    if (len < 126) {
      frame.writeByte(0x80 | len);
    } else if (len < 65536) {
      frame.writeByte(0x80 | 126).writeShort(len);
    } else {
      frame.writeByte(0x80 | 127).writeLong(len);
    }
    int mask = ThreadLocalRandom.current().nextInt();
    frame.writeInt(mask);
    for (int i = 0; i < len; i++) {
      frame.writeByte(payload.getByte(payload.readerIndex() + i) ^ (mask >> (24 - 8 * (i & 3))));
    }
    payload.release();
    send(frame);
  }

  /**
   * Writes and flushes. A write that fails closes the connection, and its end is counted as a
   * disconnect (channelInactive).
   */
  private void send(ByteBuf bytes) {
    ctx.writeAndFlush(bytes).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
  }

  private void close() {
    // Closing ends in channelInactive, which counts the connection's end; nothing else to check.
    var unused = ctx.close();
  }

  // ---- Herald protocol messages (LF-separated) ----

  private void lines(ByteBuf buf, int from, int to) {
    int start = from;
    int lf;
    while ((lf = buf.indexOf(start, to, (byte) '\n')) >= 0) {
      message(buf, start, lf);
      start = lf + 1;
    }
    message(buf, start, to);
  }

  private void message(ByteBuf buf, int from, int to) {
    if (to <= from) {
      return;
    }
    if (Bytes.lastIndexOf(buf, from, to, PUB_KEY) >= 0) {
      publication(buf, from, to);
    } else if (Bytes.startsWith(buf, from, to, REPLY)) {
      if (Bytes.contains(buf, from, to, ERROR)) {
        fail("error reply: " + buf.toString(from, to - from, StandardCharsets.UTF_8));
      } else if (++replies == 1 + worker.channels(index).size()) {
        ready();
      }
    } else if (Bytes.startsWith(buf, from, to, PING)) {
      command(PONG);
    } else if (Bytes.startsWith(buf, from, to, DISCONNECT)) {
      worker.disconnected(buf.toString(from, to - from, StandardCharsets.UTF_8));
    }
  }

  private void publication(ByteBuf buf, int from, int to) {
    long seq = Bytes.number(buf, from, to, Bytes.SEQ);
    long ts = Bytes.number(buf, from, to, Bytes.TS);
    if (seq >= 0 && ts >= 0) {
      expected = worker.recorder().record(expected, seq, ts);
    }
  }

  /** Sends Herald protocol messages (LF-separated) over this connection's transport. */
  private void command(byte[] body) {
    if (worker.kind() == Kind.HERALD_WS) {
      sendFrame(0x1, Unpooled.wrappedBuffer(body));
    } else if (session != null) {
      worker.poster().post("/connection/send/" + session, body);
    }
  }

  private void connectAndSubscribe() {
    StringBuilder b =
        new StringBuilder("{\"type\":\"connect\",\"id\":1,\"token\":\"")
            .append(worker.token(index))
            .append("\",\"client\":\"herald-bench\"}");
    int id = 2;
    for (String channel : worker.channels(index)) {
      b.append("\n{\"type\":\"subscribe\",\"id\":")
          .append(id++)
          .append(",\"channel\":\"")
          .append(channel)
          .append("\"}");
    }
    command(b.toString().getBytes(StandardCharsets.UTF_8));
  }

  // ---- HTTP (handshakes, SSE, long-polling) ----

  @Override
  public void headers(int status, String headerBlock) {
    if (state == State.HANDSHAKE) {
      if (status != 101) {
        fail("handshake answered " + headerBlock.lines().findFirst().orElse(""));
        return;
      }
      state = State.FRAMES;
      if (worker.kind() == Kind.FLOOR_WS) {
        ready();
      } else if (worker.kind() == Kind.HERALD_WS) {
        connectAndSubscribe();
      }
      return;
    }
    if (status != 200 && status != 204) {
      fail("HTTP " + headerBlock.lines().findFirst().orElse(""));
      return;
    }
    long batch =
        HttpParser.header(headerBlock.toLowerCase(java.util.Locale.ROOT), "x-herald-batch");
    if (batch > 0) {
      pollBatch = batch;
    }
  }

  @Override
  public void body(ByteBuf buf, int from, int to) {
    if (worker.kind() == Kind.HERALD_POLL) {
      append(buf, from, to); // a whole response body (session JSON or a batch) is handled at end()
      return;
    }
    // SSE: split into lines, keeping a partial line for the next read
    int start = from;
    for (int i = from; i < to; i++) {
      if (buf.getByte(i) == '\n') {
        if (line != null) {
          line.writeBytes(buf, start, i - start);
          sseLine(line, line.readerIndex(), line.writerIndex());
          line.release();
          line = null;
        } else {
          sseLine(buf, start, i);
        }
        start = i + 1;
      }
    }
    if (start < to) {
      append(buf, start, to);
    }
  }

  private void append(ByteBuf buf, int from, int to) {
    if (line == null) {
      line = ctx.alloc().heapBuffer(Math.max(64, to - from));
    }
    line.writeBytes(buf, from, to - from);
  }

  private void sseLine(ByteBuf buf, int from, int to) {
    if (to == from) {
      sessionEvent = false;
    } else if (Bytes.startsWith(buf, from, to, EVENT_SESSION)) {
      sessionEvent = true;
    } else if (Bytes.startsWith(buf, from, to, DATA)) {
      if (sessionEvent) {
        session = sessionId(buf, from, to);
        if (session == null) {
          fail("no session in the SSE session event");
        } else {
          connectAndSubscribe();
        }
      } else {
        message(buf, from + DATA.length, to);
      }
    }
  }

  private static @Nullable String sessionId(ByteBuf buf, int from, int to) {
    int i = Bytes.indexOf(buf, from, to, SESSION);
    if (i < 0) {
      return null;
    }
    int start = i + SESSION.length;
    int end = start;
    while (end < to && buf.getByte(end) != '"') {
      end++;
    }
    return buf.toString(start, end - start, StandardCharsets.US_ASCII);
  }

  @Override
  public void end() {
    if (worker.kind() != Kind.HERALD_POLL) {
      if (worker.kind() == Kind.HERALD_SSE) {
        worker.disconnected("SSE stream ended");
      }
      return;
    }
    ByteBuf body = line;
    line = null;
    if (opening) {
      opening = false;
      session = body == null ? null : sessionId(body, body.readerIndex(), body.writerIndex());
      if (session == null) {
        fail("no session in the long-polling open response");
      } else {
        connectAndSubscribe();
      }
    } else {
      ack = pollBatch;
      if (body != null) {
        lines(body, body.readerIndex(), body.writerIndex());
      }
    }
    if (body != null) {
      body.release();
    }
    if (session != null && ctx.channel().isActive()) {
      String poll =
          "GET /connection/poll/"
              + session
              + "?ack="
              + ack
              + " HTTP/1.1\r\nHost: "
              + worker.hostHeader()
              + "\r\n\r\n";
      send(Unpooled.wrappedBuffer(poll.getBytes(StandardCharsets.US_ASCII)));
    }
  }

  // ---- lifecycle ----

  private void ready() {
    if (!ready && !failed) {
      ready = true;
      worker.ready(this);
    }
  }

  private void fail(String why) {
    if (!failed) {
      failed = true;
      worker.failed(this, why);
      close();
    }
  }

  /** Position from which the next measurement counts (its first sequence number). */
  void resetExpected(long base) {
    expected = base;
  }

  boolean isReady() {
    return ready;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (line != null) {
      line.release();
      line = null;
    }
    if (ready) {
      worker.closed(this);
    } else if (!failed) {
      failed = true;
      worker.failed(this, "closed before ready");
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    fail(String.valueOf(cause.getMessage()));
  }
}
