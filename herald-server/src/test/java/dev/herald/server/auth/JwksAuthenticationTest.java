package dev.herald.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.ConnectRequest;
import dev.herald.core.auth.Principal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** RS256 and ES256 tokens checked against a JWKS, key rotation and the refetch rate limit. */
class JwksAuthenticationTest {
  static final long NOW = 1_800_000_000_000L;
  final AtomicLong clock = new AtomicLong(NOW);
  final AtomicReference<String> published = new AtomicReference<>();
  final JwksKeys keys =
      new JwksKeys(published::get, "test-jwks", clock::get, Duration.ofSeconds(30));
  final JwtAuthenticator auth = new JwtAuthenticator(List.of(), keys, null, clock::get);

  static RSAKey rsa(String kid) throws JOSEException {
    return new RSAKeyGenerator(2048).keyID(kid).generate();
  }

  static ECKey ec(String kid) throws JOSEException {
    return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
  }

  void publish(JWK... jwks) {
    List<JWK> pub = new ArrayList<>();
    for (JWK k : jwks) {
      pub.add(k.toPublicJWK());
    }
    published.set(new JWKSet(pub).toString());
  }

  String token(JWSAlgorithm alg, String kid, JWSSigner signer, String sub) throws JOSEException {
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .subject(sub)
            .issueTime(new Date(clock.get()))
            .expirationTime(new Date(clock.get() + 600_000))
            .claim("name", "Alice")
            .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  @Test
  void rs256AndEs256TokensAreVerifiedWithTheKeyOfTheirKid() throws Exception {
    RSAKey r = rsa("r1");
    ECKey e = ec("e1");
    publish(r, e);
    Principal p = auth.verify(token(JWSAlgorithm.RS256, "r1", new RSASSASigner(r), "alice"));
    assertThat(p.userId()).isEqualTo("alice");
    assertThat(p.info().json()).isEqualTo("{\"name\":\"Alice\"}");
    assertThat(auth.verify(token(JWSAlgorithm.ES256, "e1", new ECDSASigner(e), "bob")).userId())
        .isEqualTo("bob");
    // The same checks through the Authenticator interface, which verifies off the caller's thread.
    Principal viaConnect =
        auth.authenticate(
                new ConnectRequest(
                    token(JWSAlgorithm.RS256, "r1", new RSASSASigner(r), "carol"),
                    Map.of(),
                    "127.0.0.1",
                    "websocket"))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertThat(viaConnect.userId()).isEqualTo("carol");
    assertThat(keys.fetches()).isEqualTo(1);
  }

  @Test
  void aTokenSignedByAnotherKeyUnderAKnownKidIsRefused() throws Exception {
    publish(rsa("r1"));
    String forged = token(JWSAlgorithm.RS256, "r1", new RSASSASigner(rsa("r1")), "alice");
    assertThatThrownBy(() -> auth.verify(forged)).hasMessage("invalid token signature");
    // An ES256 token cannot use an RSA key, whatever its kid says.
    String mismatched = token(JWSAlgorithm.ES256, "r1", new ECDSASigner(ec("r1")), "alice");
    assertThatThrownBy(() -> auth.verify(mismatched)).hasMessage("invalid token signature");
  }

  @Test
  void hs256IsRefusedWithoutSecretsEvenWhenSignedWithThePublicKey() throws Exception {
    RSAKey r = rsa("r1");
    publish(r);
    // Algorithm confusion: an HS256 token "signed" with the published public key.
    byte[] publicBytes = r.toPublicJWK().toJSONString().getBytes();
    String confused = token(JWSAlgorithm.HS256, "r1", new MACSigner(publicBytes), "alice");
    assertThatThrownBy(() -> auth.verify(confused))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("token must be signed with RS256 or ES256");
    String rs384 = token(JWSAlgorithm.RS384, "r1", new RSASSASigner(r), "alice");
    assertThatThrownBy(() -> auth.verify(rs384))
        .hasMessage("token must be signed with RS256 or ES256");
  }

  @Test
  void aRotatedKeyIsFetchedWhenATokenNamesItsKid() throws Exception {
    RSAKey old = rsa("2026-11");
    publish(old);
    assertThat(auth.verify(token(JWSAlgorithm.RS256, "2026-11", new RSASSASigner(old), "a")))
        .isNotNull();
    clock.addAndGet(60_000);
    RSAKey next = rsa("2026-12");
    publish(old, next); // the identity provider rotates
    assertThat(
            auth.verify(token(JWSAlgorithm.RS256, "2026-12", new RSASSASigner(next), "a")).userId())
        .isEqualTo("a");
    assertThat(keys.fetches()).isEqualTo(2);
    // Known kids need no fetch.
    auth.verify(token(JWSAlgorithm.RS256, "2026-11", new RSASSASigner(old), "a"));
    assertThat(keys.fetches()).isEqualTo(2);
  }

  @Test
  void unknownKidsCauseAtMostOneFetchPerInterval() throws Exception {
    RSAKey r = rsa("r1");
    publish(r);
    auth.verify(token(JWSAlgorithm.RS256, "r1", new RSASSASigner(r), "a"));
    clock.addAndGet(30_000);
    RSASSASigner stranger = new RSASSASigner(rsa("x"));
    for (int i = 0; i < 50; i++) {
      String t = token(JWSAlgorithm.RS256, "made-up-" + i, stranger, "a");
      assertThatThrownBy(() -> auth.verify(t)).hasMessage("invalid token signature");
    }
    assertThat(keys.fetches()).isEqualTo(2);
    clock.addAndGet(29_999);
    String t = token(JWSAlgorithm.RS256, "still-made-up", new RSASSASigner(r), "a");
    assertThatThrownBy(() -> auth.verify(t)).hasMessage("invalid token signature");
    assertThat(keys.fetches()).isEqualTo(2);
    clock.addAndGet(1);
    assertThatThrownBy(() -> auth.verify(t)).hasMessage("invalid token signature");
    assertThat(keys.fetches()).isEqualTo(3);
  }

  @Test
  void aSetThatCannotBeReadKeepsTheKeysKnownBefore() throws Exception {
    RSAKey r = rsa("r1");
    publish(r);
    auth.verify(token(JWSAlgorithm.RS256, "r1", new RSASSASigner(r), "a"));
    published.set("{not json");
    clock.addAndGet(60_000);
    String unknown = token(JWSAlgorithm.RS256, "r2", new RSASSASigner(rsa("r2")), "a");
    assertThatThrownBy(() -> auth.verify(unknown)).hasMessage("invalid token signature");
    assertThat(keys.fetches()).isEqualTo(2);
    assertThat(auth.verify(token(JWSAlgorithm.RS256, "r1", new RSASSASigner(r), "a")).userId())
        .isEqualTo("a");
  }

  @Test
  void secretsAndAJwksTogetherAcceptBothKinds() throws Exception {
    RSAKey r = rsa("r1");
    publish(r);
    String secret = "0123456789abcdef0123456789abcdef";
    JwtAuthenticator both = new JwtAuthenticator(List.of(secret), keys, null, clock::get);
    assertThat(both.verify(both.mint("hs", Map.of(), 60_000)).userId()).isEqualTo("hs");
    assertThat(both.verify(token(JWSAlgorithm.RS256, "r1", new RSASSASigner(r), "rs")).userId())
        .isEqualTo("rs");
    assertThatThrownBy(() -> auth.mint("x", Map.of(), 1000))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anExpiredTokenIsReportedAsExpiredThroughConnect() throws Exception {
    RSAKey r = rsa("r1");
    publish(r);
    String t = token(JWSAlgorithm.RS256, "r1", new RSASSASigner(r), "a");
    clock.addAndGet(600_001);
    assertThatThrownBy(
            () ->
                auth.authenticate(new ConnectRequest(t, Map.of(), "127.0.0.1", "websocket"))
                    .toCompletableFuture()
                    .get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("token expired");
  }
}
