package dev.herald.app.session;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Slows down password guessing (docs/security.md, "Login throttling"). Each attempt is counted as a
 * failure <em>before</em> the password is checked ({@link #attempt}), so parallel attempts cannot
 * all slip under a threshold; a successful login gives the count back. Counts live in a window that
 * restarts once it has seen no failure for {@code window}.
 *
 * <p>An attempt that carries a valid device cookie for the account (a browser that logged in to it
 * before) is counted only under that device: after {@code perAccount} failures, each further
 * attempt from it waits a delay that doubles per failure (1 s, 2 s, 4 s, ... up to {@code
 * maxDelay}). Nothing an attacker does elsewhere delays it. Any other attempt is counted under
 * three keys:
 *
 * <ul>
 *   <li>the account from one address: the same doubling delay after {@code perAccount} failures;
 *   <li>the address, whatever the account, after {@code perAddress} failures (one address trying
 *       many accounts), the delay capped at one minute so that a shared address (a NAT, a proxy)
 *       cannot keep everybody behind it out for long;
 *   <li>the account from everywhere, after {@code 10 x perAccount} failures, capped at one minute
 *       (a distributed attack on one account).
 * </ul>
 *
 * <p>An attempt made while a delay runs is refused without checking the password and is not
 * counted. Keys are fixed-size digests of the normalised account name (trimmed, lower case), the
 * address and the device. Memory is bounded: beyond {@link #MAX_ENTRIES} keys, expired keys and
 * then the oldest keys below their threshold are dropped; keys that reached their threshold inside
 * their window are kept, and their number is bounded by how many passwords the server can check per
 * window.
 */
public final class LoginThrottle {
  static final int MAX_ENTRIES = 100_000;
  private static final long SHARED_MAX_DELAY_MILLIS = Duration.ofMinutes(1).toMillis();

  private final Clock clock;
  private final int perAccount;
  private final int perAddress;
  private final long windowMillis;
  private final long maxDelayMillis;
  private final Map<String, Failures> failures = new HashMap<>();

  public LoginThrottle(
      Clock clock, int perAccount, int perAddress, Duration window, Duration maxDelay) {
    if (perAccount < 1 || perAddress < 1) {
      throw new IllegalArgumentException("failure thresholds must be >= 1");
    }
    this.clock = clock;
    this.perAccount = perAccount;
    this.perAddress = perAddress;
    this.windowMillis = window.toMillis();
    this.maxDelayMillis = maxDelay.toMillis();
  }

  /** The outcome of {@link #attempt}: refused for a while, or allowed with a permit. */
  public sealed interface Attempt permits Refused, Permit {}

  /** The attempt must not be checked; try again after {@code retryAfter}. */
  public record Refused(Duration retryAfter) implements Attempt {}

  /**
   * The attempt may be checked; it is already counted as a failure. Call {@link #succeeded} if the
   * password was right, or {@link #cancel} if it was never checked.
   */
  public final class Permit implements Attempt {
    private final List<Key> keys;
    private final @Nullable String account;

    private Permit(List<Key> keys, @Nullable String account) {
      this.keys = keys;
      this.account = account;
    }

    /** The login succeeded: clears the account's counts and gives back the address's. */
    public void succeeded() {
      synchronized (LoginThrottle.this) {
        for (Key k : keys) {
          if (k.shared) {
            refund(k.id);
          } else {
            failures.remove(k.id);
          }
        }
        failures.remove(accountWide(account).id);
      }
    }

    /** The password was not checked (the server was too busy): gives every count back. */
    public void cancel() {
      synchronized (LoginThrottle.this) {
        keys.forEach(k -> refund(k.id));
      }
    }
  }

  /**
   * Counts an attempt on {@code account} from {@code address}, or refuses it while a delay runs.
   * {@code device} is the id of a valid device cookie issued for this account, or null.
   */
  public synchronized Attempt attempt(
      @Nullable String account, String address, @Nullable String device) {
    long now = clock.millis();
    List<Key> keys = keys(account, address, device);
    long wait = wait(keys, now);
    if (wait > 0) {
      return new Refused(Duration.ofMillis(wait));
    }
    if (failures.size() + keys.size() > MAX_ENTRIES) {
      purge(now);
    }
    for (Key k : keys) {
      failures.compute(
          k.id,
          (id, f) ->
              f == null || f.expired(now, windowMillis)
                  ? new Failures(1, now, k.threshold)
                  : new Failures(f.count + 1, now, k.threshold));
    }
    return new Permit(keys, account);
  }

  /** How long an attempt would have to wait now, without counting it. */
  synchronized Duration delay(@Nullable String account, String address, @Nullable String device) {
    return Duration.ofMillis(wait(keys(account, address, device), clock.millis()));
  }

  private List<Key> keys(@Nullable String account, String address, @Nullable String device) {
    if (device != null) {
      return List.of(new Key(digest("dev", device), perAccount, maxDelayMillis, false));
    }
    return List.of(
        new Key(
            digest("acct@ip", norm(account) + "\n" + address), perAccount, maxDelayMillis, false),
        new Key(
            digest("ip", address),
            perAddress,
            Math.min(maxDelayMillis, SHARED_MAX_DELAY_MILLIS),
            true),
        accountWide(account));
  }

  private long wait(List<Key> keys, long now) {
    long wait = 0;
    for (Key k : keys) {
      wait = Math.max(wait, wait(k, now));
    }
    return wait;
  }

  /** How many keys are held (for tests of the memory bound). */
  synchronized int size() {
    return failures.size();
  }

  private Key accountWide(@Nullable String account) {
    return new Key(
        digest("acct", norm(account)),
        10 * perAccount,
        Math.min(maxDelayMillis, SHARED_MAX_DELAY_MILLIS),
        true);
  }

  private long wait(Key k, long now) {
    Failures f = failures.get(k.id);
    if (f == null || f.expired(now, windowMillis) || f.count < k.threshold) {
      return 0;
    }
    int doublings = Math.min(f.count - k.threshold, 30);
    long delay = Math.min(k.cap, 1000L << doublings);
    return Math.max(0, f.last + delay - now);
  }

  private void refund(String id) {
    failures.computeIfPresent(
        id, (k, f) -> f.count <= 1 ? null : new Failures(f.count - 1, f.last, f.threshold));
  }

  private void purge(long now) {
    failures.values().removeIf(f -> f.expired(now, windowMillis));
    if (failures.size() < MAX_ENTRIES / 2) {
      return;
    }
    // Still full of live keys: forget the oldest of those that have not reached their threshold
    // (never one that is delaying attempts), down to half the bound.
    List<Map.Entry<String, Failures>> quiet = new ArrayList<>();
    for (Map.Entry<String, Failures> e : failures.entrySet()) {
      if (e.getValue().count < e.getValue().threshold) {
        quiet.add(e);
      }
    }
    quiet.sort(Comparator.comparingLong(e -> e.getValue().last));
    int drop = Math.min(quiet.size(), failures.size() - MAX_ENTRIES / 2);
    for (int i = 0; i < drop; i++) {
      failures.remove(quiet.get(i).getKey());
    }
  }

  /** Account names are compared ignoring surrounding spaces and case. */
  static String norm(@Nullable String account) {
    return account == null ? "" : account.strip().toLowerCase(Locale.ROOT);
  }

  private static String digest(String kind, String value) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest((kind + "\n" + value).getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().withoutPadding().encodeToString(d).substring(0, 22);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * One counter: its id, when it starts delaying, its delay cap, whether many accounts share it.
   */
  private record Key(String id, int threshold, long cap, boolean shared) {}

  /** Failures under one key: how many in the current window, when the last one was. */
  private record Failures(int count, long last, int threshold) {
    boolean expired(long now, long window) {
      return now - last > window;
    }
  }
}
