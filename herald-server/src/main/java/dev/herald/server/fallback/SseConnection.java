package dev.herald.server.fallback;

import dev.herald.core.transport.EventLoop;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.List;

/**
 * The server-to-client half of an SSE session: one long {@code text/event-stream} response; each
 * batch of protocol messages is one event. Commands arrive separately as POSTs.
 */
final class SseConnection implements TransportConnection {
  private final HttpServerResponse response;
  private final EventLoop loop;
  private final Runnable onEnd;
  private boolean ended;

  SseConnection(HttpServerResponse response, EventLoop loop, Runnable onEnd) {
    this.response = response;
    this.loop = loop;
    this.onEnd = onEnd;
  }

  @Override
  public String transport() {
    return "sse";
  }

  @Override
  public EventLoop loop() {
    return loop;
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
