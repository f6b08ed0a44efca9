package dev.herald.core.testkit;

import dev.herald.core.hub.ClientSession;
import dev.herald.protocol.ClientMessage;
import dev.herald.protocol.ClientMessage.Connect;
import dev.herald.protocol.ClientMessage.PresenceQuery;
import dev.herald.protocol.ClientMessage.PresenceSet;
import dev.herald.protocol.ClientMessage.Publish;
import dev.herald.protocol.ClientMessage.Subscribe;
import dev.herald.protocol.ClientMessage.Unsubscribe;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.Ping;
import dev.herald.protocol.Pong;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.ProtocolVersion;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.PresenceResult;
import dev.herald.protocol.ServerMessage.PublishResult;
import dev.herald.protocol.ServerMessage.Reply;
import dev.herald.protocol.ServerMessage.Result;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.protocol.StreamPosition;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One simulated client: a {@link ClientSession} and the {@link RecordingTransport} it writes to.
 * Request methods encode a client message, hand it to the session on the transport's executor (as a
 * transport would) and return the request id; {@code ...Ok} variants also wait for the successful
 * reply (running pending tasks first with a manual executor) and return its result.
 */
public final class TestClient {
  private static final JsonCodec CODEC = new JsonCodec();

  private final TestHub testHub;
  private final RecordingTransport transport;
  private final ClientSession session;
  private final AtomicLong ids = new AtomicLong();

  TestClient(TestHub testHub, RecordingTransport transport, ClientSession session) {
    this.testHub = testHub;
    this.transport = transport;
    this.session = session;
  }

  public RecordingTransport transport() {
    return transport;
  }

  public ClientSession session() {
    return session;
  }

  public String clientId() {
    return session.clientId();
  }

  public TestHub testHub() {
    return testHub;
  }

  public long nextId() {
    return ids.incrementAndGet();
  }

  // ------------------------------------------------------------------ raw input

  /** Hands a text frame to the session on the transport's executor. */
  public void sendFrame(String frame) {
    transport.executor().execute(() -> session.onText(frame));
  }

  /** Encodes and sends one client message. */
  public void send(ClientMessage message) {
    sendFrame(CODEC.encodeToString(message));
  }

  /** The peer went away: reports it to the session on the executor. */
  public void closeFromPeer() {
    transport.executor().execute(session::onTransportClosed);
  }

  // ------------------------------------------------------------------ requests (return the id)

  public long connect(String token) {
    return connect(token, ProtocolVersion.CURRENT);
  }

  public long connect(String token, int protocol) {
    long id = nextId();
    send(new Connect(id, token, "testkit/1", protocol));
    return id;
  }

  public long subscribe(String channel) {
    return subscribe(channel, null);
  }

  public long subscribe(String channel, StreamPosition since) {
    long id = nextId();
    send(new Subscribe(id, channel, since));
    return id;
  }

  public long unsubscribe(String channel) {
    long id = nextId();
    send(new Unsubscribe(id, channel));
    return id;
  }

  public long publish(String channel, String json) {
    long id = nextId();
    send(new Publish(id, channel, TestHub.json(json)));
    return id;
  }

  public long presence(String channel) {
    long id = nextId();
    send(new PresenceQuery(id, channel));
    return id;
  }

  public long presenceSet(String channel, String stateJson) {
    long id = nextId();
    send(new PresenceSet(id, channel, TestHub.json(stateJson)));
    return id;
  }

  public void ping() {
    send(Ping.INSTANCE);
  }

  public void pong() {
    send(Pong.INSTANCE);
  }

  // ------------------------------------------------------------------ request and await reply

  /** Runs pending executor tasks (manual transport) and waits for the reply with this id. */
  public Reply reply(long id) {
    transport.runPending();
    return transport.awaitReply(id);
  }

  /** Waits for the reply with this id, which must be an error with this code. */
  public Reply error(long id, int code) {
    Reply r = reply(id);
    if (!r.isError() || r.error().code() != code) {
      throw new AssertionError("expected error " + code + " in reply " + id + " but got " + r);
    }
    return r;
  }

  public ConnectResult connectOk(String token) {
    return ok(connect(token), ConnectResult.class);
  }

  public SubscribeResult subscribeOk(String channel) {
    return ok(subscribe(channel), SubscribeResult.class);
  }

  public SubscribeResult subscribeOk(String channel, StreamPosition since) {
    return ok(subscribe(channel, since), SubscribeResult.class);
  }

  public void unsubscribeOk(String channel) {
    ok(unsubscribe(channel), Result.class);
  }

  public PublishResult publishOk(String channel, String json) {
    return ok(publish(channel, json), PublishResult.class);
  }

  public PresenceResult presenceOk(String channel) {
    return ok(presence(channel), PresenceResult.class);
  }

  public void presenceSetOk(String channel, String stateJson) {
    ok(presenceSet(channel, stateJson), Result.class);
  }

  /** Waits for the reply with this id, which must succeed, and reads its result as {@code type}. */
  public <T extends Result> T ok(long id, Class<T> type) {
    Reply r = reply(id);
    if (r.isError()) {
      throw new AssertionError("request " + id + " failed: " + r.error());
    }
    return result(r, type);
  }

  /** Reads a decoded reply's result as a typed result. */
  public static <T extends Result> T result(Reply reply, Class<T> type) {
    if (type == Result.class) {
      return type.cast(reply.result());
    }
    try {
      return CODEC.readResult(reply.result(), type);
    } catch (ProtocolException e) {
      throw new AssertionError("cannot read " + reply + " as " + type.getSimpleName(), e);
    }
  }

  @Override
  public String toString() {
    return "TestClient[" + session.clientId() + " on " + transport + "]";
  }
}
