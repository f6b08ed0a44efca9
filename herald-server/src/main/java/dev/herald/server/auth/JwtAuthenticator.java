package dev.herald.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
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
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

/**
 * Authenticates connections with an HS256 JWT sent in the connect message.
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
  private final byte[] signingSecret;
  private final String issuer;
  private final LongSupplier clock;
  private final JsonCodec codec = new JsonCodec();
  private volatile long maxLifetimeMillis;
  private volatile String audience;

  public JwtAuthenticator(List<String> secrets, String issuer, LongSupplier clock) {
    if (secrets.isEmpty()) {
      throw new IllegalArgumentException("at least one secret is required");
    }
    try {
      for (String s : secrets) {
        verifiers.add(new MACVerifier(s.getBytes(StandardCharsets.UTF_8)));
      }
    } catch (JOSEException e) {
      throw new IllegalArgumentException("invalid JWT secret: " + e.getMessage(), e);
    }
    this.signingSecret = secrets.get(0).getBytes(StandardCharsets.UTF_8);
    this.issuer = issuer == null || issuer.isBlank() ? null : issuer;
    this.clock = clock;
  }

  /**
   * Refuses tokens whose lifetime (from {@code iat}, or from now when there is none, to {@code
   * exp}) exceeds {@code maxLifetime} (zero: any), and, when {@code audience} is not null, tokens
   * whose {@code aud} does not name it. Returns this authenticator.
   */
  public JwtAuthenticator limits(java.time.Duration maxLifetime, String audience) {
    this.maxLifetimeMillis = maxLifetime.toMillis();
    this.audience = audience == null || audience.isBlank() ? null : audience;
    return this;
  }

  @Override
  public CompletionStage<Principal> authenticate(ConnectRequest request) {
    try {
      return CompletableFuture.completedFuture(verify(request.token()));
    } catch (AuthenticationException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Verifies a token and returns its principal. */
  public Principal verify(String token) throws AuthenticationException {
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
    if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())) {
      throw new AuthenticationException("token must be signed with HS256", false);
    }
    boolean valid = false;
    for (MACVerifier v : verifiers) {
      try {
        if (jwt.verify(v)) {
          valid = true;
          break;
        }
      } catch (JOSEException e) {
        // try the next key
      }
    }
    if (!valid) {
      throw new AuthenticationException("invalid token signature", false);
    }
    String sub = claims.getSubject();
    if (sub == null || sub.isBlank()) {
      throw new AuthenticationException("token has no subject", false);
    }
    Date exp = claims.getExpirationTime();
    if (exp == null) {
      throw new AuthenticationException("token has no expiry", false);
    }
    long now = clock.getAsLong();
    // No skew allowance on expiry: the connection is closed at exp anyway (4005), so a token
    // accepted "late" would only be dropped moments after connecting.
    if (exp.getTime() <= now) {
      throw new AuthenticationException("token expired", true);
    }
    Date nbf = claims.getNotBeforeTime();
    if (nbf != null && nbf.getTime() - CLOCK_SKEW_MILLIS > now) {
      throw new AuthenticationException("token not valid yet", false);
    }
    if (issuer != null && !issuer.equals(claims.getIssuer())) {
      throw new AuthenticationException("token issuer not accepted", false);
    }
    Date issued = claims.getIssueTime();
    if (issued != null && issued.getTime() - CLOCK_SKEW_MILLIS > now) {
      // Otherwise a long-lived token would pass the lifetime check, counted from a later iat.
      throw new AuthenticationException("token issued in the future", false);
    }
    if (maxLifetimeMillis > 0) {
      Date iat = issued;
      long from = iat == null ? now : iat.getTime();
      if (exp.getTime() - from > maxLifetimeMillis) {
        throw new AuthenticationException(
            "token lifetime longer than auth.jwt.max-lifetime (" + maxLifetimeMillis / 1000 + " s)",
            false);
      }
    }
    if (audience != null
        && (claims.getAudience() == null || !claims.getAudience().contains(audience))) {
      throw new AuthenticationException("token audience not accepted", false);
    }
    return new Principal(sub, info(claims), exp.getTime());
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

  /** Signs a token for a user with the first secret. */
  public String mint(String userId, Map<String, Object> info, long ttlMillis) {
    long now = clock.getAsLong();
    JWTClaimsSet.Builder b =
        new JWTClaimsSet.Builder()
            .subject(userId)
            .issueTime(new Date(now))
            .expirationTime(new Date(now + ttlMillis));
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
