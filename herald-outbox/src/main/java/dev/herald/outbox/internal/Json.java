package dev.herald.outbox.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;

/** JSON text for the outbox: checks event data and writes envelopes and pages. */
public final class Json {
  private static final JsonFactory FACTORY = new JsonFactory();

  private Json() {}

  /**
   * Throws {@link IllegalArgumentException} unless {@code text} is exactly one JSON value (an event
   * whose data the hub would refuse must never reach the table: it would block its channel).
   */
  public static void requireValid(String text) {
    try (JsonParser p = FACTORY.createParser(text)) {
      if (p.nextToken() == null) {
        throw new IllegalArgumentException("data is empty, expected a JSON value");
      }
      p.skipChildren();
      if (p.nextToken() != null) {
        throw new IllegalArgumentException("data holds more than one JSON value");
      }
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("data is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One stored event as published: {@code {"seq":..,"type":..,"id":..,...,"data":..}}. */
  public static String envelope(
      long seq, String type, String id, String action, long version, String data) {
    StringWriter out = new StringWriter(data.length() + 96);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      writeEnvelope(g, seq, type, id, action, version, data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static void writeEnvelope(
      JsonGenerator g, long seq, String type, String id, String action, long version, String data)
      throws IOException {
    g.writeStartObject();
    g.writeNumberField("seq", seq);
    g.writeStringField("type", type);
    if (id != null) {
      g.writeStringField("id", id);
    }
    if (action != null) {
      g.writeStringField("action", action);
    }
    if (version > 0) {
      g.writeNumberField("version", version);
    }
    g.writeFieldName("data");
    g.writeRawValue(data);
    g.writeEndObject();
  }

  /** A "changes since" answer; {@code changes} are envelopes already. */
  public static String page(
      long seq, boolean more, boolean snapshotRequired, List<String> changes) {
    StringBuilder b = new StringBuilder(64 + changes.stream().mapToInt(String::length).sum());
    b.append("{\"seq\":").append(seq).append(",\"more\":").append(more);
    if (snapshotRequired) {
      b.append(",\"snapshotRequired\":true");
    }
    b.append(",\"changes\":[");
    for (int i = 0; i < changes.size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(changes.get(i));
    }
    return b.append("]}").toString();
  }
}
