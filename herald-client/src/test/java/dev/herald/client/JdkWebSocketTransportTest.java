package dev.herald.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** The JDK adapter without a network: a stub WebSocket records what the adapter does. */
class JdkWebSocketTransportTest {
  /** Records requests and sends; sends complete only when the test says so. */
  static final class StubWebSocket implements WebSocket {
    long requested;
    boolean aborted;
    final List<String> sent = new ArrayList<>();
    final List<CompletableFuture<WebSocket>> sends = new ArrayList<>();

    @Override
    public CompletableFuture<WebSocket> sendText(CharSequence data, boolean last) {
      if (!sends.isEmpty() && !sends.get(sends.size() - 1).isDone()) {
        throw new IllegalStateException("Send pending"); // what the JDK does
      }
      sent.add(data.toString());
      CompletableFuture<WebSocket> f = new CompletableFuture<>();
      sends.add(f);
      return f;
    }

    @Override
    public CompletableFuture<WebSocket> sendBinary(ByteBuffer data, boolean last) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<WebSocket> sendPing(ByteBuffer message) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<WebSocket> sendPong(ByteBuffer message) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<WebSocket> sendClose(int statusCode, String reason) {
      sent.add("close " + statusCode);
      return CompletableFuture.completedFuture(this);
    }

    @Override
    public void request(long n) {
      requested += n;
    }

    @Override
    public String getSubprotocol() {
      return "herald.v1.json";
    }

    @Override
    public boolean isOutputClosed() {
      return false;
    }

    @Override
    public boolean isInputClosed() {
      return true;
    }

    @Override
    public void abort() {
      aborted = true;
    }
  }

  static final class RecordingListener implements Transport.Listener {
    final List<String> messages = new ArrayList<>();
    final List<Throwable> errors = new ArrayList<>();
    int activity;
    CompletableFuture<Void> processing = CompletableFuture.completedFuture(null);

    @Override
    public void onActivity() {
      activity++;
    }

    @Override
    public CompletionStage<?> onMessage(String text) {
      messages.add(text);
      return processing;
    }

    @Override
    public void onClosed(int code, String reason) {
      messages.add("closed " + code + " " + reason);
    }

    @Override
    public void onError(Throwable error) {
      errors.add(error);
    }
  }

  @Test
  void textPartsAreAccumulatedUntilTheLastOne() {
    StubWebSocket ws = new StubWebSocket();
    RecordingListener l = new RecordingListener();
    JdkWebSocketTransport.ListenerAdapter a = new JdkWebSocketTransport.ListenerAdapter(l);
    a.onOpen(ws);
    a.onText(ws, "{\"type\":", false);
    a.onText(ws, "\"pi", false);
    assertThat(l.messages).isEmpty();
    a.onText(ws, "ng\"}\n{\"type\":\"pong\"}", true);
    a.onText(ws, "{\"type\":\"ping\"}", true);
    assertThat(l.messages)
        .containsExactly("{\"type\":\"ping\"}\n{\"type\":\"pong\"}", "{\"type\":\"ping\"}");
    assertThat(l.activity).isEqualTo(4);
    assertThat(ws.requested).isEqualTo(5);
  }

  @Test
  void theNextMessageIsRequestedOnlyAfterProcessing() {
    StubWebSocket ws = new StubWebSocket();
    RecordingListener l = new RecordingListener();
    l.processing = new CompletableFuture<>();
    JdkWebSocketTransport.ListenerAdapter a = new JdkWebSocketTransport.ListenerAdapter(l);
    a.onOpen(ws);
    a.onText(ws, "{\"type\":\"ping\"}", true);
    assertThat(ws.requested).isEqualTo(1);
    l.processing.complete(null);
    assertThat(ws.requested).isEqualTo(2);
  }

  @Test
  void sendsAreChainedOneAtATime() {
    StubWebSocket ws = new StubWebSocket();
    RecordingListener l = new RecordingListener();
    JdkWebSocketTransport.JdkConnection c = new JdkWebSocketTransport.JdkConnection(ws, l);
    c.send("a");
    c.send("b");
    c.send("c");
    assertThat(ws.sent).containsExactly("a");
    ws.sends.get(0).complete(ws);
    assertThat(ws.sent).containsExactly("a", "b");
    c.close(1000, "bye");
    c.send("ignored after close");
    ws.sends.get(1).complete(ws);
    assertThat(ws.sent).containsExactly("a", "b", "c");
    ws.sends.get(2).complete(ws);
    assertThat(ws.sent).containsExactly("a", "b", "c", "close 1000");
    assertThat(l.errors).isEmpty();
  }

  @Test
  void aFailedSendAbortsAndReports() {
    StubWebSocket ws = new StubWebSocket();
    RecordingListener l = new RecordingListener();
    JdkWebSocketTransport.JdkConnection c = new JdkWebSocketTransport.JdkConnection(ws, l);
    c.send("a");
    c.send("b");
    ws.sends.get(0).completeExceptionally(new java.io.IOException("Output closed"));
    assertThat(ws.aborted).isTrue();
    assertThat(l.errors).hasSize(1);
    assertThat(ws.sent).containsExactly("a");
  }

  @Test
  void retryAfterInSecondsIsReadAndAnythingElseIsNone() {
    assertThat(JdkWebSocketTransport.retryAfterMillis(headers("Retry-After", "3"))).isEqualTo(3000);
    assertThat(JdkWebSocketTransport.retryAfterMillis(headers("Retry-After", " 12 ")))
        .isEqualTo(12_000);
    assertThat(JdkWebSocketTransport.retryAfterMillis(headers("X-Other", "3"))).isZero();
    assertThat(
            JdkWebSocketTransport.retryAfterMillis(
                headers("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")))
        .isZero();
    assertThat(JdkWebSocketTransport.retryAfterMillis(headers("Retry-After", "-1"))).isZero();
    assertThat(JdkWebSocketTransport.retryAfterMillis(headers("Retry-After", "99999999999")))
        .isZero();
  }

  private static java.net.http.HttpHeaders headers(String name, String value) {
    return java.net.http.HttpHeaders.of(java.util.Map.of(name, List.of(value)), (n, v) -> true);
  }
}
