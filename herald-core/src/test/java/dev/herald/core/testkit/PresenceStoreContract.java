package dev.herald.core.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.core.presence.PresenceStore;
import dev.herald.protocol.ClientInfo;
import dev.herald.protocol.RawJson;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What every {@link PresenceStore} promises, written once and run against each implementation (in
 * memory, Redis). A subclass makes a fresh store and says how to run its periodic refresh now.
 */
public abstract class PresenceStoreContract {
  /** A store with nothing in it; closed by the subclass after the test. */
  protected abstract PresenceStore store();

  /**
   * Runs the store's periodic upkeep (a refresh of this node's entries) now, from another thread,
   * as its timer would; completes when its commands are sent. Nothing for a store without upkeep.
   */
  protected abstract CompletableFuture<Void> refreshNow(PresenceStore store);

  protected String channel(String name) {
    return "pt:" + name + "-" + Long.toHexString(System.nanoTime());
  }

  private static ClientInfo client(String id, String state) {
    return new ClientInfo(
        id,
        "user-" + id,
        TestHub.json("{\"name\":\"" + id + "\"}"),
        state == null ? null : TestHub.json(state));
  }

  private static List<String> ids(List<ClientInfo> list) {
    return list.stream().map(ClientInfo::client).sorted().toList();
  }

  @Test
  void entriesArePutReplacedAndRemovedPerConnection() {
    PresenceStore s = store();
    String ch = channel("basic");
    s.put(ch, client("c-1", null)).join();
    s.put(ch, client("c-2", null)).join();
    s.put(channel("other"), client("c-3", null)).join();
    assertThat(ids(s.get(ch).join())).containsExactly("c-1", "c-2");

    s.put(ch, client("c-1", "{\"editing\":\"item:7\"}")).join();
    ClientInfo replaced =
        s.get(ch).join().stream().filter(c -> c.client().equals("c-1")).findFirst().orElseThrow();
    assertThat(replaced.state()).isEqualTo(TestHub.json("{\"editing\":\"item:7\"}"));
    assertThat(replaced.info()).isEqualTo(TestHub.json("{\"name\":\"c-1\"}"));

    s.remove(ch, "c-1").join();
    assertThat(ids(s.get(ch).join())).containsExactly("c-2");
    s.remove(ch, "c-2").join();
    assertThat(s.get(ch).join()).isEmpty();
    s.remove(ch, "never-there").join(); // removing what is not there is fine
  }

  /**
   * A removed entry never comes back without a new put, even when the store's upkeep runs at the
   * same moment as the removal (a refresh that read the entries just before must not write the
   * removed one back).
   */
  @Test
  void aRemovedEntryNeverComesBackWithoutAPut() throws Exception {
    PresenceStore s = store();
    String ch = channel("race");
    s.put(ch, client("c-stays", null)).join();
    for (int round = 0; round < 200; round++) {
      String id = "c-" + round;
      s.put(ch, client(id, null)).join();
      CyclicBarrier together = new CyclicBarrier(2);
      CompletableFuture<Void> refreshed =
          CompletableFuture.runAsync(
              () -> {
                await(together);
                refreshNow(s).join();
              });
      await(together);
      s.remove(ch, id).join();
      refreshed.get(30, TimeUnit.SECONDS);
      refreshNow(s).get(30, TimeUnit.SECONDS); // and once more after the removal, for certain
      assertThat(ids(s.get(ch).join())).as("round %d", round).containsExactly("c-stays");
    }
  }

  private static void await(CyclicBarrier b) {
    try {
      b.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void anEmptyStateIsKeptAsAnEmptyObject() {
    PresenceStore s = store();
    String ch = channel("state");
    s.put(ch, new ClientInfo("c-1", "alice", RawJson.EMPTY_OBJECT, null)).join();
    assertThat(s.get(ch).join()).singleElement().extracting(ClientInfo::user).isEqualTo("alice");
  }
}
