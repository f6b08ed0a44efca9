package dev.herald.app.web;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A refused request, with its HTTP status, a stable error code, a message for people and, for
 * validation failures, a message per field. Rendered as {@code {"error":{"status":..,"code":..,
 * "message":..,"fields":{..}}}} (see docs/api.md).
 */
public final class ApiException extends RuntimeException {
  private final int status;
  private final String code;
  private final Map<String, String> fields;

  public ApiException(
      int status, String code, String message, @Nullable Map<String, String> fields) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    // In the order given: the fields' order in the form, which the message follows.
    this.fields =
        fields == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields));
  }

  public static ApiException badRequest(String message) {
    return new ApiException(400, "bad_request", message, null);
  }

  /**
   * A validation failure. Each field's message is a sentence for the person who filled in the
   * field, shown next to it; the error's message is those sentences in field order, for clients
   * that show one message only.
   */
  public static ApiException invalid(Map<String, String> fields) {
    return new ApiException(400, "validation_failed", String.join(" ", fields.values()), fields);
  }

  /** The field message for text over its limit: how long it is, the limit and how much to cut. */
  public static String tooLong(String what, int length, int max) {
    return what
        + " is "
        + length
        + " characters long; the limit is "
        + max
        + ". Shorten it by "
        + (length - max)
        + ".";
  }

  public static ApiException unauthorized() {
    return new ApiException(401, "unauthorized", "Log in first.", null);
  }

  public static ApiException forbidden(String message) {
    return new ApiException(403, "forbidden", message, null);
  }

  public static ApiException notFound(String what) {
    return new ApiException(404, "not_found", what + " not found.", null);
  }

  public static ApiException conflict(String message) {
    return new ApiException(409, "conflict", message, null);
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public Map<String, String> fields() {
    return fields;
  }
}
