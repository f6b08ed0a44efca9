package dev.herald.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.protocol.CloseCode;
import dev.herald.protocol.ServerMessage.Disconnect;
import org.junit.jupiter.api.Test;

class CloseInfoTest {
  @Test
  void splitsRetryMsOffTheReason() {
    CloseInfo c = CloseInfo.fromCloseFrame(4001, "server restart; retry_ms=2300");
    assertThat(c).isEqualTo(new CloseInfo(4001, "server restart", 2_300, true));
    assertThat(c.closeCode()).isEqualTo(CloseCode.SHUTDOWN);
    assertThat(c.reconnect()).isTrue();
  }

  @Test
  void toleratesSpacingAndAMissingText() {
    assertThat(CloseInfo.fromCloseFrame(4001, "server restart ;retry_ms = 50 ").retryMs())
        .isEqualTo(50);
    assertThat(CloseInfo.fromCloseFrame(4001, "server restart ;retry_ms = 50 ").reason())
        .isEqualTo("server restart");
    assertThat(CloseInfo.fromCloseFrame(4007, "retry_ms=10"))
        .isEqualTo(new CloseInfo(4007, "", 10, true));
    assertThat(CloseInfo.fromCloseFrame(4007, "; retry_ms=10"))
        .isEqualTo(new CloseInfo(4007, "", 10, true));
  }

  @Test
  void reasonsWithoutTheSuffixAreKeptVerbatim() {
    assertThat(CloseInfo.fromCloseFrame(4002, "heartbeat timeout"))
        .isEqualTo(new CloseInfo(4002, "heartbeat timeout", 0, true));
    assertThat(CloseInfo.fromCloseFrame(1006, null)).isEqualTo(new CloseInfo(1006, "", 0, true));
    assertThat(CloseInfo.fromCloseFrame(1000, "")).isEqualTo(new CloseInfo(1000, "", 0, true));
  }

  @Test
  void malformedSuffixesAreNotParsed() {
    assertThat(CloseInfo.fromCloseFrame(4001, "x; retry_ms=abc"))
        .isEqualTo(new CloseInfo(4001, "x; retry_ms=abc", 0, true));
    assertThat(CloseInfo.fromCloseFrame(4001, "x; retry_ms=-5"))
        .isEqualTo(new CloseInfo(4001, "x; retry_ms=-5", 0, true));
    assertThat(CloseInfo.fromCloseFrame(4001, "x; retry_ms=5 and more").retryMs()).isZero();
    assertThat(CloseInfo.fromCloseFrame(4001, "x; retry_ms=99999999999999999999").retryMs())
        .isZero();
    assertThat(CloseInfo.fromCloseFrame(4001, "x; other=5").reason()).isEqualTo("x; other=5");
  }

  @Test
  void onlyTheLastSuffixCounts() {
    CloseInfo c = CloseInfo.fromCloseFrame(4001, "a; b; retry_ms=7");
    assertThat(c.reason()).isEqualTo("a; b");
    assertThat(c.retryMs()).isEqualTo(7);
  }

  @Test
  void readsDisconnectMessages() {
    CloseInfo c = CloseInfo.fromDisconnect(new Disconnect(4500, "authentication failed", false, 0));
    assertThat(c).isEqualTo(new CloseInfo(4500, "authentication failed", 0, true));
    assertThat(c.reconnect()).isFalse();
  }

  @Test
  void terminalRanges() {
    assertThat(new CloseInfo(1000, "", 0, true).reconnect()).isFalse();
    assertThat(new CloseInfo(4500, "", 0, true).reconnect()).isFalse();
    assertThat(new CloseInfo(4999, "", 0, true).reconnect()).isFalse();
    assertThat(new CloseInfo(4499, "", 0, true).reconnect()).isTrue();
    assertThat(CloseInfo.local("boom").reconnect()).isTrue();
    assertThat(CloseInfo.local("boom").remote()).isFalse();
  }

  @Test
  void readableToString() {
    assertThat(new CloseInfo(4001, "server restart", 2300, true))
        .hasToString("4001 server restart (retry_ms=2300)");
    assertThat(new CloseInfo(1006, "", 0, false)).hasToString("1006");
  }
}
