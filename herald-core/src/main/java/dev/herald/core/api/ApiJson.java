package dev.herald.core.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ServerMessage.Pub;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON form of the server API's results: what nodes answer each other and what the HTTP API
 * replies (docs/server-api.md). Times are ISO-8601 strings; a publication's {@code ts} stays in
 * epoch milliseconds as on the wire protocol.
 */
public final class ApiJson {
  private final JsonCodec codec;
  private final ObjectMapper mapper;

  public ApiJson(JsonCodec codec) {
    this.codec = codec;
    this.mapper = codec.mapper();
  }

  public ObjectNode object() {
    return mapper.createObjectNode();
  }

  public ArrayNode array() {
    return mapper.createArrayNode();
  }

  /** Parses a JSON document; fails with {@link IllegalArgumentException} when it is not JSON. */
  public JsonNode parse(String json) {
    try {
      return mapper.readTree(json);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("malformed JSON: " + e.getMessage(), e);
    }
  }

  public ObjectNode connection(ConnectionInfo c) {
    ObjectNode n = object();
    n.put("id", c.id());
    n.put("user", c.user());
    n.put("transport", c.transport());
    n.put("node", c.node());
    n.put("since", c.since().toString());
    ArrayNode channels = n.putArray("channels");
    c.channels().forEach(channels::add);
    n.put("address", c.address());
    return n;
  }

  public ConnectionInfo connection(JsonNode n) {
    List<String> channels = new ArrayList<>();
    n.path("channels").forEach(c -> channels.add(c.asText()));
    return new ConnectionInfo(
        n.path("id").asText(),
        n.path("user").asText(),
        n.path("transport").asText(),
        n.path("node").asText(),
        Instant.parse(n.path("since").asText()),
        channels,
        n.path("address").asText());
  }

  public ObjectNode channel(ChannelInfo c) {
    return object().put("name", c.name()).put("subscribers", c.subscribers());
  }

  public ChannelInfo channel(JsonNode n) {
    return new ChannelInfo(n.path("name").asText(), n.path("subscribers").asInt());
  }

  public ObjectNode node(NodeInfo i) {
    ObjectNode n = object();
    n.put("name", i.name());
    n.put("started", i.started().toString());
    n.put("connections", i.connections());
    n.put("users", i.users());
    n.put("subscriptions", i.subscriptions());
    n.put("channels", i.channels());
    ObjectNode t = n.putObject("transports");
    new TreeMap<>(i.transports()).forEach(t::put);
    n.put("publications", i.publications());
    n.put("accepting", i.accepting());
    n.put("broker_healthy", i.brokerHealthy());
    return n;
  }

  public NodeInfo node(JsonNode n) {
    Map<String, Integer> transports = new TreeMap<>();
    n.path("transports")
        .fields()
        .forEachRemaining(e -> transports.put(e.getKey(), e.getValue().asInt()));
    return new NodeInfo(
        n.path("name").asText(),
        Instant.parse(n.path("started").asText()),
        n.path("connections").asInt(),
        n.path("users").asInt(),
        n.path("subscriptions").asInt(),
        n.path("channels").asInt(),
        transports,
        n.path("publications").asLong(),
        n.path("accepting").asBoolean(),
        n.path("broker_healthy").asBoolean());
  }

  /** A presence entry as in the protocol's {@code presence} result. */
  public ObjectNode client(ClientInfo c) {
    ObjectNode n = object();
    n.put("client", c.client());
    n.put("user", c.user());
    n.set("info", codec.tree(c.info()));
    n.set("state", codec.tree(c.state()));
    return n;
  }

  public ObjectNode presence(PresenceInfo p) {
    ObjectNode n = object();
    n.put("channel", p.channel());
    ArrayNode clients = n.putArray("clients");
    p.clients().forEach(c -> clients.add(client(c)));
    PresenceStats s = p.stats();
    n.put("connections", s.connections());
    n.put("users", s.users());
    return n;
  }

  public ObjectNode presenceStats(PresenceStats s) {
    return object()
        .put("channel", s.channel())
        .put("connections", s.connections())
        .put("users", s.users());
  }

  /** A publication as in the protocol's {@code pub} message, without {@code type}. */
  public ObjectNode publication(Pub p) {
    ObjectNode n = object();
    n.put("offset", p.offset());
    n.put("ts", p.ts());
    n.set("data", codec.tree(p.data()));
    if (p.user() != null) {
      n.put("user", p.user());
    }
    return n;
  }

  public ObjectNode history(HistoryPage h) {
    ObjectNode n = object();
    n.put("channel", h.channel());
    n.put("epoch", h.top().epoch());
    n.put("offset", h.top().offset());
    ArrayNode pubs = n.putArray("publications");
    h.publications().forEach(p -> pubs.add(publication(p)));
    return n;
  }

  /**
   * {@code answered} (the nodes that answered) and {@code missing} (those that did not) of a
   * cluster-wide result, added to {@code into}.
   */
  public ObjectNode cluster(ClusterResult<?> r, ObjectNode into) {
    ArrayNode nodes = into.putArray("answered");
    r.nodes().forEach(nodes::add);
    ArrayNode missing = into.putArray("missing");
    r.missing().forEach(missing::add);
    return into;
  }
}
