package dev.herald.server.it.attack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.server.it.RawClient;
import dev.herald.server.it.TcpProxy;
import dev.herald.server.it.TestServer;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A deliberately slow reader: a subscriber behind a frozen network stops reading while its channel
 * is busy. It is closed with 4003 once its outbound queue overflows, never slows the bystander, and
 * on reconnect recovers every publication it missed from history.
 */
class SlowReaderIT {
  @Test
  void aStalledReaderIsClosedWith4003AndResumesOnReconnect() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("limits.outbox-bytes", "70000");
    String channel = "test:slow-reader";
    String pad = "x".repeat(16_000);
    try (TestServer srv = TestServer.start(cfg);
        Bystander bystander = Bystander.start(srv);
        TcpProxy proxy = TcpProxy.to(srv.port());
        RawClient slow =
            RawClient.open(
                URI.create("ws://127.0.0.1:" + proxy.port() + "/connection/websocket"))) {
      assertThat(
              slow.request("{\"type\":\"connect\",\"token\":\"" + srv.token("slow") + "\"}")
                  .has("result"))
          .isTrue();
      JsonNode sub =
          slow.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}").get("result");
      String epoch = sub.get("epoch").asText();
      long start = sub.get("offset").asLong();

      proxy.freeze();
      int published = 0;
      // At most 1900 publications of ~16 KB (~30 MB, more than the socket buffers on the way hold;
      // inside the channel's history of 2000).
      while (srv.herald().hub().stats().slowConsumers() == 0 && published < 1900) {
        srv.herald()
            .publish(channel, "{\"n\":" + (published + 1) + ",\"pad\":\"" + pad + "\"}")
            .join();
        published++;
      }
      assertThat(srv.herald().hub().stats().slowConsumers()).isEqualTo(1);
      proxy.unfreeze();
      long lastSeen = start;
      JsonNode m;
      while (!(m = slow.await(x -> x.path("type").asText().matches("pub|disconnect")))
          .path("type")
          .asText()
          .equals("disconnect")) {
        assertThat(m.get("offset").asLong()).isEqualTo(lastSeen + 1);
        lastSeen = m.get("offset").asLong();
      }
      assertThat(m.get("code").asInt()).isEqualTo(4003);
      assertThat(m.get("reconnect").asBoolean()).isTrue();
      bystander.assertEverythingArrived();

      // Reconnecting with the last position seen: everything missed arrives in order, then live.
      try (RawClient again = RawClient.connected(srv, "slow")) {
        JsonNode r =
            again
                .request(
                    "{\"type\":\"subscribe\",\"channel\":\""
                        + channel
                        + "\",\"since\":{\"epoch\":\""
                        + epoch
                        + "\",\"offset\":"
                        + lastSeen
                        + "}}")
                .get("result");
        long top = start + published;
        assertThat(r.get("epoch").asText()).isEqualTo(epoch);
        assertThat(r.get("offset").asLong()).isEqualTo(top);
        long next;
        // The backlog (a whole outbox and more) is written at the reader's pace: recovered.
        assertThat(r.get("recovered").asBoolean()).isTrue();
        int missed = (int) (top - lastSeen);
        assertThat(r.get("missed").asInt()).isEqualTo(missed);
        List<JsonNode> pubs = again.pubs(channel, missed);
        for (int i = 0; i < missed; i++) {
          assertThat(pubs.get(i).get("offset").asLong()).isEqualTo(lastSeen + 1 + i);
        }
        next = top + 1;
        srv.herald().publish(channel, "{\"n\":\"live\"}").join();
        assertThat(again.pubs(channel, 1).get(0).get("offset").asLong()).isEqualTo(next);
      }
    }
  }
}
