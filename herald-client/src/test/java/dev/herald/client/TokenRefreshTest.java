package dev.herald.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.client.FakeTransport.FakeConnection;
import dev.herald.protocol.ClientMessage;
import dev.herald.protocol.ClientMessage.Connect;
import dev.herald.protocol.ClientMessage.Refresh;
import dev.herald.protocol.ErrorCode;
import dev.herald.protocol.ServerMessage.ConnectResult;
import dev.herald.protocol.ServerMessage.RefreshResult;
import dev.herald.protocol.ServerMessage.Reply;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Java client refreshes its credential before the expiry the server announced, on fake time: a
 * minute ahead (or a tenth of the time left when that is less), again after each refresh, and not
 * at all for another user's token.
 */
class TokenRefreshTest {
  private final FakeScheduler time = new FakeScheduler();
  private final FakeTransport transport = new FakeTransport();
  private final AtomicInteger tokens = new AtomicInteger();
  private final List<Throwable> errors = new ArrayList<>();
  private HeraldClient client;

  @BeforeEach
  void setUp() {
    client =
        HeraldClient.builder(URI.create("ws://localhost:8080/connection/websocket"))
            .tokenSupplier(() -> "tok-" + tokens.incrementAndGet())
            .scheduler(time)
            .executor(Runnable::run)
            .transport(transport)
            .listener(
                new ConnectionListener() {
                  @Override
                  public void onError(Throwable error) {
                    errors.add(error);
                  }
                })
            .build();
  }

  private FakeConnection connectExpiringIn(long ms) {
    client.connect();
    FakeConnection c = transport.last().accept();
    Connect connect = (Connect) c.messages().get(0);
    c.receive(
        Reply.ok(
            connect.id(),
            new ConnectResult("c-1", "alice", "herald-1", 1, 0, 0, 65536, time.nowMillis() + ms)));
    return c;
  }

  private List<Refresh> refreshes(FakeConnection c) {
    List<Refresh> out = new ArrayList<>();
    for (ClientMessage m : c.messages()) {
      if (m instanceof Refresh r) {
        out.add(r);
      }
    }
    return out;
  }

  @Test
  void refreshesAMinuteBeforeExpiryWithAFreshTokenAndAgainAfterEachRefresh() {
    FakeConnection c = connectExpiringIn(3_600_000);
    time.advance(3_540_000 - 1);
    assertThat(refreshes(c)).isEmpty();
    time.advance(1);
    assertThat(refreshes(c)).hasSize(1);
    Refresh first = refreshes(c).get(0);
    assertThat(first.token()).isEqualTo("tok-2"); // tok-1 went into connect
    c.receive(Reply.ok(first.id(), new RefreshResult(time.nowMillis() + 3_600_000)));
    time.advance(3_540_000);
    assertThat(refreshes(c)).hasSize(2);
    assertThat(refreshes(c).get(1).token()).isEqualTo("tok-3");
    assertThat(errors).isEmpty();
    assertThat(client.state()).isEqualTo(ConnectionState.CONNECTED);
  }

  @Test
  void aShortLifetimeIsRefreshedATenthAhead() {
    FakeConnection c = connectExpiringIn(100_000);
    time.advance(89_999);
    assertThat(refreshes(c)).isEmpty();
    time.advance(1);
    assertThat(refreshes(c)).hasSize(1);
  }

  @Test
  void aRefusedRefreshIsReportedAndTriedAgainButNotForAnotherUser() {
    FakeConnection c = connectExpiringIn(100_000);
    time.advance(90_000);
    Refresh first = refreshes(c).get(0);
    c.receive(Reply.error(first.id(), ErrorCode.UNAUTHORIZED, "invalid token signature"));
    assertThat(errors).hasSize(1);
    time.advance(5_000); // half of the 10 s left
    assertThat(refreshes(c)).hasSize(2);
    Refresh second = refreshes(c).get(1);
    c.receive(Reply.error(second.id(), ErrorCode.USER_MISMATCH, "token is for another user"));
    assertThat(errors).hasSize(2);
    assertThat(((HeraldException) errors.get(1)).errorCode()).isEqualTo(ErrorCode.USER_MISMATCH);
    time.advance(4_000);
    assertThat(refreshes(c)).hasSize(2);
  }

  @Test
  void aCredentialWithoutExpiryIsNeverRefreshed() {
    FakeConnection c = connectExpiringIn(-time.nowMillis()); // expires_ms 0
    time.advance(86_400_000);
    assertThat(refreshes(c)).isEmpty();
  }
}
