package dev.herald.app.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.hub.HubException;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.ErrorCode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class AdminStatsTest {
  private static ClientInfo client(String id, String user) {
    return new ClientInfo(id, user, null, null);
  }

  /** A channel whose presence cannot be read is counted and named, not dropped silently. */
  @Test
  void channelsWhosePresenceCannotBeReadAreCountedWithTheReason() {
    Map<String, CompletableFuture<List<ClientInfo>>> pending = new LinkedHashMap<>();
    pending.put(
        "project:1",
        CompletableFuture.completedFuture(List.of(client("c-1", "alice"), client("c-2", "alice"))));
    pending.put(
        "project:2",
        CompletableFuture.failedFuture(
            new HubException(
                ErrorCode.UNAVAILABLE, "broker unavailable: Redis cannot be reached")));
    pending.put("project:3", CompletableFuture.completedFuture(List.of()));
    pending.put("project:4", new CompletableFuture<>()); // never answers
    pending.put("project:5", CompletableFuture.completedFuture(List.of(client("c-9", "bob"))));

    AdminStats.ChannelCounts counts = AdminStats.count(pending, 50);

    assertThat(counts.channels())
        .extracting(m -> m.get("channel"))
        .containsExactly("project:1", "project:5");
    assertThat(counts.channels().get(0)).containsEntry("subscribers", 2).containsEntry("users", 1L);
    assertThat(counts.unreadable()).isEqualTo(2);
    assertThat(counts.reason()).isEqualTo("broker unavailable: Redis cannot be reached");
  }
}
