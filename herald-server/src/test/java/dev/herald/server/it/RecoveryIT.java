package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A client that was away gets exactly what it missed, or an explicit "not recovered". */
class RecoveryIT {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  @Test
  void recoversThousandMessagesPublishedWhileAway() {
    String channel = "test:recover";
    String epoch;
    long offset;
    try (RawClient c = RawClient.connected(server, "alice")) {
      c.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
      server.publishHttp(channel, "{\"n\":-1}");
      JsonNode last = c.pubs(channel, 1).get(0);
      epoch = last.get("epoch").asText();
      offset = last.get("offset").asLong();
      c.abort(); // dropped connection, no close handshake
    }
    for (int i = 0; i < 1000; i++) {
      assertThat(server.publishHttp(channel, "{\"n\":" + i + "}").statusCode()).isEqualTo(200);
    }
    try (RawClient c = RawClient.connected(server, "alice")) {
      JsonNode r =
          c.request(
                  "{\"type\":\"subscribe\",\"channel\":\""
                      + channel
                      + "\",\"since\":{\"epoch\":\""
                      + epoch
                      + "\",\"offset\":"
                      + offset
                      + "}}")
              .get("result");
      assertThat(r.get("recovered").asBoolean()).isTrue();
      assertThat(r.get("missed").asInt()).isEqualTo(1000);
      server.publishHttp(channel, "{\"n\":1000}");
      List<JsonNode> pubs = c.pubs(channel, 1001);
      for (int i = 0; i <= 1000; i++) {
        assertThat(pubs.get(i).get("offset").asLong()).isEqualTo(offset + 1 + i);
        assertThat(pubs.get(i).get("data").get("n").asInt()).isEqualTo(i);
      }
      c.send("{\"type\":\"ping\"}");
      c.awaitType("pong");
      assertThat(c.isClosed()).isFalse();
    }
  }

  @Test
  void reportsNotRecoveredWhenHistoryNoLongerCoversTheGap() {
    String channel = "short:gap";
    JsonNode first;
    try (RawClient c = RawClient.connected(server, "alice")) {
      c.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
      server.publishHttp(channel, "0");
      first = c.pubs(channel, 1).get(0);
    }
    for (int i = 0; i < 25; i++) {
      server.publishHttp(channel, String.valueOf(i));
    }
    try (RawClient c = RawClient.connected(server, "alice")) {
      JsonNode r =
          c.request(
                  "{\"type\":\"subscribe\",\"channel\":\""
                      + channel
                      + "\",\"since\":{\"epoch\":\""
                      + first.get("epoch").asText()
                      + "\",\"offset\":"
                      + first.get("offset").asLong()
                      + "}}")
              .get("result");
      assertThat(r.get("recovered").asBoolean()).isFalse();
      assertThat(r.get("missed").asInt()).isZero();
      assertThat(r.get("offset").asLong()).isEqualTo(first.get("offset").asLong() + 25);
      server.publishHttp(channel, "\"live\"");
      JsonNode live = c.pubs(channel, 1).get(0);
      assertThat(live.get("offset").asLong()).isEqualTo(r.get("offset").asLong() + 1);
    }
  }

  @Test
  void reportsNotRecoveredForAnotherEpoch() {
    try (RawClient c = RawClient.connected(server, "alice")) {
      JsonNode r =
          c.request(
                  "{\"type\":\"subscribe\",\"channel\":\"test:epoch\",\"since\":{\"epoch\":\"gone\",\"offset\":3}}")
              .get("result");
      assertThat(r.get("recovered").asBoolean()).isFalse();
    }
  }
}
