package dev.herald.spring;

import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.Authenticator;
import dev.herald.core.auth.ConnectRequest;
import dev.herald.core.auth.Principal;
import dev.herald.protocol.CloseCode;
import dev.herald.server.Herald;
import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionIdListener;
import jakarta.servlet.http.HttpSessionListener;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;

/**
 * Authenticates a connection as the user of the servlet session its handshake carries: the session
 * cookie (JSESSIONID) names a session of this application, and the Spring Security context stored
 * in it ({@link HttpSessionSecurityContextRepository}, what form login and HTTP Basic with sessions
 * use) holds an authenticated, non-anonymous user. The connection's user id is {@link
 * Authentication#getName()}.
 *
 * <p>Herald listens on its own port, so it cannot ask the servlet container for the session: as a
 * {@link HttpSessionListener} and {@link HttpSessionIdListener} (Spring Boot registers both with
 * the embedded container) this class keeps the application's live sessions by id, follows their id
 * changes (at login) and forgets each one when it ends. Looking one up does not block, so it runs
 * on Herald's event loop. When a session ends (logout, timeout), the connections it authenticated
 * are closed with {@link CloseCode#FORBIDDEN} (4501: herald.js does not reconnect), unless {@code
 * herald.session.disconnect-on-end=false}.
 *
 * <p>Sessions kept elsewhere (Spring Session with Redis or JDBC) are not seen here: give the
 * application an {@link Authenticator} bean instead, as in docs/embedding.md.
 */
public final class SpringSessionAuthenticator
    implements Authenticator, HttpSessionListener, HttpSessionIdListener {
  private final String cookieName;
  private final boolean disconnectOnEnd;
  private volatile @Nullable Herald herald; // null until attach

  /** The application's live sessions by id; a session is removed when it ends. */
  private final Map<String, HttpSession> sessions = new ConcurrentHashMap<>();

  /**
   * The principal each session authenticated, by user id (one, unless the user changed within the
   * session): every connection of the session shares that instance, so when the session ends
   * exactly its connections are found by identity, and the same user's connections from another
   * session stay. Bounded by the users of a session, however often it reconnects.
   */
  private final Map<String, Map<String, Principal>> issued = new ConcurrentHashMap<>();

  public SpringSessionAuthenticator(String cookieName, boolean disconnectOnEnd) {
    this.cookieName = cookieName;
    this.disconnectOnEnd = disconnectOnEnd;
  }

  /** The server whose connections end with their session; set once it is built. */
  public void attach(Herald server) {
    this.herald = server;
  }

  @Override
  public void sessionCreated(HttpSessionEvent event) {
    sessions.put(event.getSession().getId(), event.getSession());
  }

  /**
   * Spring Security gives the session a new id at login (session fixation protection): the
   * container tells its id listeners, not its session listeners.
   */
  @Override
  public void sessionIdChanged(HttpSessionEvent event, String oldSessionId) {
    sessions.remove(oldSessionId);
    sessions.put(event.getSession().getId(), event.getSession());
    Map<String, Principal> principals = issued.remove(oldSessionId);
    if (principals != null) {
      issued.merge(
          event.getSession().getId(),
          principals,
          (a, b) -> {
            a.putAll(b);
            return a;
          });
    }
  }

  @Override
  public void sessionDestroyed(HttpSessionEvent event) {
    String id = event.getSession().getId();
    sessions.remove(id);
    Map<String, Principal> principals = issued.remove(id);
    if (disconnectOnEnd && principals != null) {
      Herald h = herald;
      if (h != null && h.hub() != null) {
        List<Principal> ended = List.copyOf(principals.values());
        // revoke, not disconnect: a connection whose authentication returned this session's
        // principal but which is not connected yet is refused once it is.
        h.hub().revoke(p -> containsSame(ended, p), CloseCode.FORBIDDEN, "session ended");
      }
    }
  }

  /** By identity: equal principals of the same user from another session do not count. */
  // Identity is the point: equal principals of another session must not match.
  @SuppressWarnings("ReferenceEquality")
  private static boolean containsSame(List<Principal> principals, Principal p) {
    for (Principal q : principals) {
      if (q == p) {
        return true;
      }
    }
    return false;
  }

  /** How many sessions are live (for tests and diagnostics). */
  public int liveSessions() {
    return sessions.size();
  }

  @Override
  public CompletionStage<Principal> authenticate(ConnectRequest request) {
    String id = request.cookie(cookieName);
    HttpSession session = id == null ? null : sessions.get(id);
    if (session == null) {
      return refuse(id == null ? "no session cookie" : "no such session");
    }
    Authentication auth;
    try {
      Object context =
          session.getAttribute(HttpSessionSecurityContextRepository.SPRING_SECURITY_CONTEXT_KEY);
      auth = context instanceof SecurityContext sc ? sc.getAuthentication() : null;
    } catch (IllegalStateException invalidated) {
      return refuse("session ended");
    }
    if (auth == null || !auth.isAuthenticated() || auth instanceof AnonymousAuthenticationToken) {
      return refuse("not logged in");
    }
    String user = auth.getName();
    Principal principal =
        issued
            .computeIfAbsent(id, k -> new ConcurrentHashMap<>())
            .computeIfAbsent(user, Principal::of);
    if (!sessions.containsKey(id)) {
      // The session ended while this connection was authenticating: it would not be closed.
      issued.remove(id);
      return refuse("session ended");
    }
    return CompletableFuture.completedFuture(principal);
  }

  private static CompletionStage<Principal> refuse(String why) {
    return CompletableFuture.failedFuture(new AuthenticationException(why, false));
  }
}
