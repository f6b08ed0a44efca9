package dev.herald.client;

import dev.herald.protocol.ClientMessage;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.ServerMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** A transport without a network: the test plays the server. */
final class FakeTransport implements Transport {
  static final JsonCodec CODEC = new JsonCodec();

  final List<FakeConnection> connections = new ArrayList<>();

  @Override
  public CompletableFuture<Connection> open(
      URI uri, Map<String, List<String>> headers, Duration connectTimeout, Listener listener) {
    FakeConnection c = new FakeConnection(uri, headers, listener);
    connections.add(c);
    return c.opening;
  }

  FakeConnection last() {
    return connections.get(connections.size() - 1);
  }

  static final class FakeConnection implements Connection {
    final URI uri;
    final Map<String, List<String>> headers;
    final Listener listener;
    final CompletableFuture<Connection> opening = new CompletableFuture<>();
    final List<String> sent = new ArrayList<>();
    boolean aborted;
    Integer closedWith;

    FakeConnection(URI uri, Map<String, List<String>> headers, Listener listener) {
      this.uri = uri;
      this.headers = headers;
      this.listener = listener;
    }

    /** Completes the handshake. */
    FakeConnection accept() {
      opening.complete(this);
      return this;
    }

    void refuse(String why) {
      refuse(new IOException(why));
    }

    void refuse(IOException why) {
      opening.completeExceptionally(why);
    }

    /** The server sends one frame (which may hold several LF-separated messages). */
    void receive(String frame) {
      listener.onMessage(frame);
    }

    void receive(ServerMessage m) {
      receive(CODEC.encodeToString(m));
    }

    void serverClose(int code, String reason) {
      listener.onClosed(code, reason);
    }

    void networkError() {
      listener.onError(new IOException("connection reset"));
    }

    List<ClientMessage> messages() {
      List<ClientMessage> out = new ArrayList<>();
      for (String s : sent) {
        try {
          out.add(CODEC.decodeClient(s));
        } catch (ProtocolException e) {
          throw new UncheckedIOException(new IOException("client sent invalid message: " + s, e));
        }
      }
      return out;
    }

    ClientMessage lastMessage() {
      List<ClientMessage> m = messages();
      return m.get(m.size() - 1);
    }

    <T extends ClientMessage> List<T> messages(Class<T> type) {
      List<T> out = new ArrayList<>();
      for (ClientMessage m : messages()) {
        if (type.isInstance(m)) {
          out.add(type.cast(m));
        }
      }
      return out;
    }

    @Override
    public void send(String text) {
      if (aborted || closedWith != null) {
        return;
      }
      sent.add(text);
    }

    @Override
    public void close(int code, String reason) {
      closedWith = code;
    }

    @Override
    public void abort() {
      aborted = true;
    }
  }
}
