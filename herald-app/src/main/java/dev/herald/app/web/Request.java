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
  private final User user;
  private JsonNode body;

  Request(RoutingContext ctx, ObjectMapper json, User user) {
    this.ctx = ctx;
    this.json = json;
    this.user = user;
  }

  public User user() {
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

  public Long queryLong(String name) {
    String v = ctx.queryParams().get(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw ApiException.invalid(Map.of(name, "must be a number"));
    }
  }

  public int queryInt(String name, int dflt) {
    Long v = queryLong(name);
    return v == null ? dflt : (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
  }

  public String query(String name) {
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
  public String string(String field) {
    JsonNode v = body().get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw ApiException.invalid(Map.of(field, "must be a string"));
    }
    return v.textValue();
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

  public Integer integer(String field) {
    JsonNode v = body().get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw ApiException.invalid(Map.of(field, "must be an integer"));
    }
    return v.intValue();
  }

  public Long longValue(String field) {
    JsonNode v = body().get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw ApiException.invalid(Map.of(field, "must be an integer"));
    }
    return v.longValue();
  }

  public List<String> strings(String field) {
    JsonNode v = body().get(field);
    if (v == null || v.isNull()) {
      return List.of();
    }
    if (!v.isArray()) {
      throw ApiException.invalid(Map.of(field, "must be an array of strings"));
    }
    List<String> out = new ArrayList<>();
    for (JsonNode e : v) {
      if (!e.isTextual()) {
        throw ApiException.invalid(Map.of(field, "must be an array of strings"));
      }
      out.add(e.textValue());
    }
    return out;
  }

  public OffsetDateTime time(String field) {
    String v = string(field);
    if (v == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(v);
    } catch (DateTimeParseException e) {
      throw ApiException.invalid(
          Map.of(field, "must be an ISO-8601 date-time with offset, e.g. 2026-12-01T09:00:00Z"));
    }
  }
}
