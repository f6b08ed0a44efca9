package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.testkit.RecordingTransport;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import dev.herald.protocol.ServerMessage.Disconnect;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ShutdownTest {
  private final TestHub th =
      TestHub.builder()
          .config(c -> c.withShutdownRetry(Duration.ofSeconds(1), Duration.ofSeconds(3)))
          .build();

  @AfterEach
  void close() {
    th.close();
  }

  @Test
  void shutdownDisconnectsEveryoneWith4001AndASpreadRetryDelay() {
    List<TestClient> clients = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      TestClient c = th.connect("u" + i);
      c.subscribeOk("test:all");
      clients.add(c);
    }
    TestClient notYetConnected = th.open();

    th.hub().shutdown();
    assertThat(th.hub().accepting()).isFalse();

    Set<Long> delays = new HashSet<>();
    for (TestClient c : clients) {
      Disconnect d = c.transport().awaitMessage(Disconnect.class);
      assertThat(d.code()).isEqualTo(4001);
      assertThat(d.reason()).isEqualTo("server restart");
      assertThat(d.reconnect()).isTrue();
      assertThat(d.retryMs()).isBetween(1000L, 3000L);
      RecordingTransport.Close close = c.transport().lastClose();
      assertThat(close.code()).isEqualTo(4001);
      assertThat(close.reason())
          .contains("retry_ms=")
          .isEqualTo("server restart; retry_ms=" + d.retryMs());
      c.transport().assertNoMoreMessages();
      c.transport().assertNoViolations();
      delays.add(d.retryMs());
    }
    assertThat(delays).hasSizeGreaterThan(1); // spread, not one value for all
    assertThat(notYetConnected.transport().lastClose().code()).isEqualTo(4001);
    assertThat(th.hub().stats().sessions()).isZero();
  }

  @Test
  void sessionsOpenedAfterShutdownAreRefusedAtOnce() {
    th.hub().shutdown();
    TestClient late = th.open();
    Disconnect d = late.transport().next(Disconnect.class);
    assertThat(d.code()).isEqualTo(4001);
    assertThat(d.retryMs()).isBetween(1000L, 3000L);
    assertThat(late.transport().lastClose().reason()).contains("retry_ms=");
    assertThat(late.session().isClosed()).isTrue();
    th.scheduler().advance(Duration.ofMinutes(1)); // no connect timer left behind
    late.transport().assertNoViolations();
  }

  @Test
  void equalBoundsGiveExactlyThatDelay() {
    try (TestHub fixed =
        TestHub.builder()
            .config(c -> c.withShutdownRetry(Duration.ofMillis(700), Duration.ofMillis(700)))
            .build()) {
      TestClient c = fixed.connect("alice");
      fixed.hub().shutdown();
      assertThat(c.transport().next(Disconnect.class).retryMs()).isEqualTo(700);
      assertThat(c.transport().lastClose().reason()).isEqualTo("server restart; retry_ms=700");
    }
  }

  @Test
  void closeReasonFitsAWebSocketCloseFrame() {
    assertThat(ClientSession.closeReason("bye", 0)).isEqualTo("bye");
    assertThat(ClientSession.closeReason("bye", 2300)).isEqualTo("bye; retry_ms=2300");
    String longReason = ClientSession.closeReason("r".repeat(300), 5_000_000);
    assertThat(longReason.getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(123);
    assertThat(longReason).endsWith("; retry_ms=5000000");
  }
}
