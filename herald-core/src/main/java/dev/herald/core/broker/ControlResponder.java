package dev.herald.core.broker;

import java.util.concurrent.CompletableFuture;

/** Answers another node's {@link ControlQuery} with a JSON document about this node. */
@FunctionalInterface
public interface ControlResponder {
  /**
   * This node's answer. Must not block; a failed future (or an exception) sends no answer, so the
   * asking node reports this node as missing.
   */
  CompletableFuture<String> answer(ControlQuery query);
}
