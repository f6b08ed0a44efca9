package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

  /**
   * A laptop waking up with a project page and its notifications both behind: two subscriptions of
   * one connection recover backlogs far larger than the outbox at the same time, over a real
   * socket. Each is paged at the reader's pace with its own cursor, so both deliver everything in
   * order and both go live.
   */
  @Test
  void twoBacklogsLargerThanTheOutboxRecoveredAtOnceBothGoLive() {
    Map<String, String> config = TestServer.baseConfig();
    config.put("limits.outbox-bytes", "8192");
    config.put("limits.max-publish-bytes", "2048");
    int missed = 400;
    String padding = "x".repeat(1900);
    try (TestServer small = TestServer.start(config)) {
      List<String> channels = List.of("test:page", "test:notifications");
      Map<String, JsonNode> last = new HashMap<>();
      try (RawClient c = RawClient.connected(small, "alice")) {
        for (String ch : channels) {
          c.request("{\"type\":\"subscribe\",\"channel\":\"" + ch + "\"}");
          small.publishHttp(ch, "{\"n\":-1}");
          last.put(ch, c.pubs(ch, 1).get(0));
        }
        c.abort();
      }
      for (int i = 0; i < missed; i++) {
        for (String ch : channels) {
          String data = "{\"n\":" + i + ",\"pad\":\"" + padding + "\"}";
          assertThat(small.publishHttp(ch, data).statusCode()).isEqualTo(200);
        }
      }
      try (RawClient c = RawClient.connected(small, "alice")) {
        int id = 100;
        for (String ch : channels) {
          JsonNode p = last.get(ch);
          c.send( // both subscribes in flight at once: no waiting for the first reply
              "{\"type\":\"subscribe\",\"id\":"
                  + id++
                  + ",\"channel\":\""
                  + ch
                  + "\",\"since\":{\"epoch\":\""
                  + p.get("epoch").asText()
                  + "\",\"offset\":"
                  + p.get("offset").asLong()
                  + "}}");
        }
        for (String ch : channels) {
          small.publishHttp(ch, "{\"n\":" + missed + "}");
        }
        for (String ch : channels) {
          long from = last.get(ch).get("offset").asLong();
          List<JsonNode> pubs = c.pubs(ch, missed + 1);
          for (int i = 0; i <= missed; i++) {
            assertThat(pubs.get(i).get("offset").asLong()).as(ch).isEqualTo(from + 1 + i);
            assertThat(pubs.get(i).get("data").get("n").asInt()).as(ch).isEqualTo(i);
            if (i < missed) { // the last one may be stored before the history read: recovered too
              assertThat(pubs.get(i).path("recovered").asBoolean()).as(ch).isTrue();
            }
          }
        }
        c.send("{\"type\":\"ping\"}");
        c.awaitType("pong");
        assertThat(c.isClosed()).isFalse();
      }
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
