package dev.herald.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.Principal;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class JwtAuthenticatorTest {
  static final String OLD = "old-secret-0123456789abcdef0123456789";
  static final String NEW = "new-secret-0123456789abcdef0123456789";
  final AtomicLong now = new AtomicLong(1_800_000_000_000L);

  @Test
  void acceptsTokensSignedWithAnyConfiguredKey() throws Exception {
    String oldToken =
        new JwtAuthenticator(List.of(OLD), null, now::get)
            .mint("alice", Map.of("name", "Alice"), 60_000);
    JwtAuthenticator rotated = new JwtAuthenticator(List.of(NEW, OLD), null, now::get);
    Principal p = rotated.verify(oldToken);
    assertThat(p.userId()).isEqualTo("alice");
    assertThat(p.info().json()).isEqualTo("{\"name\":\"Alice\"}");
    assertThat(p.expiresAtMillis()).isEqualTo(now.get() + 60_000);
    JwtAuthenticator retired = new JwtAuthenticator(List.of(NEW), null, now::get);
    assertThatThrownBy(() -> retired.verify(oldToken)).hasMessage("invalid token signature");
  }

  @Test
  void expiredTokenIsReportedAsExpired() {
    JwtAuthenticator a = new JwtAuthenticator(List.of(NEW), null, now::get);
    String t = a.mint("alice", Map.of(), 1_000);
    now.addAndGet(60_000);
    assertThatThrownBy(() -> a.verify(t))
        .isInstanceOf(AuthenticationException.class)
        .satisfies(e -> assertThat(((AuthenticationException) e).expired()).isTrue());
  }

  @Test
  void refusesGarbageAndWrongIssuer() {
    JwtAuthenticator a = new JwtAuthenticator(List.of(NEW), "herald", now::get);
    assertThatThrownBy(() -> a.verify("not.a.jwt")).hasMessage("malformed token");
    assertThatThrownBy(() -> a.verify(null)).hasMessage("token required");
    String other =
        new JwtAuthenticator(List.of(NEW), "someone-else", now::get)
            .mint("alice", Map.of(), 60_000);
    assertThatThrownBy(() -> a.verify(other)).hasMessage("token issuer not accepted");
  }
}
