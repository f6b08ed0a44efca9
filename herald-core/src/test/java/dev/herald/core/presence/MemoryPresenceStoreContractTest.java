package dev.herald.core.presence;

import dev.herald.core.testkit.PresenceStoreContract;
import java.util.concurrent.CompletableFuture;

/** The presence store contract for the in-memory store. */
class MemoryPresenceStoreContractTest extends PresenceStoreContract {
  @Override
  protected PresenceStore store() {
    return new MemoryPresenceStore();
  }

  @Override
  protected CompletableFuture<Void> refreshNow(PresenceStore store) {
    return CompletableFuture.completedFuture(null); // no upkeep
  }
}
