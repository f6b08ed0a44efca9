package dev.herald.server.fallback;

import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import dev.herald.server.transport.WriteCoalescing;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * The server-to-client half of an SSE session: one long {@code text/event-stream} response; each
 * batch of protocol messages is one event. Commands arrive separately as POSTs.
 */
final class SseConnection implements TransportConnection {
  private final HttpServerResponse response;
  private final Executor executor;
  private final Executor writeExecutor;
  private final Runnable onEnd;
  private boolean ended;

  SseConnection(
      HttpServerResponse response, Context context, WriteCoalescing coalescing, Runnable onEnd) {
    this.response = response;
    this.executor = task -> context.runOnContext(v -> task.run());
    this.writeExecutor = coalescing.executor(context, executor);
    this.onEnd = onEnd;
  }

  @Override
  public Executor writeExecutor() {
    return writeExecutor;
  }

  @Override
  public String transport() {
    return "sse";
  }

  @Override
  public Executor executor() {
    return executor;
  }

  @Override
  public void send(List<OutboundMessage> batch) {
    if (!ended && !response.ended() && !response.closed()) {
      response.write(Buffer.buffer(SseEncoder.event(batch)));
    }
  }

  @Override
  public boolean writable() {
    return !ended && !response.closed() && !response.writeQueueFull();
  }

  @Override
  public void close(int code, String reason) {
    if (!ended) {
      ended = true;
      if (!response.ended() && !response.closed()) {
        response.end();
      }
      onEnd.run();
    }
  }
}
