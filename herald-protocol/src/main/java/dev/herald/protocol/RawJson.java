package dev.herald.protocol;

import java.util.Objects;

/**
 * A JSON value kept as compact text, so that it is parsed once on input and written verbatim on
 * output. Instances are only made by {@link JsonCodec}, which guarantees the text is valid, compact
 * JSON without line breaks (messages are separated by LF on the wire).
 */
public final class RawJson {
  public static final RawJson NULL = new RawJson("null");
  public static final RawJson EMPTY_OBJECT = new RawJson("{}");

  private final String json;

  RawJson(String json) {
    this.json = Objects.requireNonNull(json);
  }

  /** Compact JSON text. */
  public String json() {
    return json;
  }

  public boolean isObject() {
    return json.startsWith("{");
  }

  /** UTF-16 length of the text; an upper bound on nothing, used for cheap size limits. */
  public int length() {
    return json.length();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RawJson other && other.json.equals(json);
  }

  @Override
  public int hashCode() {
    return json.hashCode();
  }

  @Override
  public String toString() {
    return json;
  }
}
