package dev.herald.server.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Limits on the JWTs accepted in {@code connect} ({@code auth.jwt.*}), and where the public keys of
 * RS256 and ES256 tokens come from.
 *
 * @param maxLifetime the longest lifetime a token may have, from its {@code iat} to its {@code exp}
 *     (or from now to {@code exp} when it has no {@code iat}); zero accepts any lifetime
 * @param audience when not null, tokens must name it in {@code aud}
 * @param jwksFile a JSON Web Key Set file, or null
 * @param jwksUrl a JSON Web Key Set URL (http or https), or null
 * @param jwksRefetchInterval the least time between two reads of the key set
 */
public record JwtSettings(
    Duration maxLifetime,
    @Nullable String audience,
    @Nullable Path jwksFile,
    @Nullable URI jwksUrl,
    Duration jwksRefetchInterval) {
  /** The least time between two reads of the key set unless configured. */
  public static final Duration DEFAULT_JWKS_REFETCH_INTERVAL = Duration.ofSeconds(30);

  public JwtSettings {
    audience = audience == null || audience.isBlank() ? null : audience;
  }

  /** Lifetime and audience limits, HS256 keys only. */
  public JwtSettings(Duration maxLifetime, @Nullable String audience) {
    this(maxLifetime, audience, null, null, DEFAULT_JWKS_REFETCH_INTERVAL);
  }

  /** At most 24 hours, any audience, no JWKS. */
  public static JwtSettings defaults() {
    return new JwtSettings(Duration.ofHours(24), null);
  }

  /** Whether RS256 and ES256 tokens are accepted (a JWKS file or URL is configured). */
  public boolean jwks() {
    return jwksFile != null || jwksUrl != null;
  }
}
