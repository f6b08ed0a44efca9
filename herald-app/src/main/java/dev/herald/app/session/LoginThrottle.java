package dev.herald.app.session;

import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows down password guessing (docs/security.md, "Login throttling"). Failed logins are counted
 * under three keys, each in a window that restarts once it has seen no failure for {@code window}:
 *
 * <ul>
 *   <li>the account from one address: after {@code perAccount} failures, each further attempt from
 *       that address must wait a delay that doubles per failure (1 s, 2 s, 4 s, ... up to {@code
 *       maxDelay});
 *   <li>the address, whatever the account: the same after {@code perAddress} failures (one address
 *       trying many accounts);
 *   <li>the account from everywhere: after {@code 10 x perAccount} failures, with the delay capped
 *       at one minute (a distributed attack on one account).
 * </ul>
 *
 * <p>An attempt made while a delay runs is refused without checking the password and is not
 * counted, so refused attempts neither reveal anything nor lengthen the delay. Because the strict
 * limits are per address, an attacker elsewhere cannot lock the real user out; the account-wide
 * limit only ever delays a login by a minute at most. A successful login clears the account's
 * counters. Memory is bounded: at most {@link #MAX_ENTRIES} keys are kept, expired ones are dropped
 * first.
 */
public final class LoginThrottle {
  static final int MAX_ENTRIES = 100_000;
  private static final Duration ACCOUNT_WIDE_MAX_DELAY = Duration.ofMinutes(1);

  private final Clock clock;
  private final int perAccount;
  private final int perAddress;
  private final long windowMillis;
  private final long maxDelayMillis;
  private final Map<String, Failures> failures = new ConcurrentHashMap<>();

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

  /** How long the caller must wait before this attempt may be checked; zero when it may. */
  public Duration delay(String account, String address) {
    long now = clock.millis();
    long wait =
        Math.max(
            wait(accountFrom(account, address), now, perAccount, maxDelayMillis),
            Math.max(
                wait("ip:" + address, now, perAddress, maxDelayMillis),
                wait(
                    accountWide(account),
                    now,
                    10 * perAccount,
                    Math.min(maxDelayMillis, ACCOUNT_WIDE_MAX_DELAY.toMillis()))));
    return Duration.ofMillis(wait);
  }

  public void failed(String account, String address) {
    long now = clock.millis();
    if (failures.size() >= MAX_ENTRIES) {
      purge(now);
    }
    for (String key :
        new String[] {accountFrom(account, address), "ip:" + address, accountWide(account)}) {
      failures.compute(
          key,
          (k, f) -> f == null || f.expired(now, windowMillis) ? new Failures(now) : f.plus(now));
    }
  }

  public void succeeded(String account, String address) {
    failures.remove(accountFrom(account, address));
    failures.remove(accountWide(account));
  }

  private long wait(String key, long now, int threshold, long cap) {
    Failures f = failures.get(key);
    if (f == null || f.expired(now, windowMillis) || f.count < threshold) {
      return 0;
    }
    int doublings = Math.min(f.count - threshold, 30);
    long delay = Math.min(cap, 1000L << doublings);
    return Math.max(0, f.last + delay - now);
  }

  private void purge(long now) {
    failures.values().removeIf(f -> f.expired(now, windowMillis));
    if (failures.size() >= MAX_ENTRIES) {
      // Still full of live entries: forget the oldest half rather than grow without bound.
      long median =
          failures.values().stream()
              .mapToLong(f -> f.last)
              .sorted()
              .skip(failures.size() / 2)
              .findFirst()
              .orElse(now);
      failures.values().removeIf(f -> f.last <= median);
    }
  }

  private static String norm(String account) {
    return account == null ? "" : account.trim().toLowerCase(Locale.ROOT);
  }

  private static String accountFrom(String account, String address) {
    return "acct@ip:" + norm(account) + "@" + address;
  }

  private static String accountWide(String account) {
    return "acct:" + norm(account);
  }

  /** Failures under one key: how many in the current window and when the last one was. */
  private record Failures(int count, long last) {
    Failures(long now) {
      this(1, now);
    }

    Failures plus(long now) {
      return new Failures(count + 1, now);
    }

    boolean expired(long now, long window) {
      return now - last > window;
    }
  }
}
