package dev.herald.server.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The few protocol messages the doctor sends and reads (docs/protocol.md). */
final class Messages {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String PING = "{\"type\":\"ping\"}";
  static final String PONG = "{\"type\":\"pong\"}";
  static final byte[] PING_BYTES = PING.getBytes(StandardCharsets.UTF_8);
  static final byte[] PONG_BYTES = PONG.getBytes(StandardCharsets.UTF_8);

  /** The id of the doctor's connect request. */
  static final int CONNECT_ID = 1;

  private Messages() {}

  /** A JSON document, or a missing node when the text is not JSON. */
  static JsonNode parse(String json) {
    try {
      JsonNode n = JSON.readTree(json);
      return n == null ? MissingNode.getInstance() : n;
    } catch (IOException e) {
      return MissingNode.getInstance();
    }
  }

  /** The messages of a batch (one per line). */
  static List<JsonNode> batch(String text) {
    List<JsonNode> out = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      if (!line.isBlank()) {
        out.add(parse(line));
      }
    }
    return out;
  }

  /** Whether a batch holds a message of this type. */
  static boolean contains(String batch, String type) {
    return batch(batch).stream().anyMatch(m -> type.equals(m.path("type").asText()));
  }

  /** {@code connect} with the token, or without one (the session cookie then authenticates). */
  static String connect(@Nullable String token, String client) {
    ObjectNode c = JSON.createObjectNode().put("type", "connect").put("id", CONNECT_ID);
    if (token != null) {
      c.put("token", token);
    }
    return c.put("client", client).toString();
  }

  /**
   * Why the server refused the doctor's connect, when {@code message} is its error reply; null for
   * any other message (an accepted connect included).
   */
  static @Nullable String connectRefusal(JsonNode message) {
    if (!"reply".equals(message.path("type").asText())
        || message.path("id").asInt(-1) != CONNECT_ID) {
      return null;
    }
    JsonNode error = message.path("error");
    return error.isObject()
        ? "error " + error.path("code").asInt() + " '" + error.path("message").asText() + "'"
        : null;
  }
}
