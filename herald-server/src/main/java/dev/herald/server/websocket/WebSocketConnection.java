package dev.herald.server.websocket;

import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import dev.herald.server.transport.WriteCoalescing;
import io.vertx.core.Context;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * One WebSocket as the hub sees it. A single queued message is written as a text frame straight
 * from its shared bytes (no per-connection encoding or copy); when several are queued they are
 * copied once into one frame, separated by LF, which saves a write per message under load.
 */
final class WebSocketConnection implements TransportConnection {
  private final ServerWebSocket ws;
  private final Executor executor;
  private final Executor writeExecutor;

  WebSocketConnection(ServerWebSocket ws, Context context, WriteCoalescing coalescing) {
    this.ws = ws;
    this.executor = task -> context.runOnContext(v -> task.run());
    this.writeExecutor = coalescing.executor(context, executor);
  }

  @Override
  public String transport() {
    return "websocket";
  }

  @Override
  public Executor executor() {
    return executor;
  }

  @Override
  public Executor writeExecutor() {
    return writeExecutor;
  }

  @Override
  public void send(List<OutboundMessage> batch) {
    if (ws.isClosed()) {
      return; // the peer is gone; the session learns it from the close handler
    }
    byte[] payload;
    if (batch.size() == 1) {
      payload = batch.get(0).bytes();
    } else {
      int size = batch.size() - 1;
      for (OutboundMessage m : batch) {
        size += m.size();
      }
      payload = new byte[size];
      int pos = 0;
      for (int i = 0; i < batch.size(); i++) {
        if (i > 0) {
          payload[pos++] = '\n';
        }
        byte[] b = batch.get(i).bytes();
        System.arraycopy(b, 0, payload, pos, b.length);
        pos += b.length;
      }
    }
    // Vert.x has no public factory for a text frame from bytes; this wraps the array without
    // copying or re-encoding it.
    ws.writeFrame(new WebSocketFrameImpl(WebSocketFrameType.TEXT, payload, true));
  }

  @Override
  public boolean writable() {
    return !ws.isClosed() && !ws.writeQueueFull();
  }

  @Override
  public void close(int code, String reason) {
    if (!ws.isClosed()) {
      ws.close((short) code, reason);
    }
  }
}
