package dev.herald.client;

import dev.herald.protocol.ProtocolVersion;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Transport} over the JDK's {@code java.net.http} WebSocket, offering {@code
 * herald.v1.json}.
 */
final class JdkWebSocketTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(JdkWebSocketTransport.class);

  /** A message assembled from parts may not grow beyond this (the server's limit is far lower). */
  static final int MAX_MESSAGE_CHARS = 16 * 1024 * 1024;

  /** How long a clean close may take before the connection is aborted. */
  static final long CLOSE_GRACE_MS = 3_000;

  private final HttpClient http;

  JdkWebSocketTransport(HttpClient http) {
    this.http = Objects.requireNonNull(http, "http");
  }

  @Override
  public CompletableFuture<Connection> open(
      URI uri, Map<String, List<String>> headers, Duration connectTimeout, Listener listener) {
    CompletableFuture<WebSocket> ws;
    try {
      WebSocket.Builder builder =
          http.newWebSocketBuilder()
              .subprotocols(ProtocolVersion.WEBSOCKET_SUBPROTOCOL)
              .connectTimeout(connectTimeout);
      for (Map.Entry<String, List<String>> h : headers.entrySet()) {
        for (String value : h.getValue()) {
          builder.header(h.getKey(), value);
        }
      }
      ws = builder.buildAsync(uri, new ListenerAdapter(listener));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return ws.handle(
        (socket, error) -> {
          if (error != null) {
            throw new CompletionException(describe(unwrap(error)));
          }
          if (!ProtocolVersion.WEBSOCKET_SUBPROTOCOL.equals(socket.getSubprotocol())) {
            log.debug(
                "server selected subprotocol '{}'; speaking v1 anyway", socket.getSubprotocol());
          }
          return new JdkConnection(socket, listener);
        });
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Turns a handshake refusal into an exception that says what the server answered. */
  private static Throwable describe(Throwable t) {
    if (t instanceof WebSocketHandshakeException refused) {
      var response = refused.getResponse();
      StringBuilder sb =
          new StringBuilder("WebSocket handshake refused: HTTP ").append(response.statusCode());
      response
          .headers()
          .firstValue("X-Herald-Error")
          .ifPresent(e -> sb.append(" (").append(e).append(')'));
      long retryMs = retryAfterMillis(response.headers());
      if (retryMs > 0) {
        sb.append(", Retry-After ").append(retryMs / 1000).append(" s");
      }
      return new RefusedHandshake(sb.toString(), response.statusCode(), retryMs, t);
    }
    return t;
  }

  /**
   * The delay of a {@code Retry-After} header in seconds (a draining node's {@code 503}), in ms; 0
   * when absent or not a number of seconds (an HTTP date is not honoured).
   */
  static long retryAfterMillis(java.net.http.HttpHeaders headers) {
    String v = headers.firstValue("Retry-After").orElse("").trim();
    if (v.isEmpty() || v.length() > 9 || !v.chars().allMatch(Character::isDigit)) {
      return 0;
    }
    return Long.parseLong(v) * 1000;
  }

  /**
   * Adapts the JDK listener: accumulates text parts until the last one, then hands over the whole
   * message and requests the next one once it has been processed.
   */
  static final class ListenerAdapter implements WebSocket.Listener {
    private final Listener target;
    private final StringBuilder text = new StringBuilder();
    private boolean binaryWarned;

    ListenerAdapter(Listener target) {
      this.target = target;
    }

    @Override
    public void onOpen(WebSocket ws) {
      ws.request(1);
    }

    @Override
    public @Nullable CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      target.onActivity();
      if (text.length() + data.length() > MAX_MESSAGE_CHARS) {
        text.setLength(0);
        target.onError(
            new IOException(
                "message from the server exceeds " + MAX_MESSAGE_CHARS + " characters"));
        ws.abort();
        return null;
      }
      text.append(data);
      if (!last) {
        ws.request(1);
        return null;
      }
      String message = text.toString();
      text.setLength(0);
      CompletionStage<?> processed = target.onMessage(message);
      if (processed == null) {
        ws.request(1);
      } else {
        // The callback asks for the next message whatever the outcome.
        var unused = processed.whenComplete((r, e) -> ws.request(1));
      }
      return null;
    }

    @Override
    public @Nullable CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      target.onActivity();
      if (!binaryWarned) {
        binaryWarned = true;
        log.warn("ignoring binary frame from the server: protocol v1 is text only");
      }
      ws.request(1);
      return null;
    }

    @Override
    public @Nullable CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
      target.onActivity(); // the JDK answers with a pong by itself
      ws.request(1);
      return null;
    }

    @Override
    public @Nullable CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
      target.onActivity();
      ws.request(1);
      return null;
    }

    @Override
    public @Nullable CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      target.onClosed(statusCode, reason);
      return null; // the JDK answers the close at once
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      target.onError(error);
    }
  }

  /**
   * One WebSocket. The JDK allows one outstanding send at a time, so sends are queued and chained;
   * a failed send aborts the connection.
   */
  static final class JdkConnection implements Connection {
    private final WebSocket ws;
    private final Listener listener;
    private final ArrayDeque<Supplier<CompletableFuture<WebSocket>>> outbox = new ArrayDeque<>();
    private boolean busy;
    private boolean closed;

    JdkConnection(WebSocket ws, Listener listener) {
      this.ws = ws;
      this.listener = listener;
    }

    @Override
    public void send(String text) {
      enqueue(() -> ws.sendText(text, true), false);
    }

    @Override
    public void close(int code, String reason) {
      enqueue(() -> ws.sendClose(code, reason).whenComplete((w, e) -> abortLater()), true);
    }

    @Override
    public void abort() {
      synchronized (this) {
        closed = true;
        outbox.clear();
      }
      ws.abort();
    }

    private void abortLater() {
      CompletableFuture.delayedExecutor(CLOSE_GRACE_MS, TimeUnit.MILLISECONDS)
          .execute(
              () -> {
                if (!ws.isInputClosed()) {
                  ws.abort();
                }
              });
    }

    private void enqueue(Supplier<CompletableFuture<WebSocket>> op, boolean last) {
      synchronized (this) {
        if (closed) {
          return;
        }
        outbox.add(op);
        closed = last;
        if (busy) {
          return;
        }
        busy = true;
      }
      pump();
    }

    private void pump() {
      while (true) {
        Supplier<CompletableFuture<WebSocket>> op;
        synchronized (this) {
          op = outbox.poll();
          if (op == null) {
            busy = false;
            return;
          }
        }
        CompletableFuture<WebSocket> sent;
        try {
          sent = op.get();
        } catch (RuntimeException e) {
          sent = CompletableFuture.failedFuture(e);
        }
        if (sent.isDone() && !sent.isCompletedExceptionally()) {
          continue; // loop instead of recursing through whenComplete
        }
        // The callback handles the outcome; its own future carries nothing more.
        var unused =
            sent.whenComplete(
                (w, error) -> {
                  if (error != null) {
                    failed(unwrap(error));
                  } else {
                    pump();
                  }
                });
        return;
      }
    }

    private void failed(Throwable error) {
      synchronized (this) {
        closed = true;
        busy = false;
        outbox.clear();
      }
      ws.abort();
      listener.onError(error);
    }
  }
}
