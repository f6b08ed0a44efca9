package dev.herald.app.session;

import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Device cookies (OWASP, "Slow down online guessing attacks with device cookies"): a browser that
 * logged in to an account gets a signed cookie naming that account. Login attempts that carry a
 * valid one are throttled only per device, so an attacker failing on purpose elsewhere, or from the
 * same shared address, cannot keep the account's real user out (see {@link LoginThrottle}).
 *
 * <p>The value is {@code <device id>.<issued, epoch seconds>.<HMAC-SHA256 of account, id and
 * time>}. The key is random per process: after a restart every browser counts as new until its next
 * login. The cookie is HttpOnly, SameSite=Strict, sent only to {@code /api/login}, and lives for
 * {@link #LIFETIME}.
 */
public final class DeviceCookies {
  public static final String COOKIE = "herald_device";
  public static final Duration LIFETIME = Duration.ofDays(30);

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final SecretKeySpec key;

  public DeviceCookies(Clock clock) {
    this.clock = clock;
    byte[] k = new byte[32];
    random.nextBytes(k);
    this.key = new SecretKeySpec(k, "HmacSHA256");
  }

  /** A new device cookie for {@code account}. */
  public Cookie issue(String account, boolean secure) {
    byte[] id = new byte[16];
    random.nextBytes(id);
    String device = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
    String issued = Long.toString(clock.millis() / 1000);
    return Cookie.cookie(COOKIE, device + "." + issued + "." + sign(account, device, issued))
        .setPath("/api/login")
        .setHttpOnly(true)
        .setSameSite(CookieSameSite.STRICT)
        .setSecure(secure)
        .setMaxAge(LIFETIME.toSeconds());
  }

  /** The device id, when {@code value} is a valid, unexpired device cookie for {@code account}. */
  public Optional<String> verify(String value, @Nullable String account) {
    if (value == null || value.length() > 200) {
      return Optional.empty();
    }
    String[] parts = value.split("\\.", -1);
    if (parts.length != 3) {
      return Optional.empty();
    }
    long issued;
    try {
      issued = Long.parseLong(parts[1]);
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    long age = clock.millis() / 1000 - issued;
    boolean valid =
        MessageDigest.isEqual(
            sign(account, parts[0], parts[1]).getBytes(StandardCharsets.US_ASCII),
            parts[2].getBytes(StandardCharsets.US_ASCII));
    return valid && age >= 0 && age <= LIFETIME.toSeconds()
        ? Optional.of(parts[0])
        : Optional.empty();
  }

  private String sign(@Nullable String account, String device, String issued) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      byte[] sig =
          mac.doFinal(
              (LoginThrottle.norm(account) + "\n" + device + "\n" + issued)
                  .getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
