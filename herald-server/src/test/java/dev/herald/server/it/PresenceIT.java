package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PresenceIT {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  @Test
  void joinPresenceUpdateAndLeave() {
    try (RawClient a = RawClient.connected(server, "alice")) {
      a.request("{\"type\":\"subscribe\",\"channel\":\"test:room\"}");
      RawClient b = RawClient.connected(server, "bob");
      b.request("{\"type\":\"subscribe\",\"channel\":\"test:room\"}");
      JsonNode join =
          a.await(
              m -> m.path("type").asText().equals("join") && m.path("user").asText().equals("bob"));
      String bobClient = join.get("client").asText();
      assertThat(join.get("info").get("name").asText()).isEqualTo("BOB");

      JsonNode list =
          a.request("{\"type\":\"presence\",\"channel\":\"test:room\"}")
              .get("result")
              .get("clients");
      assertThat(list)
          .extracting(n -> n.get("user").asText())
          .containsExactlyInAnyOrder("alice", "bob");

      b.request(
          "{\"type\":\"presence_set\",\"channel\":\"test:room\",\"state\":{\"editing\":\"item:7\"}}");
      JsonNode upd = a.await(m -> m.path("type").asText().equals("presence_update"));
      assertThat(upd.get("client").asText()).isEqualTo(bobClient);
      assertThat(upd.get("state").get("editing").asText()).isEqualTo("item:7");

      b.abort();
      JsonNode leave = a.await(m -> m.path("type").asText().equals("leave"));
      assertThat(leave.get("client").asText()).isEqualTo(bobClient);
      JsonNode after =
          a.request("{\"type\":\"presence\",\"channel\":\"test:room\"}")
              .get("result")
              .get("clients");
      assertThat(after).extracting(n -> n.get("user").asText()).containsExactly("alice");
    }
  }

  @Test
  void presenceNeedsASubscription() {
    try (RawClient a = RawClient.connected(server, "alice")) {
      assertThat(
              a.request("{\"type\":\"presence\",\"channel\":\"test:elsewhere\"}")
                  .get("error")
                  .get("code")
                  .asInt())
          .isEqualTo(110);
    }
  }
}
