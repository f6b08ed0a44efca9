package dev.herald.server.doctor;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Reads Server-Sent Events: only what the doctor needs (event name and data lines). */
final class SseEvents {
  /** One event: its name ({@code message} when unnamed) and its data lines joined with LF. */
  record Event(String name, String data) {}

  private final InputStream in;

  SseEvents(InputStream in) {
    this.in = in;
  }

  /** The session id from the {@code session} event. */
  String awaitSession() throws IOException {
    while (true) {
      Event e = next();
      if ("session".equals(e.name())) {
        String id = Messages.parse(e.data()).path("session").asText("");
        if (id.isEmpty()) {
          throw new IOException("the session event names no session");
        }
        return id;
      }
    }
  }

  /** Skips events up to the one carrying a {@code pong}. */
  void awaitPong() throws IOException {
    while (true) {
      Event e = next();
      if ("message".equals(e.name()) && Messages.contains(e.data(), "pong")) {
        return;
      }
    }
  }

  /** The next event; throws {@link EOFException} at the end of the stream. */
  Event next() throws IOException {
    String name = "message";
    StringBuilder data = null;
    while (true) {
      String raw = Wire.readLine(in);
      if (raw == null) {
        throw new EOFException("the stream ended");
      }
      String line = new String(raw.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
      if (line.isEmpty()) {
        if (data != null) {
          return new Event(name, data.toString());
        }
        name = "message";
        continue;
      }
      if (line.startsWith(":")) {
        continue;
      }
      int colon = line.indexOf(':');
      String field = colon < 0 ? line : line.substring(0, colon);
      String value = colon < 0 ? "" : line.substring(colon + 1);
      if (value.startsWith(" ")) {
        value = value.substring(1);
      }
      if (field.equals("event")) {
        name = value;
      } else if (field.equals("data")) {
        data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
      }
    }
  }
}
