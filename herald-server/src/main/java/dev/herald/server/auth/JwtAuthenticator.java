package dev.herald.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.Authenticator;
import dev.herald.core.auth.ConnectRequest;
import dev.herald.core.auth.Principal;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.RawJson;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Authenticates connections with a JWT sent in the connect message: HS256 with the configured
 * secrets, and RS256 or ES256 (P-256) with the public keys of a JSON Web Key Set ({@link JwksKeys},
 * by {@code kid}; an unknown {@code kid} fetches the set again, rate-limited, so an identity
 * provider's key rotation needs no restart). Signatures are checked by nimbus-jose-jwt. A token
 * whose key must be looked up is verified off the caller's thread (the fetch may block).
 *
 * <p>Claims: {@code sub} (required) is the user id; {@code exp} (required) ends the connection when
 * it passes; {@code info} (optional object) is shown in presence, or {@code name} becomes {@code
 * {"name":...}}; {@code iss} must match when an issuer is configured; {@code aud} must name the
 * configured audience, if any; {@code exp} may be at most the configured maximum lifetime after
 * {@code iat} (or after now, for a token without {@code iat}). Several secrets may be configured
 * for key rotation: tokens signed with any of them are accepted, and {@link #mint} signs with the
 * first.
 */
public final class JwtAuthenticator implements Authenticator {
  /** Allowance for issuers whose clock runs ahead, applied to "not before". */
  private static final long CLOCK_SKEW_MILLIS = 30_000;

  private final List<MACVerifier> verifiers = new ArrayList<>();
  // Null when only a JWKS is configured (nothing to sign with).
  private final byte @Nullable [] signingSecret;
  private final @Nullable JwksKeys jwks;
  // Null: any issuer.
  private final @Nullable String issuer;
  private final LongSupplier clock;
  private final JsonCodec codec = new JsonCodec();
  private volatile long maxLifetimeMillis;
  // Null: any audience.
  private volatile @Nullable String audience;

  public JwtAuthenticator(List<String> secrets, @Nullable String issuer, LongSupplier clock) {
    this(secrets, null, issuer, clock);
  }

  /**
   * @param secrets HS256 secrets (may be empty when {@code jwks} is given)
   * @param jwks public keys for RS256 and ES256 tokens, or null for HS256 only
   */
  public JwtAuthenticator(
      List<String> secrets, @Nullable JwksKeys jwks, @Nullable String issuer, LongSupplier clock) {
    if (secrets.isEmpty() && jwks == null) {
      throw new IllegalArgumentException("at least one secret or a JWKS is required");
    }
    this.jwks = jwks;
    try {
      for (String s : secrets) {
        verifiers.add(new MACVerifier(s.getBytes(StandardCharsets.UTF_8)));
      }
    } catch (JOSEException e) {
      throw new IllegalArgumentException("invalid JWT secret: " + e.getMessage(), e);
    }
    this.signingSecret = secrets.isEmpty() ? null : secrets.get(0).getBytes(StandardCharsets.UTF_8);
    this.issuer = issuer == null || issuer.isBlank() ? null : issuer;
    this.clock = clock;
  }

  /**
   * Refuses tokens whose lifetime (from {@code iat}, or from now when there is none, to {@code
   * exp}) exceeds {@code maxLifetime} (zero: any), and, when {@code audience} is not null, tokens
   * whose {@code aud} does not name it. Returns this authenticator.
   */
  public JwtAuthenticator limits(java.time.Duration maxLifetime, @Nullable String audience) {
    this.maxLifetimeMillis = maxLifetime.toMillis();
    this.audience = audience == null || audience.isBlank() ? null : audience;
    return this;
  }

  @Override
  public CompletionStage<Principal> authenticate(ConnectRequest request) {
    String token = request.token();
    JwksKeys jwks = this.jwks;
    if (jwks != null && !isHs256(token)) {
      // The key may have to be fetched (an unknown kid): not on the caller's event loop.
      CompletableFuture<Principal> result = new CompletableFuture<>();
      KEY_LOOKUPS.execute(
          () -> {
            try {
              result.complete(verify(token));
            } catch (AuthenticationException e) {
              result.completeExceptionally(e);
            } catch (RuntimeException e) {
              result.completeExceptionally(new AuthenticationException("invalid token", false));
            }
          });
      return result;
    }
    try {
      return CompletableFuture.completedFuture(verify(token));
    } catch (AuthenticationException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Daemon threads for RS256/ES256 verification, whose key lookup may fetch the JWKS. */
  private static final java.util.concurrent.Executor KEY_LOOKUPS =
      java.util.concurrent.Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "herald-jwks");
            t.setDaemon(true);
            return t;
          });

  private static boolean isHs256(@Nullable String token) {
    try {
      return token != null
          && JWSAlgorithm.HS256.equals(SignedJWT.parse(token).getHeader().getAlgorithm());
    } catch (ParseException e) {
      return true; // refused as malformed by verify, without a thread hop
    }
  }

  /** Verifies a token and returns its principal. */
  public Principal verify(@Nullable String token) throws AuthenticationException {
    if (token == null || token.isBlank()) {
      throw new AuthenticationException("token required", false);
    }
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(token);
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new AuthenticationException("malformed token", false);
    }
    JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
    JwksKeys jwks = this.jwks;
    boolean valid;
    if (JWSAlgorithm.HS256.equals(alg) && !verifiers.isEmpty()) {
      valid = verifies(jwt, verifiers);
    } else if ((JWSAlgorithm.RS256.equals(alg) || JWSAlgorithm.ES256.equals(alg)) && jwks != null) {
      valid = verifies(jwt, publicKeyVerifiers(alg, jwks.select(jwt.getHeader().getKeyID())));
    } else {
      throw new AuthenticationException("token must be signed with " + accepted(), false);
    }
    if (!valid) {
      throw new AuthenticationException("invalid token signature", false);
    }
    String sub = claims.getSubject();
    if (sub == null || sub.isBlank()) {
      throw new AuthenticationException("token has no subject", false);
    }
    Instant exp = instant(claims.getExpirationTime());
    if (exp == null) {
      throw new AuthenticationException("token has no expiry", false);
    }
    long now = clock.getAsLong();
    // No skew allowance on expiry: the connection is closed at exp anyway (4005), so a token
    // accepted "late" would only be dropped moments after connecting.
    if (exp.toEpochMilli() <= now) {
      throw new AuthenticationException("token expired", true);
    }
    Instant nbf = instant(claims.getNotBeforeTime());
    if (nbf != null && nbf.toEpochMilli() - CLOCK_SKEW_MILLIS > now) {
      throw new AuthenticationException("token not valid yet", false);
    }
    if (issuer != null && !issuer.equals(claims.getIssuer())) {
      throw new AuthenticationException("token issuer not accepted", false);
    }
    Instant issued = instant(claims.getIssueTime());
    if (issued != null && issued.toEpochMilli() - CLOCK_SKEW_MILLIS > now) {
      // Otherwise a long-lived token would pass the lifetime check, counted from a later iat.
      throw new AuthenticationException("token issued in the future", false);
    }
    if (maxLifetimeMillis > 0) {
      long from = issued == null ? now : issued.toEpochMilli();
      if (exp.toEpochMilli() - from > maxLifetimeMillis) {
        throw new AuthenticationException(
            "token lifetime longer than auth.jwt.max-lifetime (" + maxLifetimeMillis / 1000 + " s)",
            false);
      }
    }
    String audience = this.audience;
    if (audience != null
        && (claims.getAudience() == null || !claims.getAudience().contains(audience))) {
      throw new AuthenticationException("token audience not accepted", false);
    }
    return new Principal(sub, info(claims), exp.toEpochMilli());
  }

  /** The claim libraries' dates as instants. */
  private static @Nullable Instant instant(@Nullable Date d) {
    return d == null ? null : d.toInstant();
  }

  private String accepted() {
    if (jwks == null) {
      return "HS256";
    }
    return verifiers.isEmpty() ? "RS256 or ES256" : "HS256, RS256 or ES256";
  }

  private static boolean verifies(SignedJWT jwt, List<? extends JWSVerifier> candidates) {
    for (JWSVerifier v : candidates) {
      try {
        if (jwt.verify(v)) {
          return true;
        }
      } catch (JOSEException e) {
        // try the next key
      }
    }
    return false;
  }

  /** Verifiers for the keys fit for the algorithm: RSA keys for RS256, P-256 keys for ES256. */
  private static List<JWSVerifier> publicKeyVerifiers(JWSAlgorithm alg, List<JWK> keys) {
    List<JWSVerifier> out = new ArrayList<>();
    for (JWK k : keys) {
      if (k.getKeyUse() != null && !KeyUse.SIGNATURE.equals(k.getKeyUse())) {
        continue;
      }
      try {
        if (JWSAlgorithm.RS256.equals(alg) && k instanceof RSAKey rsa) {
          out.add(new RSASSAVerifier(rsa.toRSAPublicKey()));
        } else if (JWSAlgorithm.ES256.equals(alg)
            && k instanceof ECKey ec
            && Curve.P_256.equals(ec.getCurve())) {
          out.add(new ECDSAVerifier(ec.toECPublicKey()));
        }
      } catch (JOSEException e) {
        // an unusable key in the set: skip it
      }
    }
    return out;
  }

  private RawJson info(JWTClaimsSet claims) throws AuthenticationException {
    try {
      Object info = claims.getClaim("info");
      if (info instanceof Map<?, ?> m) {
        return codec.parseRaw(codec.mapper().writeValueAsString(m));
      }
      String name = claims.getStringClaim("name");
      if (name != null) {
        return codec.parseRaw(codec.mapper().writeValueAsString(Map.of("name", name)));
      }
      return RawJson.EMPTY_OBJECT;
    } catch (ParseException
        | ProtocolException
        | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AuthenticationException("invalid info claim", false);
    }
  }

  /** Whether {@link #mint} can sign (an HS256 secret is configured). */
  public boolean canMint() {
    return signingSecret != null;
  }

  /**
   * Signs an HS256 token for a user with the first secret.
   *
   * @throws IllegalStateException when no secret is configured (keys from a JWKS are public)
   */
  public String mint(String userId, @Nullable Map<String, Object> info, long ttlMillis) {
    byte[] signingSecret = this.signingSecret;
    if (signingSecret == null) {
      throw new IllegalStateException("no auth.jwt.secrets to sign with");
    }
    long now = clock.getAsLong();
    JWTClaimsSet.Builder b =
        new JWTClaimsSet.Builder()
            .subject(userId)
            .issueTime(Date.from(Instant.ofEpochMilli(now)))
            .expirationTime(Date.from(Instant.ofEpochMilli(now + ttlMillis)));
    if (issuer != null) {
      b.issuer(issuer);
    }
    if (info != null && !info.isEmpty()) {
      b.claim("info", info);
    }
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), b.build());
    try {
      jwt.sign(new MACSigner(signingSecret));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }
}
