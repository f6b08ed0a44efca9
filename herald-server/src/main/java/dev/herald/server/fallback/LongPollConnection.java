package dev.herald.server.fallback;

import dev.herald.core.hub.ClientSession;
import dev.herald.core.transport.EventLoop;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The server-to-client half of a long-polling session.
 *
 * <p>Delivery is acknowledged, so a poll response lost on the way (a proxy timeout, a dropped
 * connection) loses nothing: every response carries a batch number in {@code X-Herald-Batch}, and
 * the next poll sends it back as {@code ack}. Messages stay buffered until acknowledged; a poll
 * that does not acknowledge the last batch gets exactly that batch again, under a new number, and
 * newer messages in the polls after. Only one batch is unacknowledged at a time, so the buffer is
 * bounded by the hub's batch size; everything else waits in the hub's bounded outbox.
 *
 * <p>All methods run on the session's context.
 */
final class LongPollConnection implements TransportConnection {
  static final String BATCH_HEADER = "X-Herald-Batch";

  private final Vertx vertx;
  private final EventLoop executor;
  private final long pollTimeoutMillis;
  private final long sessionTimeoutMillis;
  private final Runnable onEnd;
  private @Nullable ClientSession session; // from attach on

  /** Messages sent or waiting, not yet acknowledged. */
  private final List<OutboundMessage> buffer = new ArrayList<>();

  /** How many of {@link #buffer} went out in batch {@link #batch}. */
  private int inLastBatch;

  private long batch;
  private @Nullable HttpServerResponse parked; // the poll held until there is something to send
  private long parkTimer = -1;
  private long idleTimer = -1;
  private boolean closed;
  private boolean ended;

  LongPollConnection(
      Vertx vertx,
      EventLoop loop,
      long pollTimeoutMillis,
      long sessionTimeoutMillis,
      Runnable onEnd) {
    this.vertx = vertx;
    this.executor = loop;
    this.pollTimeoutMillis = pollTimeoutMillis;
    this.sessionTimeoutMillis = sessionTimeoutMillis;
    this.onEnd = onEnd;
  }

  void attach(ClientSession s) {
    this.session = s;
    armIdle();
  }

  @Override
  public String transport() {
    return "long-polling";
  }

  @Override
  public EventLoop loop() {
    return executor;
  }

  /**
   * A poll arrived; {@code ack} is the last batch number the client received (0 for none); an empty
   * poll is answered 204 after {@code holdMillis} (at most {@code longpoll.timeout}).
   */
  void poll(HttpServerResponse response, long ack, long holdMillis) {
    cancelIdle();
    if (ack == batch && inLastBatch > 0) {
      buffer.subList(0, inLastBatch).clear();
      inLastBatch = 0;
    }
    if (closed && buffer.isEmpty()) {
      // the last words (the disconnect) were acknowledged: the session is over
      end();
      respondEmpty(response);
      return;
    }
    if (parked != null) {
      respondEmpty(parked); // superseded by this poll
    }
    response.closeHandler(
        v ->
            executor.execute(
                () -> {
                  if (parked == response) {
                    parked = null;
                    cancelPark();
                    armIdle();
                  }
                }));
    if (!buffer.isEmpty()) {
      respond(response);
      return;
    }
    if (ended) {
      respondEmpty(response);
      return;
    }
    parked = response;
    parkTimer =
        vertx.setTimer(
            Math.min(holdMillis, pollTimeoutMillis),
            id ->
                executor.execute(
                    () -> {
                      if (parked == response) {
                        parkTimer = -1;
                        parked = null;
                        respondEmpty(response);
                        armIdle();
                      }
                    }));
    if (session != null) {
      session.onWritable();
    }
  }

  @Override
  public void send(List<OutboundMessage> batchToSend) {
    buffer.addAll(batchToSend);
    if (parked != null) {
      HttpServerResponse r = parked;
      parked = null;
      cancelPark();
      respond(r);
    }
  }

  @Override
  public boolean writable() {
    return parked != null && !closed;
  }

  @Override
  public void close(int code, String reason) {
    closed = true;
    // The disconnect message is in the buffer: the next poll (or the parked one) delivers it,
    // then the session ends.
    if (parked != null) {
      HttpServerResponse r = parked;
      parked = null;
      cancelPark();
      respond(r);
    }
    if (buffer.isEmpty()) {
      end();
    }
  }

  /** The client ended the session explicitly (DELETE): gone now, not after the session timeout. */
  void clientClosed() {
    cancelIdle();
    if (parked != null) {
      respondEmpty(parked);
      parked = null;
    }
    expired();
  }

  /** The client stopped polling: the connection is gone. */
  private void expired() {
    idleTimer = -1;
    if (!ended) {
      end();
      if (session != null && !closed) {
        session.onTransportClosed();
      }
    }
  }

  private void end() {
    if (!ended) {
      ended = true;
      cancelPark();
      onEnd.run();
    }
  }

  private void respond(HttpServerResponse r) {
    batch++;
    // An unacknowledged batch goes out again exactly as it was; newer messages follow in the next.
    if (inLastBatch == 0) {
      inLastBatch = buffer.size();
    }
    Buffer body = Buffer.buffer();
    for (int i = 0; i < inLastBatch; i++) {
      if (i > 0) {
        body.appendByte((byte) '\n');
      }
      body.appendBytes(buffer.get(i).bytes());
    }
    if (!r.ended() && !r.closed()) {
      r.putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
          .putHeader(BATCH_HEADER, Long.toString(batch))
          .end(body);
    }
    // Expect the next poll (which acknowledges this batch) within the session timeout; after
    // close, this keeps the last words available in case this response is lost.
    armIdle();
  }

  private void respondEmpty(HttpServerResponse r) {
    if (!r.ended() && !r.closed()) {
      r.setStatusCode(204)
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
          .putHeader(BATCH_HEADER, Long.toString(batch))
          .end();
    }
  }

  private void armIdle() {
    cancelIdle();
    if (!ended) {
      idleTimer = vertx.setTimer(sessionTimeoutMillis, id -> executor.execute(this::expired));
    }
  }

  private void cancelIdle() {
    if (idleTimer >= 0) {
      vertx.cancelTimer(idleTimer);
      idleTimer = -1;
    }
  }

  private void cancelPark() {
    if (parkTimer >= 0) {
      vertx.cancelTimer(parkTimer);
      parkTimer = -1;
    }
  }
}
