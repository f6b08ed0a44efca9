package dev.herald.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.protocol.ClientMessage.Connect;
import dev.herald.protocol.ClientMessage.PresenceQuery;
import dev.herald.protocol.ClientMessage.PresenceSet;
import dev.herald.protocol.ClientMessage.Publish;
import dev.herald.protocol.ClientMessage.Refresh;
import dev.herald.protocol.ClientMessage.Subscribe;
import dev.herald.protocol.ClientMessage.Unsubscribe;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.Disconnect;
import dev.herald.protocol.ServerMessage.EmptyResult;
import dev.herald.protocol.ServerMessage.ErrorInfo;
import dev.herald.protocol.ServerMessage.Join;
import dev.herald.protocol.ServerMessage.Leave;
import dev.herald.protocol.ServerMessage.PresenceResult;
import dev.herald.protocol.ServerMessage.PresenceUpdate;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.PublishResult;
import dev.herald.protocol.ServerMessage.RefreshResult;
import dev.herald.protocol.ServerMessage.Reply;
import dev.herald.protocol.ServerMessage.Result;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every message type of protocol v1 against a golden file in src/test/resources/golden/v1. A golden
 * file is the exact encoding; changing one is a protocol change. Run with {@code
 * -Dgolden.update=true} to rewrite the files after an intended change, and review the diff.
 */
class GoldenFileTest {
  private static final Path DIR = Path.of("src/test/resources/golden/v1");
  private static final JsonCodec CODEC = new JsonCodec();

  static RawJson raw(String json) {
    try {
      return CODEC.parseRaw(json);
    } catch (ProtocolException e) {
      throw new IllegalArgumentException(e);
    }
  }

  static Map<String, ClientMessage> clientMessages() {
    Map<String, ClientMessage> m = new LinkedHashMap<>();
    m.put("connect", new Connect(1, "eyJhbGciOiJIUzI1NiJ9.e30.sig", "herald-java/0.1.0", 1));
    m.put("connect-cookie", new Connect(1, null, null, 1));
    m.put("connect-ping", new Connect(1, null, "herald-js/0.1.0", 1, 2500));
    m.put("subscribe", new Subscribe(2, "project:42", null));
    m.put("subscribe-recover", new Subscribe(3, "project:42", new StreamPosition("k3J9cQ", 57)));
    m.put("unsubscribe", new Unsubscribe(4, "project:42"));
    m.put("publish", new Publish(5, "chat:lobby", raw("{\"text\":\"hello\",\"n\":[1,2]}")));
    m.put("presence", new PresenceQuery(6, "project:42"));
    m.put(
        "presence-set",
        new PresenceSet(7, "project:42", raw("{\"editing\":\"item:7\",\"idle\":false}")));
    m.put("refresh", new Refresh(8, "eyJhbGciOiJIUzI1NiJ9.e30.sig2"));
    m.put("ping", Ping.INSTANCE);
    m.put("pong", Pong.INSTANCE);
    return m;
  }

  static Map<String, ServerMessage> serverMessages() {
    ClientInfo alice =
        new ClientInfo(
            "c-3f9a1d0b2e",
            "alice",
            raw("{\"name\":\"Alice Editor\"}"),
            raw("{\"editing\":\"item:7\"}"));
    Map<String, ServerMessage> m = new LinkedHashMap<>();
    m.put(
        "reply-connect",
        Reply.ok(
            1, new ConnectResult("c-3f9a1d0b2e", "alice", "herald-1", 1, 25000, 10000, 65536)));
    m.put(
        "reply-connect-expiring",
        Reply.ok(
            1,
            new ConnectResult(
                "c-3f9a1d0b2e", "alice", "herald-1", 1, 25000, 10000, 65536, 1765063502000L)));
    m.put("reply-refresh", Reply.ok(8, new RefreshResult(1765067102000L)));
    m.put(
        "reply-error-user-mismatch",
        Reply.error(8, ErrorCode.USER_MISMATCH, "token is for another user"));
    m.put("reply-subscribe", Reply.ok(3, new SubscribeResult("k3J9cQ", 1057, true, true, 1000)));
    m.put("reply-publish", Reply.ok(5, new PublishResult("k3J9cQ", 1058)));
    m.put("reply-presence", Reply.ok(6, new PresenceResult(List.of(alice))));
    m.put("reply-empty", Reply.ok(4, EmptyResult.INSTANCE));
    m.put(
        "reply-error",
        Reply.error(2, ErrorCode.PERMISSION_DENIED, "subscribe denied for channel 'project:42'"));
    m.put(
        "error",
        new ServerMessage.Error(new ErrorInfo(107, "malformed JSON: Unexpected character")));
    m.put(
        "pub",
        new Pub(
            "project:42",
            "k3J9cQ",
            1058,
            1764234000123L,
            raw("{\"item\":7,\"status\":\"ready\"}"),
            null));
    m.put(
        "pub-from-client",
        new Pub("chat:lobby", "k3J9cQ", 9, 1764234000123L, raw("\"hi\\nthere\""), "alice"));
    m.put(
        "pub-recovered",
        new Pub(
            "project:42",
            "k3J9cQ",
            57,
            1764233990000L,
            raw("{\"item\":7,\"status\":\"draft\"}"),
            null,
            true));
    m.put("join", new Join("project:42", alice.withState(RawJson.EMPTY_OBJECT)));
    m.put("leave", new Leave("project:42", alice));
    m.put("presence-update", new PresenceUpdate("project:42", alice));
    m.put("disconnect", new Disconnect(4001, "server restart", true, 2300));
    m.put(
        "unsubscribed",
        new ServerMessage.Unsubscribed("project:42", 103, "access to 'project:42' was revoked"));
    m.put(
        "unsubscribed-stream-reset",
        new ServerMessage.Unsubscribed(
            "project:42",
            116,
            "the stream of 'project:42' was reset: resubscribe with since to recover"));
    m.put("ping", Ping.INSTANCE);
    m.put("pong", Pong.INSTANCE);
    return m;
  }

  static Stream<Arguments> client() {
    return clientMessages().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
  }

  static Stream<Arguments> server() {
    return serverMessages().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
  }

  @ParameterizedTest(name = "client/{0}")
  @MethodSource("client")
  void clientMessage(String name, ClientMessage message) throws Exception {
    String golden = golden("client-" + name, CODEC.encodeToString(message));
    assertThat(CODEC.encodeToString(message)).isEqualTo(golden);
    assertThat(CODEC.decodeClient(golden)).isEqualTo(message);
  }

  @ParameterizedTest(name = "server/{0}")
  @MethodSource("server")
  void serverMessage(String name, ServerMessage message) throws Exception {
    String golden = golden("server-" + name, CODEC.encodeToString(message));
    assertThat(CODEC.encodeToString(message)).isEqualTo(golden);
    assertThat(golden).doesNotContain("\n");
    ServerMessage decoded = CODEC.decodeServer(golden);
    if (message instanceof Reply r && r.result() != null) {
      Reply d = (Reply) decoded;
      assertThat(d.id()).isEqualTo(r.id());
      Result typed = CODEC.readResult(d.result(), r.result().getClass());
      assertThat(typed).isEqualTo(r.result());
    } else {
      assertThat(decoded).isEqualTo(message);
    }
  }

  private static String golden(String name, String actual) {
    Path file = DIR.resolve(name + ".json");
    try {
      if (Boolean.getBoolean("golden.update")) {
        Files.createDirectories(DIR);
        Files.writeString(file, actual + "\n", StandardCharsets.UTF_8);
      }
      assertThat(file).as("golden file %s (create with -Dgolden.update=true)", file).exists();
      return Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
