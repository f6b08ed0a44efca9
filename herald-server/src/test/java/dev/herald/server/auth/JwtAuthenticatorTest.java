package dev.herald.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.Principal;
import java.time.Duration;
import java.util.Date;
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

  private String sign(JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    jwt.sign(new MACSigner(NEW.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    return jwt.serialize();
  }

  @Test
  void refusesTokensLivingLongerThanTheMaximumLifetime() throws Exception {
    JwtAuthenticator a =
        new JwtAuthenticator(List.of(NEW), null, now::get).limits(Duration.ofHours(24), null);
    String tenYears =
        sign(
            new JWTClaimsSet.Builder()
                .subject("alice")
                .issueTime(new Date(now.get()))
                .expirationTime(new Date(now.get() + Duration.ofDays(3650).toMillis()))
                .build());
    assertThatThrownBy(() -> a.verify(tenYears))
        .hasMessageStartingWith("token lifetime longer than auth.jwt.max-lifetime");
    // Without iat the lifetime counts from now.
    String noIat =
        sign(
            new JWTClaimsSet.Builder()
                .subject("alice")
                .expirationTime(new Date(now.get() + Duration.ofHours(25).toMillis()))
                .build());
    assertThatThrownBy(() -> a.verify(noIat))
        .hasMessageStartingWith("token lifetime longer than auth.jwt.max-lifetime");
    // Old iat, long lifetime: refused even though little of it is left.
    String oldLong =
        sign(
            new JWTClaimsSet.Builder()
                .subject("alice")
                .issueTime(new Date(now.get() - Duration.ofDays(30).toMillis()))
                .expirationTime(new Date(now.get() + 60_000))
                .build());
    assertThatThrownBy(() -> a.verify(oldLong))
        .hasMessageStartingWith("token lifetime longer than auth.jwt.max-lifetime");
    assertThat(a.verify(a.mint("alice", Map.of(), Duration.ofHours(24).toMillis())).userId())
        .isEqualTo("alice");
    JwtAuthenticator unlimited =
        new JwtAuthenticator(List.of(NEW), null, now::get).limits(Duration.ZERO, null);
    assertThat(unlimited.verify(tenYears).userId()).isEqualTo("alice");
  }

  /**
   * An issue time in the future would let a year-long token pass the lifetime check (its lifetime
   * counted from a later iat looks short): it is refused beyond the clock-skew allowance.
   */
  @Test
  void refusesAnIssueTimeInTheFutureBeyondTheClockSkew() throws Exception {
    JwtAuthenticator a =
        new JwtAuthenticator(List.of(NEW), null, now::get).limits(Duration.ofHours(24), null);
    String yearLong =
        sign(
            new JWTClaimsSet.Builder()
                .subject("alice")
                .issueTime(new Date(now.get() + Duration.ofDays(364).toMillis()))
                .expirationTime(new Date(now.get() + Duration.ofDays(365).toMillis()))
                .build());
    assertThatThrownBy(() -> a.verify(yearLong)).hasMessage("token issued in the future");
    String slightlyAhead =
        sign(
            new JWTClaimsSet.Builder()
                .subject("alice")
                .issueTime(new Date(now.get() + 20_000)) // a clock 20 s ahead of this one
                .expirationTime(new Date(now.get() + Duration.ofHours(1).toMillis()))
                .build());
    assertThat(a.verify(slightlyAhead).userId()).isEqualTo("alice");
  }

  @Test
  void checksTheAudienceWhenOneIsConfigured() throws Exception {
    JwtAuthenticator a =
        new JwtAuthenticator(List.of(NEW), null, now::get)
            .limits(Duration.ofHours(24), "herald-realtime");
    JWTClaimsSet.Builder base =
        new JWTClaimsSet.Builder()
            .subject("alice")
            .issueTime(new Date(now.get()))
            .expirationTime(new Date(now.get() + 60_000));
    assertThat(a.verify(sign(base.audience(List.of("api", "herald-realtime")).build())).userId())
        .isEqualTo("alice");
    assertThatThrownBy(() -> a.verify(sign(base.audience("billing-api").build())))
        .hasMessage("token audience not accepted");
    assertThatThrownBy(() -> a.verify(sign(base.audience((String) null).build())))
        .hasMessage("token audience not accepted");
  }
}
