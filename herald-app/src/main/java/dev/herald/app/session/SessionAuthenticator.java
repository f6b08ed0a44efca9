package dev.herald.app.session;

import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.Authenticator;
import dev.herald.core.auth.ConnectRequest;
import dev.herald.core.auth.Principal;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Authenticates real-time connections with the app's session cookie, so a logged-in page connects
 * with no token at all. The connection closes (4005) when the session expires. The database lookup
 * runs on a worker executor, off the I/O thread.
 */
public final class SessionAuthenticator implements Authenticator {
  private final SessionStore sessions;
  private final Executor blocking;
  private final JsonCodec codec = new JsonCodec();
  private final Consumer<String> onConnect;

  public SessionAuthenticator(SessionStore sessions, Executor blocking) {
    this(sessions, blocking, t -> {});
  }

  /** {@code onConnect} receives the transport name of each authenticated connection. */
  public SessionAuthenticator(
      SessionStore sessions, Executor blocking, Consumer<String> onConnect) {
    this.sessions = sessions;
    this.blocking = blocking;
    this.onConnect = onConnect;
  }

  @Override
  public CompletionStage<Principal> authenticate(ConnectRequest request) {
    String token = request.cookie(SessionStore.COOKIE);
    if (token == null) {
      return notLoggedIn();
    }
    return CompletableFuture.supplyAsync(() -> sessions.find(token), blocking)
        .thenCompose(
            found -> {
              if (found.isEmpty()) {
                return notLoggedIn();
              }
              SessionStore.Session s = found.get();
              onConnect.accept(request.transport());
              try {
                String info =
                    codec.mapper().writeValueAsString(Map.of("name", s.user().displayName()));
                return CompletableFuture.completedFuture(
                    new Principal(
                        s.user().id(),
                        codec.parseRaw(info),
                        s.expiresAt().toInstant().toEpochMilli(),
                        SessionStore.credentialId(token)));
              } catch (ProtocolException | com.fasterxml.jackson.core.JsonProcessingException e) {
                return CompletableFuture.failedFuture(e);
              }
            });
  }

  private static CompletableFuture<Principal> notLoggedIn() {
    return CompletableFuture.failedFuture(
        new AuthenticationException("not logged in (no valid session cookie)", false));
  }
}
