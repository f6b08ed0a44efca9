package dev.herald.app.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.app.users.User;
import io.vertx.ext.web.RoutingContext;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One API request: the logged-in user, path parameters and the JSON body, with clear 4xx errors.
 */
public final class Request {
  private final RoutingContext ctx;
  private final ObjectMapper json;
  private final @Nullable User user; // null on the routes that need no login
  private @Nullable JsonNode body; // read on first use

  Request(RoutingContext ctx, ObjectMapper json, @Nullable User user) {
    this.ctx = ctx;
    this.json = json;
    this.user = user;
  }

  /** The logged-in user; 401 on a route that needs no login. */
  public User user() {
    if (user == null) {
      throw ApiException.unauthorized();
    }
    return user;
  }

  public RoutingContext ctx() {
    return ctx;
  }

  /** A numeric path parameter; a non-number is "not found" (no such resource). */
  public long id(String name) {
    String v = ctx.pathParam(name);
    try {
      long id = Long.parseLong(v);
      if (id > 0) {
        return id;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw ApiException.notFound("Resource '" + v + "'");
  }

  public String path(String name) {
    return ctx.pathParam(name);
  }

  public @Nullable Long queryLong(String name) {
    String v = ctx.queryParams().get(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw ApiException.invalid(Map.of(name, "Give a whole number."));
    }
  }

  public int queryInt(String name, int dflt) {
    Long v = queryLong(name);
    return v == null ? dflt : (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
  }

  public @Nullable String query(String name) {
    return ctx.queryParams().get(name);
  }

  /** The JSON object body; 400 when it is missing or not an object. */
  public JsonNode body() {
    if (body == null) {
      // JSON only: a cross-site HTML form cannot send application/json without a CORS
      // preflight, so this also keeps forms on other sites from driving the API (e.g. login).
      String type = ctx.request().getHeader("Content-Type");
      if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
        throw new ApiException(
            415, "unsupported_media_type", "Send the body as application/json.", null);
      }
      String text = ctx.body() == null ? null : ctx.body().asString("UTF-8");
      if (text == null || text.isBlank()) {
        throw ApiException.badRequest("A JSON object body is required.");
      }
      try {
        body = json.readTree(text);
      } catch (Exception e) {
        throw ApiException.badRequest("The body is not valid JSON.");
      }
      if (body == null || !body.isObject()) {
        throw ApiException.badRequest("The body must be a JSON object.");
      }
    }
    return body;
  }

  /** A string field, or null when absent; 400 when present with another type. */
  public @Nullable String string(String field) {
    JsonNode v = body().get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw ApiException.invalid(Map.of(field, "Send this as text (a JSON string)."));
    }
    return v.textValue();
  }

  /**
   * Reads a body field with {@code read} (one of the methods above); a wrong type is added to
   * {@code errors} and gives null, so that it is reported together with the other fields' errors.
   */
  public <T> @Nullable T collect(
      Map<String, String> errors, java.util.function.Supplier<@Nullable T> read) {
    try {
      return read.get();
    } catch (ApiException e) {
      if (e.fields().isEmpty()) {
        throw e;
      }
      errors.putAll(e.fields());
      return null;
    }
  }

  /** A field of any JSON type as compact JSON text, or null when absent. */
  public @Nullable String rawJson(String field) {
    JsonNode v = body().get(field);
    if (v == null) {
      return null;
    }
    try {
      return json.writeValueAsString(v);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a parsed JSON value could not be written back", e);
    }
  }

  public @Nullable Integer integer(String field) {
    JsonNode v = body().get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber()) {
      throw ApiException.invalid(Map.of(field, "Enter a whole number."));
    }
    if (!v.canConvertToInt()) {
      throw ApiException.invalid(
          Map.of(field, "Enter a whole number no larger than " + Integer.MAX_VALUE + "."));
    }
    return v.intValue();
  }

  public @Nullable Long longValue(String field) {
    JsonNode v = body().get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw ApiException.invalid(Map.of(field, "Give a whole number (an id)."));
    }
    return v.longValue();
  }

  public List<String> strings(String field) {
    JsonNode v = body().get(field);
    if (v == null || v.isNull()) {
      return List.of();
    }
    if (!v.isArray()) {
      throw ApiException.invalid(Map.of(field, "Send a list of user names."));
    }
    List<String> out = new ArrayList<>();
    for (JsonNode e : v) {
      if (!e.isTextual()) {
        throw ApiException.invalid(Map.of(field, "Send a list of user names."));
      }
      out.add(e.textValue());
    }
    return out;
  }

  public @Nullable OffsetDateTime time(String field) {
    String v = string(field);
    if (v == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(v);
    } catch (DateTimeParseException e) {
      throw ApiException.invalid(
          Map.of(
              field,
              "Give a date and time with its time zone offset, for example"
                  + " 2026-12-01T09:00:00Z."));
    }
  }
}
