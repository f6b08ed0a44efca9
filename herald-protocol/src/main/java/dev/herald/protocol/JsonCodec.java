package dev.herald.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.JsonNodeType;
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
import dev.herald.protocol.ServerMessage.RawResult;
import dev.herald.protocol.ServerMessage.RefreshResult;
import dev.herald.protocol.ServerMessage.Reply;
import dev.herald.protocol.ServerMessage.Result;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * JSON encoding of protocol v1, both directions. Thread-safe; create one and share it.
 *
 * <p>Encoding writes fields in a fixed order (the order in docs/protocol.md) and never emits line
 * breaks, so several messages can share one frame separated by LF. Decoding validates every field
 * and reports problems as {@link ProtocolException} with a code and a message that names the field.
 */
public final class JsonCodec {
  /** Nesting deeper than this in any incoming message is refused. */
  public static final int DEFAULT_MAX_NESTING_DEPTH = 32;

  private static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

  private final ObjectMapper mapper;
  private final JsonFactory factory;

  public JsonCodec() {
    this(DEFAULT_MAX_NESTING_DEPTH);
  }

  public JsonCodec(int maxNestingDepth) {
    this.factory =
        JsonFactory.builder()
            .streamReadConstraints(
                StreamReadConstraints.builder().maxNestingDepth(maxNestingDepth).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    // Numbers keep their exact text value: decimals as BigDecimal (1.10 stays 1.10, 1e400 stays
    // 1E+400), big integers as BigInteger; never silently rounded through double.
    this.mapper =
        new ObjectMapper(factory)
            .enable(
                com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
  }

  // ---------------------------------------------------------------- raw JSON values

  /** Validates JSON text and returns it in compact form. */
  public RawJson parseRaw(String json) throws ProtocolException {
    JsonNode node;
    try {
      node = mapper.readTree(json);
    } catch (JsonProcessingException e) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "malformed JSON: " + brief(e), 0);
    }
    if (node == null || node.isMissingNode()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "empty JSON", 0);
    }
    return raw(node);
  }

  /** Compact text of a parsed node. */
  public RawJson raw(JsonNode node) {
    try {
      return new RawJson(mapper.writeValueAsString(node));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses raw JSON back into a tree (for consumers that want to read it). */
  public JsonNode tree(RawJson raw) {
    try {
      return mapper.readTree(raw.json());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("RawJson holds invalid JSON", e);
    }
  }

  public ObjectMapper mapper() {
    return mapper;
  }

  // ---------------------------------------------------------------- client -> server

  /**
   * Decodes one frame that may hold several LF-separated messages. Each line gives either a message
   * or the error to answer it with; a bad line never hides the good ones.
   */
  public List<Decoded<ClientMessage>> decodeClientFrame(String frame) {
    List<Decoded<ClientMessage>> out = new ArrayList<>(1);
    int start = 0;
    int len = frame.length();
    while (start <= len) {
      int end = frame.indexOf(ProtocolVersion.MESSAGE_SEPARATOR, start);
      if (end < 0) {
        end = len;
      }
      String line = frame.substring(start, end);
      if (!line.isBlank()) {
        try {
          out.add(Decoded.ok(decodeClient(line)));
        } catch (ProtocolException e) {
          out.add(Decoded.failed(e));
        }
      }
      start = end + 1;
    }
    if (out.isEmpty()) {
      out.add(Decoded.failed(new ProtocolException(ErrorCode.BAD_REQUEST, "empty message", 0)));
    }
    return out;
  }

  /** Decodes a single client message. */
  public ClientMessage decodeClient(String json) throws ProtocolException {
    JsonNode node = readObject(json);
    String type = requiredString(node, "type", 0);
    if (type.equals("ping")) {
      return Ping.INSTANCE;
    }
    if (type.equals("pong")) {
      return Pong.INSTANCE;
    }
    long id = requestId(node);
    return switch (type) {
      case "connect" ->
          new Connect(
              id,
              optionalString(node, "token", id),
              optionalString(node, "client", id),
              optionalInt(node, "protocol", id, ProtocolVersion.CURRENT),
              optionalPositiveLong(node, "ping_ms", id));
      case "subscribe" ->
          new Subscribe(
              id, requiredString(node, "channel", id), position(node.get("since"), "since", id));
      case "unsubscribe" -> new Unsubscribe(id, requiredString(node, "channel", id));
      case "publish" ->
          new Publish(id, requiredString(node, "channel", id), requiredValue(node, "data", id));
      case "presence" -> new PresenceQuery(id, requiredString(node, "channel", id));
      case "presence_set" ->
          new PresenceSet(
              id, requiredString(node, "channel", id), requiredObject(node, "state", id));
      case "refresh" -> new Refresh(id, requiredString(node, "token", id));
      default ->
          throw new ProtocolException(
              ErrorCode.METHOD_NOT_FOUND, "unknown message type '" + clip(type) + "'", id);
    };
  }

  /** Encodes a client message (used by client libraries). */
  public byte[] encode(ClientMessage message) {
    return write(g -> writeClient(g, message));
  }

  public String encodeToString(ClientMessage message) {
    return new String(encode(message), StandardCharsets.UTF_8);
  }

  private void writeClient(JsonGenerator g, ClientMessage message) throws IOException {
    g.writeStartObject();
    if (message instanceof Ping) {
      g.writeStringField("type", "ping");
    } else if (message instanceof Pong) {
      g.writeStringField("type", "pong");
    } else if (message instanceof Connect c) {
      header(g, "connect", c.id());
      if (c.token() != null) g.writeStringField("token", c.token());
      if (c.client() != null) g.writeStringField("client", c.client());
      g.writeNumberField("protocol", c.protocol());
      if (c.pingMs() > 0) g.writeNumberField("ping_ms", c.pingMs());
    } else if (message instanceof Subscribe s) {
      header(g, "subscribe", s.id());
      g.writeStringField("channel", s.channel());
      if (s.since() != null) {
        g.writeObjectFieldStart("since");
        g.writeStringField("epoch", s.since().epoch());
        g.writeNumberField("offset", s.since().offset());
        g.writeEndObject();
      }
    } else if (message instanceof Unsubscribe u) {
      header(g, "unsubscribe", u.id());
      g.writeStringField("channel", u.channel());
    } else if (message instanceof Publish p) {
      header(g, "publish", p.id());
      g.writeStringField("channel", p.channel());
      g.writeFieldName("data");
      g.writeRawValue(p.data().json());
    } else if (message instanceof PresenceQuery q) {
      header(g, "presence", q.id());
      g.writeStringField("channel", q.channel());
    } else if (message instanceof PresenceSet s) {
      header(g, "presence_set", s.id());
      g.writeStringField("channel", s.channel());
      g.writeFieldName("state");
      g.writeRawValue(s.state().json());
    } else if (message instanceof Refresh r) {
      header(g, "refresh", r.id());
      g.writeStringField("token", r.token());
    } else {
      throw new IllegalArgumentException("unknown message: " + message);
    }
    g.writeEndObject();
  }

  // ---------------------------------------------------------------- server -> client

  /** Encodes a server message as UTF-8 JSON bytes, without a trailing separator. */
  public byte[] encode(ServerMessage message) {
    return write(g -> writeServer(g, message));
  }

  public String encodeToString(ServerMessage message) {
    return new String(encode(message), StandardCharsets.UTF_8);
  }

  private void writeServer(JsonGenerator g, ServerMessage message) throws IOException {
    g.writeStartObject();
    if (message instanceof Ping) {
      g.writeStringField("type", "ping");
    } else if (message instanceof Pong) {
      g.writeStringField("type", "pong");
    } else if (message instanceof Reply r) {
      header(g, "reply", r.id());
      if (r.error() != null) {
        writeError(g, r.error());
      } else {
        g.writeFieldName("result");
        writeResult(g, Objects.requireNonNull(r.result(), "a reply needs a result or an error"));
      }
    } else if (message instanceof ServerMessage.Error e) {
      g.writeStringField("type", "error");
      writeError(g, e.error());
    } else if (message instanceof Pub p) {
      g.writeStringField("type", "pub");
      g.writeStringField("channel", p.channel());
      g.writeStringField("epoch", p.epoch());
      g.writeNumberField("offset", p.offset());
      g.writeNumberField("ts", p.ts());
      if (p.user() != null) g.writeStringField("user", p.user());
      if (p.recovered()) g.writeBooleanField("recovered", true);
      g.writeFieldName("data");
      g.writeRawValue(p.data().json());
    } else if (message instanceof Join j) {
      presenceEvent(g, "join", j.channel(), j.client());
    } else if (message instanceof Leave l) {
      presenceEvent(g, "leave", l.channel(), l.client());
    } else if (message instanceof PresenceUpdate u) {
      presenceEvent(g, "presence_update", u.channel(), u.client());
    } else if (message instanceof Disconnect d) {
      g.writeStringField("type", "disconnect");
      g.writeNumberField("code", d.code());
      g.writeStringField("reason", d.reason());
      g.writeBooleanField("reconnect", d.reconnect());
      g.writeNumberField("retry_ms", d.retryMs());
    } else if (message instanceof ServerMessage.Unsubscribed u) {
      g.writeStringField("type", "unsubscribed");
      g.writeStringField("channel", u.channel());
      g.writeNumberField("code", u.code());
      g.writeStringField("reason", u.reason());
    } else {
      throw new IllegalArgumentException("unknown message: " + message);
    }
    g.writeEndObject();
  }

  private void writeResult(JsonGenerator g, Result result) throws IOException {
    if (result instanceof RawResult r) {
      g.writeRawValue(r.json().json());
    } else if (result instanceof EmptyResult) {
      g.writeStartObject();
      g.writeEndObject();
    } else if (result instanceof ConnectResult c) {
      g.writeStartObject();
      g.writeStringField("client", c.client());
      g.writeStringField("user", c.user());
      g.writeStringField("node", c.node());
      g.writeNumberField("protocol", c.protocol());
      g.writeNumberField("ping_ms", c.pingMs());
      g.writeNumberField("pong_ms", c.pongMs());
      g.writeNumberField("max_message_bytes", c.maxMessageBytes());
      if (c.expiresMs() > 0) {
        g.writeNumberField("expires_ms", c.expiresMs());
      }
      g.writeEndObject();
    } else if (result instanceof RefreshResult r) {
      g.writeStartObject();
      g.writeNumberField("expires_ms", r.expiresMs());
      g.writeEndObject();
    } else if (result instanceof SubscribeResult s) {
      g.writeStartObject();
      g.writeStringField("epoch", s.epoch());
      g.writeNumberField("offset", s.offset());
      g.writeBooleanField("recoverable", s.recoverable());
      g.writeBooleanField("recovered", s.recovered());
      g.writeNumberField("missed", s.missed());
      g.writeEndObject();
    } else if (result instanceof PublishResult p) {
      g.writeStartObject();
      g.writeStringField("epoch", p.epoch());
      g.writeNumberField("offset", p.offset());
      g.writeEndObject();
    } else if (result instanceof PresenceResult p) {
      g.writeStartObject();
      g.writeArrayFieldStart("clients");
      for (ClientInfo c : p.clients()) {
        g.writeStartObject();
        writeClientInfo(g, c);
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } else {
      throw new IllegalArgumentException("unknown message: " + result);
    }
  }

  private static void presenceEvent(JsonGenerator g, String type, String channel, ClientInfo c)
      throws IOException {
    g.writeStringField("type", type);
    g.writeStringField("channel", channel);
    writeClientInfo(g, c);
  }

  private static void writeClientInfo(JsonGenerator g, ClientInfo c) throws IOException {
    g.writeStringField("client", c.client());
    g.writeStringField("user", c.user());
    g.writeFieldName("info");
    g.writeRawValue(c.info().json());
    g.writeFieldName("state");
    g.writeRawValue(c.state().json());
  }

  private static void writeError(JsonGenerator g, ErrorInfo e) throws IOException {
    g.writeObjectFieldStart("error");
    g.writeNumberField("code", e.code());
    g.writeStringField("message", e.message());
    g.writeEndObject();
  }

  private static void header(JsonGenerator g, String type, long id) throws IOException {
    g.writeStringField("type", type);
    g.writeNumberField("id", id);
  }

  /** Decodes a single server message (used by client libraries). */
  public ServerMessage decodeServer(String json) throws ProtocolException {
    JsonNode n = readObject(json);
    String type = requiredString(n, "type", 0);
    return switch (type) {
      case "ping" -> Ping.INSTANCE;
      case "pong" -> Pong.INSTANCE;
      case "reply" -> {
        long id = requestId(n);
        JsonNode err = n.get("error");
        if (err != null && err.isObject()) {
          yield new Reply(id, null, errorInfo(err));
        }
        JsonNode result = n.get("result");
        if (result == null || !result.isObject()) {
          throw new ProtocolException(ErrorCode.BAD_REQUEST, "reply needs 'result' or 'error'", id);
        }
        yield new Reply(id, new RawResult(raw(result)), null);
      }
      case "error" -> new ServerMessage.Error(errorInfo(n.get("error")));
      case "pub" ->
          new Pub(
              requiredString(n, "channel", 0),
              requiredString(n, "epoch", 0),
              requiredLong(n, "offset", 0),
              requiredLong(n, "ts", 0),
              requiredValue(n, "data", 0),
              optionalString(n, "user", 0),
              n.path("recovered").asBoolean(false));
      case "join" -> new Join(requiredString(n, "channel", 0), clientInfo(n));
      case "leave" -> new Leave(requiredString(n, "channel", 0), clientInfo(n));
      case "presence_update" -> new PresenceUpdate(requiredString(n, "channel", 0), clientInfo(n));
      case "disconnect" ->
          new Disconnect(
              (int) requiredLong(n, "code", 0),
              optionalString(n, "reason", 0) == null ? "" : n.get("reason").asText(),
              n.path("reconnect").asBoolean(CloseCode.reconnect((int) n.path("code").asLong())),
              n.path("retry_ms").asLong(0));
      case "unsubscribed" ->
          new ServerMessage.Unsubscribed(
              requiredString(n, "channel", 0),
              (int) requiredLong(n, "code", 0),
              Objects.requireNonNullElse(optionalString(n, "reason", 0), ""));
      default ->
          throw new ProtocolException(
              ErrorCode.METHOD_NOT_FOUND, "unknown message type '" + clip(type) + "'", 0);
    };
  }

  /** Splits a server frame into its LF-separated messages and decodes each. */
  public List<ServerMessage> decodeServerFrame(String frame) throws ProtocolException {
    List<ServerMessage> out = new ArrayList<>(1);
    int start = 0;
    while (start <= frame.length()) {
      int end = frame.indexOf(ProtocolVersion.MESSAGE_SEPARATOR, start);
      if (end < 0) {
        end = frame.length();
      }
      String line = frame.substring(start, end);
      if (!line.isBlank()) {
        out.add(decodeServer(line));
      }
      start = end + 1;
    }
    return out;
  }

  /** Reads a reply's untyped result as the type the request expects. */
  public <T extends Result> T readResult(Result result, Class<T> type) throws ProtocolException {
    if (type.isInstance(result)) {
      return type.cast(result);
    }
    if (!(result instanceof RawResult raw)) {
      throw new IllegalArgumentException("cannot read " + result + " as " + type.getSimpleName());
    }
    JsonNode n = tree(raw.json());
    Result typed;
    if (type == ConnectResult.class) {
      typed =
          new ConnectResult(
              requiredString(n, "client", 0),
              requiredString(n, "user", 0),
              requiredString(n, "node", 0),
              (int) requiredLong(n, "protocol", 0),
              requiredLong(n, "ping_ms", 0),
              requiredLong(n, "pong_ms", 0),
              (int) requiredLong(n, "max_message_bytes", 0),
              n.path("expires_ms").asLong(0));
    } else if (type == RefreshResult.class) {
      typed = new RefreshResult(requiredLong(n, "expires_ms", 0));
    } else if (type == SubscribeResult.class) {
      typed =
          new SubscribeResult(
              requiredString(n, "epoch", 0),
              requiredLong(n, "offset", 0),
              n.path("recoverable").asBoolean(false),
              n.path("recovered").asBoolean(false),
              n.path("missed").asInt(0));
    } else if (type == PublishResult.class) {
      typed = new PublishResult(requiredString(n, "epoch", 0), requiredLong(n, "offset", 0));
    } else if (type == PresenceResult.class) {
      List<ClientInfo> clients = new ArrayList<>();
      for (JsonNode c : n.path("clients")) {
        clients.add(clientInfo(c));
      }
      typed = new PresenceResult(clients);
    } else if (type == EmptyResult.class) {
      typed = EmptyResult.INSTANCE;
    } else {
      throw new IllegalArgumentException("unknown result type " + type);
    }
    return type.cast(typed);
  }

  // ---------------------------------------------------------------- helpers

  private JsonNode readObject(String json) throws ProtocolException {
    JsonNode node;
    try (JsonParser p = factory.createParser(json)) {
      node = mapper.readTree(p);
      if (node != null && p.nextToken() != null) {
        throw new ProtocolException(
            ErrorCode.BAD_REQUEST, "malformed JSON: trailing content after the object", 0);
      }
    } catch (JsonProcessingException e) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "malformed JSON: " + brief(e), 0);
    } catch (IOException e) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "unreadable message", 0);
    } catch (NumberFormatException | ArithmeticException e) {
      // Valid JSON, but a number no decimal type holds (e.g. 1e2147483648): the message's error,
      // answered with its id when the id itself is readable.
      throw new ProtocolException(
          ErrorCode.BAD_REQUEST, "a number is out of range", idLeniently(json));
    }
    if (node == null || !node.isObject()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "a message must be a JSON object", 0);
    }
    return node;
  }

  /**
   * The top-level {@code id} of a message read token by token without converting any other number,
   * or 0 when there is none or it is not a valid request id.
   */
  private long idLeniently(String json) {
    try (JsonParser p = factory.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return 0;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if ("id".equals(field)) {
          if (value != JsonToken.VALUE_NUMBER_INT) {
            return 0;
          }
          try {
            long id = p.getLongValue();
            return id > 0 && id <= MAX_SAFE_INTEGER ? id : 0;
          } catch (IOException | RuntimeException e) {
            return 0;
          }
        }
        p.skipChildren();
      }
      return 0;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static long requestId(JsonNode node) throws ProtocolException {
    JsonNode id = node.get("id");
    if (id == null
        || !id.isIntegralNumber()
        || !id.canConvertToLong()
        || id.asLong() <= 0
        || id.asLong() > MAX_SAFE_INTEGER) {
      throw new ProtocolException(
          ErrorCode.BAD_REQUEST, "'id' must be a positive integer up to 2^53-1", 0);
    }
    return id.asLong();
  }

  private static String requiredString(JsonNode node, String field, long id)
      throws ProtocolException {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "'" + field + "' must be a string", id);
    }
    return v.textValue();
  }

  private static @Nullable String optionalString(JsonNode node, String field, long id)
      throws ProtocolException {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "'" + field + "' must be a string", id);
    }
    return v.textValue();
  }

  private static int optionalInt(JsonNode node, String field, long id, int dflt)
      throws ProtocolException {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "'" + field + "' must be an integer", id);
    }
    return v.intValue();
  }

  /** An optional positive integer (ms): 0 when absent or null. */
  private static long optionalPositiveLong(JsonNode node, String field, long id)
      throws ProtocolException {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return 0;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() <= 0) {
      throw new ProtocolException(
          ErrorCode.BAD_REQUEST, "'" + field + "' must be a positive integer", id);
    }
    return v.asLong();
  }

  private static long requiredLong(JsonNode node, String field, long id) throws ProtocolException {
    JsonNode v = node == null ? null : node.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
      throw new ProtocolException(
          ErrorCode.BAD_REQUEST, "'" + field + "' must be a non-negative integer", id);
    }
    return v.asLong();
  }

  private RawJson requiredValue(JsonNode node, String field, long id) throws ProtocolException {
    JsonNode v = node.get(field);
    if (v == null) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "'" + field + "' is required", id);
    }
    return raw(v);
  }

  private RawJson requiredObject(JsonNode node, String field, long id) throws ProtocolException {
    JsonNode v = node.get(field);
    if (v == null || v.getNodeType() != JsonNodeType.OBJECT) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "'" + field + "' must be an object", id);
    }
    return raw(v);
  }

  private static @Nullable StreamPosition position(JsonNode since, String field, long id)
      throws ProtocolException {
    if (since == null || since.isNull()) {
      return null;
    }
    if (!since.isObject()) {
      throw new ProtocolException(
          ErrorCode.BAD_REQUEST, "'" + field + "' must be an object with epoch and offset", id);
    }
    return new StreamPosition(
        requiredString(since, "epoch", id), requiredLong(since, "offset", id));
  }

  private ClientInfo clientInfo(JsonNode n) throws ProtocolException {
    JsonNode info = n.get("info");
    JsonNode state = n.get("state");
    return new ClientInfo(
        requiredString(n, "client", 0),
        requiredString(n, "user", 0),
        info == null ? RawJson.EMPTY_OBJECT : raw(info),
        state == null ? RawJson.EMPTY_OBJECT : raw(state));
  }

  private static ErrorInfo errorInfo(JsonNode err) throws ProtocolException {
    if (err == null || !err.isObject()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, "'error' must be an object", 0);
    }
    return new ErrorInfo((int) requiredLong(err, "code", 0), err.path("message").asText(""));
  }

  private static String brief(JsonProcessingException e) {
    String m = e.getOriginalMessage();
    return m == null ? "invalid" : clip(m.replace('\n', ' '));
  }

  private static String clip(String s) {
    return s.length() <= 120 ? s : s.substring(0, 120) + "...";
  }

  @FunctionalInterface
  private interface Writer {
    void write(JsonGenerator g) throws IOException;
  }

  private byte[] write(Writer w) {
    ByteArrayBuilder out = new ByteArrayBuilder(256);
    try (JsonGenerator g = factory.createGenerator(out)) {
      w.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
