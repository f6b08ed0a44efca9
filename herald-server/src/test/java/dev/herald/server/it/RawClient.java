package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A bare WebSocket client for protocol-level tests: sends raw text, records every message it
 * receives (split on LF), answers pings only when told to, and records the close.
 */
public final class RawClient implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final WebSocket ws;
  private final Inbox inbox = new Inbox(TIMEOUT, () -> "");
  // Owned by the listener: a server may close before open() has built this object.
  private final CompletableFuture<int[]> closed;
  private final CompletableFuture<String> closeReason;
  private final AtomicLong ids = new AtomicLong();
  private volatile boolean autoPong = true;

  private RawClient(WebSocket ws, Listener l) {
    this.ws = ws;
    this.closed = l.closed;
    this.closeReason = l.closeReason;
  }

  public static RawClient open(URI uri) {
    return open(uri, Map.of(), "herald.v1.json");
  }

  public static RawClient open(URI uri, Map<String, String> headers, String subprotocol) {
    Listener l = new Listener();
    WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(TIMEOUT);
    headers.forEach(b::header);
    if (subprotocol != null) {
      b.subprotocols(subprotocol);
    }
    WebSocket ws = b.buildAsync(uri, l).orTimeout(15, TimeUnit.SECONDS).join();
    RawClient c = new RawClient(ws, l);
    l.attach(c);
    return c;
  }

  /** Opens, connects with the user's token and checks the reply. */
  public static RawClient connected(TestServer server, String user) {
    RawClient c = open(server.wsUri());
    JsonNode reply = c.request("{\"type\":\"connect\",\"token\":\"" + server.token(user) + "\"}");
    assertThat(reply.has("result")).as("connect reply %s", reply).isTrue();
    return c;
  }

  public void autoPong(boolean v) {
    autoPong = v;
  }

  public void send(String text) {
    ws.sendText(text, true).orTimeout(15, TimeUnit.SECONDS).join();
  }

  public void sendBinary(byte[] data) {
    ws.sendBinary(ByteBuffer.wrap(data), true).orTimeout(15, TimeUnit.SECONDS).join();
  }

  /** Sends a request (JSON object text without id) and waits for its reply. */
  public JsonNode request(String jsonWithoutId) {
    long id = ids.incrementAndGet() + 1000;
    String json = "{\"id\":" + id + "," + jsonWithoutId.substring(1);
    send(json);
    return await(m -> m.path("type").asText().equals("reply") && m.path("id").asLong() == id);
  }

  /** Waits for the next message matching the predicate; earlier non-matching ones stay recorded. */
  public JsonNode await(Predicate<JsonNode> p) {
    return inbox.await(p);
  }

  public JsonNode awaitType(String type) {
    return inbox.awaitType(type);
  }

  /** Messages received but not consumed yet that match, without waiting; they are consumed. */
  public List<JsonNode> takeReceived(Predicate<JsonNode> p) {
    return inbox.takeReceived(p);
  }

  /** Collects the next n pub messages of a channel, in arrival order. */
  public List<JsonNode> pubs(String channel, int n) {
    return inbox.pubs(channel, n);
  }

  /** Waits for the server's close frame; returns {code}. */
  public int awaitClose() {
    return closed.orTimeout(TIMEOUT.toSeconds(), TimeUnit.SECONDS).join()[0];
  }

  public String closeReason() {
    return closeReason.orTimeout(TIMEOUT.toSeconds(), TimeUnit.SECONDS).join();
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  private void onLine(String line) {
    try {
      JsonNode m = JSON.readTree(line);
      if (autoPong && m.path("type").asText().equals("ping")) {
        ws.sendText("{\"type\":\"pong\"}", true);
      }
      inbox.add(m);
    } catch (Exception e) {
      throw new AssertionError("server sent invalid JSON: " + line, e);
    }
  }

  @Override
  public void close() {
    if (!ws.isOutputClosed()) {
      ws.sendClose(1000, "bye");
    }
    ws.abort();
  }

  /** Aborts the TCP connection without a close handshake. */
  public void abort() {
    ws.abort();
  }

  private static final class Listener implements WebSocket.Listener {
    final CompletableFuture<int[]> closed = new CompletableFuture<>();
    final CompletableFuture<String> closeReason = new CompletableFuture<>();
    // Lines that arrive before the client exists are kept, then handed over in order.
    private RawClient client;
    private final List<String> pending = new ArrayList<>();
    private final StringBuilder partial = new StringBuilder();

    synchronized void attach(RawClient c) {
      pending.forEach(c::onLine);
      pending.clear();
      client = c;
    }

    private synchronized void line(String line) {
      if (client == null) {
        pending.add(line);
      } else {
        client.onLine(line);
      }
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        for (String line : partial.toString().split("\n")) {
          if (!line.isEmpty()) {
            line(line);
          }
        }
        partial.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closeReason.complete(reason);
      closed.complete(new int[] {statusCode});
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closeReason.complete("error: " + error);
      closed.complete(new int[] {1006});
    }
  }
}
