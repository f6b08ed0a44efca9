package dev.herald.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.herald.core.testkit.ManualScheduler;
import dev.herald.core.testkit.TestClient;
import dev.herald.core.testkit.TestHub;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Connects and disconnects at INFO with their fields, rate-limited on the hub's clock. */
class ConnectionLogTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger(ConnectionLog.LOGGER);
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  private Level before;

  @BeforeEach
  void capture() {
    before = logger.getLevel();
    logger.setLevel(Level.INFO);
    lines.start();
    logger.addAppender(lines);
  }

  @AfterEach
  void stopCapturing() {
    logger.detachAppender(lines);
    logger.setLevel(before);
  }

  private static Map<String, Object> fields(ILoggingEvent e) {
    return e.getKeyValuePairs().stream()
        .collect(Collectors.toMap(kv -> kv.key, kv -> kv.value == null ? "null" : kv.value));
  }

  @Test
  void aConnectAndADisconnectAreLoggedWithUserTransportCodeAndReason() {
    try (TestHub th = TestHub.create()) {
      TestClient c = th.connect("alice");
      c.session().disconnect(dev.herald.protocol.CloseCode.SHUTDOWN, "going away", 0);
      assertThat(lines.list).hasSize(2);
      ILoggingEvent connect = lines.list.get(0);
      assertThat(connect.getLevel()).isEqualTo(Level.INFO);
      assertThat(fields(connect))
          .containsEntry("event", "connect")
          .containsEntry("connection", c.clientId())
          .containsEntry("user", "alice")
          .containsEntry("transport", "test");
      assertThat(fields(lines.list.get(1)))
          .containsEntry("event", "disconnect")
          .containsEntry("user", "alice")
          .containsEntry("code", dev.herald.protocol.CloseCode.SHUTDOWN.code())
          .containsEntry("reason", "going away");
      assertThat(lines.list.get(1).getFormattedMessage())
          .contains("disconnected " + c.clientId(), "transport=test", "reason=going away");
    }
  }

  @Test
  void aStormIsCutToTheRateAndTheNextLineSaysHowManyWereLeftOut() {
    ManualScheduler clock = new ManualScheduler();
    ConnectionLog log = new ConnectionLog(clock);
    for (int i = 0; i < ConnectionLog.BURST + 50; i++) {
      log.connected("c-" + i, "u", "websocket");
    }
    assertThat(lines.list).hasSize(ConnectionLog.BURST);
    clock.advance(Duration.ofSeconds(1));
    log.disconnected("c-x", "u", "sse", 3001, "shutdown");
    assertThat(lines.list).hasSize(ConnectionLog.BURST + 1);
    ILoggingEvent after = lines.list.get(ConnectionLog.BURST);
    assertThat(fields(after)).containsEntry("skipped", 50L);
    assertThat(after.getFormattedMessage())
        .endsWith("(50 connection lines left out before this one)");
    // A second later the bucket has refilled PER_SECOND lines, not more.
    for (int i = 0; i < ConnectionLog.PER_SECOND * 2; i++) {
      log.connected("c-y" + i, "u", "websocket");
    }
    assertThat(lines.list).hasSize(ConnectionLog.BURST + ConnectionLog.PER_SECOND);
  }
}
