package dev.herald.core.broker;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Names one publication so that a retry of it publishes nothing new: within {@code window} of the
 * first publication with this key in a channel, a publish with the same key in the same channel
 * answers the first publication's position and delivers nothing (the data of the retry is not
 * looked at). A publisher that got no answer (a timeout, a {@code 503} from a command timeout that
 * may have published) retries with the same key and can never publish twice. Keys of different
 * channels are independent. After the window, the key publishes anew.
 *
 * <p>The only place that decides what a valid key is: 1 to {@value #MAX_LENGTH} printable ASCII
 * characters (0x21-0x7E), such as a UUID or {@code order-1234-shipped}.
 *
 * @param value the key
 * @param window how long the key is remembered after the publication it names
 */
public record IdempotencyKey(String value, Duration window) {
  /** The longest key accepted. */
  public static final int MAX_LENGTH = 128;

  /** How long a key is remembered unless the publisher says otherwise: 10 minutes. */
  public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(10);

  /** The longest window accepted: a day. */
  public static final Duration MAX_WINDOW = Duration.ofDays(1);

  public IdempotencyKey {
    String problem = problem(value);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    if (window == null || window.toMillis() < 1 || window.compareTo(MAX_WINDOW) > 0) {
      throw new IllegalArgumentException(
          "an idempotency window must be from 1 ms to " + MAX_WINDOW.toHours() + " h");
    }
  }

  /** A key remembered for {@link #DEFAULT_WINDOW}. */
  public static IdempotencyKey of(String value) {
    return new IdempotencyKey(value, DEFAULT_WINDOW);
  }

  /** What is wrong with {@code value} as a key, or null if nothing. */
  public static @Nullable String problem(String value) {
    if (value == null || value.isEmpty()) {
      return "an idempotency key must not be empty";
    }
    if (value.length() > MAX_LENGTH) {
      return "an idempotency key must be at most " + MAX_LENGTH + " characters";
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return "an idempotency key must be printable ASCII without spaces";
      }
    }
    return null;
  }

  public long windowMillis() {
    return window.toMillis();
  }
}
