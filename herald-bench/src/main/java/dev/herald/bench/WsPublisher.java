package dev.herald.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Publishes at a fixed rate as a Herald client: one WebSocket, connected with a token, sending
 * {@code publish} requests (the namespace must allow client publishing). Replies are counted; an
 * error reply counts as a refusal. Like {@link Publisher}, each message carries its scheduled send
 * time.
 */
final class WsPublisher implements Source {
  private final String channel;
  private final WebSocket ws;
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final CompletableFuture<Void> connected = new CompletableFuture<>();
  private volatile @Nullable String firstRefusal;
  private long maxLagMicros;
  private long nextId = 1;

  WsPublisher(String host, int port, String token, String channel) throws IOException {
    this.channel = channel;
    try {
      ws =
          HttpClient.newHttpClient()
              .newWebSocketBuilder()
              .subprotocols("herald.v1.json")
              .connectTimeout(Duration.ofSeconds(10))
              .buildAsync(
                  URI.create("ws://" + host + ":" + port + "/connection/websocket"), new Listener())
              .get(10, TimeUnit.SECONDS);
      ws.sendText(
              "{\"type\":\"connect\",\"id\":" + nextId++ + ",\"token\":\"" + token + "\"}", true)
          .get(10, TimeUnit.SECONDS);
      connected.get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException("publisher could not connect: " + e, e);
    }
  }

  @Override
  public void run(long firstSeq, long count, double rate) throws IOException {
    long start = System.nanoTime();
    double interval = 1e9 / rate;
    for (long i = 0; i < count; i++) {
      long due = start + (long) (i * interval);
      long now;
      while ((now = System.nanoTime()) < due) {
        LockSupport.parkNanos(Math.min(due - now, 1_000_000));
      }
      maxLagMicros = Math.max(maxLagMicros, (now - due) / 1000);
      String msg =
          "{\"type\":\"publish\",\"id\":"
              + nextId++
              + ",\"channel\":\""
              + channel
              + "\",\"data\":"
              + Source.data(firstSeq + i, due)
              + "}";
      try {
        ws.sendText(msg, true).get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IOException("publish over the WebSocket failed: " + e, e);
      }
    }
  }

  @Override
  public long answered() {
    return answered.get();
  }

  @Override
  public long refused() {
    return refused.get();
  }

  @Override
  public @Nullable String firstRefusal() {
    return firstRefusal;
  }

  @Override
  public long maxLagMicros() {
    return maxLagMicros;
  }

  @Override
  public void resetLag() {
    maxLagMicros = 0;
  }

  @Override
  public void close() {
    ws.abort();
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    @Override
    public @Nullable CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        for (String line : partial.toString().split("\n", -1)) {
          onMessage(w, line);
        }
        partial.setLength(0);
      }
      w.request(1);
      return null;
    }

    private void onMessage(WebSocket w, String m) {
      if (m.startsWith("{\"type\":\"ping\"")) {
        // A pong that cannot be sent ends in the socket closing, which the run reports.
        var unused = w.sendText("{\"type\":\"pong\"}", true);
      } else if (m.startsWith("{\"type\":\"reply\"")) {
        if (!connected.isDone()) {
          if (m.contains("\"error\"")) {
            connected.completeExceptionally(new IllegalStateException(m));
          } else {
            connected.complete(null);
          }
          return;
        }
        answered.incrementAndGet();
        if (m.contains("\"error\"") && refused.getAndIncrement() == 0) {
          firstRefusal = m;
        }
      }
    }
  }
}
