package dev.herald.spring;

import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/** Spring's transaction hooks, in a class of their own so that spring-tx stays optional. */
final class AfterCommit {
  private AfterCommit() {}

  static boolean active() {
    return TransactionSynchronizationManager.isSynchronizationActive();
  }

  static void register(Runnable committed, Runnable notCommitted) {
    TransactionSynchronizationManager.registerSynchronization(
        new TransactionSynchronization() {
          @Override
          public void afterCompletion(int status) {
            if (status == STATUS_COMMITTED) {
              committed.run();
            } else {
              notCommitted.run();
            }
          }
        });
  }
}
