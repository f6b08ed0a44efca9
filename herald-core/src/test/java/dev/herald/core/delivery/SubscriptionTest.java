package dev.herald.core.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.channel.ChannelName;
import dev.herald.core.channel.NamespaceSettings;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.protocol.RawJson;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.StreamPosition;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SubscriptionTest {

  /** Ends a subscription whose stream was lost at once, as the hub's session does. */
  private static final class EndingConnection implements Connection {
    final List<OutboundMessage> sent = new ArrayList<>();
    final List<Subscription> lost = new ArrayList<>();

    @Override
    public String clientId() {
      return "c1";
    }

    @Override
    public LoopDispatcher dispatcher() {
      throw new UnsupportedOperationException();
    }

    @Override
    public long outboxLimit() {
      return Long.MAX_VALUE;
    }

    @Override
    public void enqueue(OutboundMessage message) {
      sent.add(message);
    }

    @Override
    public void streamLost(Subscription subscription) {
      lost.add(subscription);
      subscription.end();
    }

    @Override
    public void overflow() {}

    @Override
    public void overflowFromAnyThread() {}

    @Override
    public void internalError() {}

    @Override
    public void flushCoalesced() {}
  }

  private static OutboundMessage message(String text) {
    return new OutboundMessage(text.getBytes(StandardCharsets.UTF_8));
  }

  private static Pub pub(long offset) {
    return new Pub("news:a", "e1", offset, 0, RawJson.EMPTY_OBJECT, null);
  }

  @Test
  void aGapInTheBacklogEndsTheRecoveryWithoutFailing() {
    EndingConnection connection = new EndingConnection();
    Subscription sub =
        new Subscription(
            connection,
            ChannelName.parse("news:a").orElseThrow(),
            NamespaceSettings.builder("news").build());

    // The backlog misses offset 2: the stream cannot be continued, the session ends the
    // subscription while its page is being queued.
    boolean recovering =
        sub.start(
            message("reply"),
            new StreamPosition("e1", 0),
            List.of(pub(1), pub(3), pub(4)),
            p -> message("pub " + p.offset()));

    assertThat(recovering).isTrue();
    assertThat(sub.queuePage(1 << 20)).isTrue();
    assertThat(connection.lost).containsExactly(sub);
    assertThat(sub.phase()).isEqualTo(Subscription.Phase.ENDED);
    assertThat(connection.sent).hasSize(2); // the reply and offset 1, nothing after the gap
  }
}
