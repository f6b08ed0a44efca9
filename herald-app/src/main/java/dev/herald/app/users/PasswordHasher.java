package dev.herald.app.users;

import org.jspecify.annotations.Nullable;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;

/**
 * Argon2id password hashes (Spring Security's encoder over Bouncy Castle), with the parameters
 * OWASP recommends as a minimum: 19 MiB memory, 2 iterations, parallelism 1. The encoded form
 * carries its parameters, so they can be raised later without invalidating stored hashes.
 */
public final class PasswordHasher {
  private final Argon2PasswordEncoder encoder = new Argon2PasswordEncoder(16, 32, 1, 19 * 1024, 2);

  public String hash(String password) {
    return encoder.encode(password);
  }

  public boolean matches(@Nullable String password, @Nullable String hash) {
    return password != null && hash != null && encoder.matches(password, hash);
  }
}
