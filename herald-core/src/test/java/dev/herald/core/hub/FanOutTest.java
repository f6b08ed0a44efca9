package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.Join;
import dev.herald.protocol.ServerMessage.Pub;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FanOutTest {
  private final TestHub th = TestHub.create();

  @AfterEach
  void close() {
    th.close();
  }

  /** The raw message the transport received at the index of the first decoded message of a type. */
  private static OutboundMessage rawOf(TestClient c, Class<? extends ServerMessage> type, int nth) {
    List<ServerMessage> decoded = c.transport().messages();
    List<OutboundMessage> raw = c.transport().outbound();
    assertThat(raw).hasSameSizeAs(decoded);
    int seen = 0;
    for (int i = 0; i < decoded.size(); i++) {
      if (type.isInstance(decoded.get(i)) && seen++ == nth) {
        return raw.get(i);
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " #" + nth + " in " + decoded);
  }

  @Test
  void aPublicationIsEncodedOnceForAllSubscribers() {
    TestClient a = th.connect("alice");
    TestClient b = th.connect("bob");
    a.subscribeOk("test:fan");
    b.subscribeOk("test:fan");
    th.publish("test:fan", "{\"x\":1}");

    OutboundMessage ma = rawOf(a, Pub.class, 0);
    OutboundMessage mb = rawOf(b, Pub.class, 0);
    assertThat(ma).isSameAs(mb);
    assertThat(new String(ma.bytes(), StandardCharsets.UTF_8))
        .startsWith("{\"type\":\"pub\",\"channel\":\"test:fan\"")
        .doesNotContain("\n");
  }

  @Test
  void presenceEventsAreEncodedOnceToo() {
    TestClient a = th.connect("alice");
    TestClient b = th.connect("bob");
    a.subscribeOk("test:fan");
    b.subscribeOk("test:fan"); // bob's join goes to both
    assertThat(rawOf(a, Join.class, 1)).isSameAs(rawOf(b, Join.class, 0));
  }
}
