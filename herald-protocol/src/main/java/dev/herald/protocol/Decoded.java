package dev.herald.protocol;

import org.jspecify.annotations.Nullable;

/** One decoded message, or the protocol error it produced. */
public record Decoded<T>(@Nullable T message, @Nullable ProtocolException error) {
  public static <T> Decoded<T> ok(T message) {
    return new Decoded<>(message, null);
  }

  public static <T> Decoded<T> failed(ProtocolException error) {
    return new Decoded<>(null, error);
  }

  public boolean isOk() {
    return error == null;
  }
}
