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
    this.fields = fields == null ? Map.of() : Map.copyOf(fields);
  }

  public static ApiException badRequest(String message) {
    return new ApiException(400, "bad_request", message, null);
  }

  public static ApiException invalid(Map<String, String> fields) {
    return new ApiException(
        400,
        "validation_failed",
        "Some fields are invalid: " + String.join(", ", fields.keySet()),
        fields);
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
