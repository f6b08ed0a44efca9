package dev.herald.server.config;

import java.time.Duration;

/**
 * Limits on the JWTs accepted in {@code connect} ({@code auth.jwt.*}).
 *
 * @param maxLifetime the longest lifetime a token may have, from its {@code iat} to its {@code exp}
 *     (or from now to {@code exp} when it has no {@code iat}); zero accepts any lifetime
 * @param audience when not null, tokens must name it in {@code aud}
 */
public record JwtSettings(Duration maxLifetime, String audience) {
  public JwtSettings {
    audience = audience == null || audience.isBlank() ? null : audience;
  }

  /** At most 24 hours, any audience. */
  public static JwtSettings defaults() {
    return new JwtSettings(Duration.ofHours(24), null);
  }
}
