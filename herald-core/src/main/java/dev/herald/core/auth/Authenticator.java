package dev.herald.core.auth;

import java.util.concurrent.CompletionStage;

/**
 * Turns a connect request into a {@link Principal}. Called once per connection, off the I/O
 * thread's critical path; may be asynchronous (e.g. a session lookup in a database). Complete
 * exceptionally with {@link AuthenticationException} to refuse.
 */
@FunctionalInterface
public interface Authenticator {
  CompletionStage<Principal> authenticate(ConnectRequest request);
}
