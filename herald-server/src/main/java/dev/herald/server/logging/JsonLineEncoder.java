package dev.herald.server.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object per log event, on one line: {@code timestamp} (ISO-8601, UTC, milliseconds),
 * {@code level}, {@code threadName}, {@code loggerName}, {@code formattedMessage}, then {@code mdc}
 * (the MDC, e.g. {@code requestId}, {@code connection}, {@code transport}) and {@code kvp} (the
 * event's key-value pairs, e.g. an access line's {@code method}, {@code route}, {@code status},
 * {@code durationMs}, {@code user}) when there are any, and {@code throwable} ({@code className},
 * {@code message}, {@code stackTrace}) when the event has one. Numbers and booleans stay JSON
 * numbers and booleans; any other value is written as its string.
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {
  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] NONE = new byte[0];

  @Override
  public byte[] headerBytes() {
    return NONE;
  }

  @Override
  public byte[] footerBytes() {
    return NONE;
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("timestamp", Instant.ofEpochMilli(event.getTimeStamp()).toString());
      g.writeStringField("level", event.getLevel().toString());
      g.writeStringField("threadName", event.getThreadName());
      g.writeStringField("loggerName", event.getLoggerName());
      g.writeStringField("formattedMessage", event.getFormattedMessage());
      Map<String, String> mdc = event.getMDCPropertyMap();
      if (mdc != null && !mdc.isEmpty()) {
        g.writeObjectFieldStart("mdc");
        for (Map.Entry<String, String> e : mdc.entrySet()) {
          g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
      }
      if (event.getKeyValuePairs() != null && !event.getKeyValuePairs().isEmpty()) {
        g.writeObjectFieldStart("kvp");
        for (KeyValuePair kv : event.getKeyValuePairs()) {
          writeValue(g, kv.key, kv.value);
        }
        g.writeEndObject();
      }
      IThrowableProxy t = event.getThrowableProxy();
      if (t != null) {
        g.writeObjectFieldStart("throwable");
        g.writeStringField("className", t.getClassName());
        g.writeStringField("message", t.getMessage());
        g.writeStringField("stackTrace", ThrowableProxyUtil.asString(t));
        g.writeEndObject();
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.write('\n');
    return out.toByteArray();
  }

  private static void writeValue(JsonGenerator g, String key, Object v) throws IOException {
    if (v == null) {
      g.writeNullField(key);
    } else if (v instanceof Integer || v instanceof Long || v instanceof Short) {
      g.writeNumberField(key, ((Number) v).longValue());
    } else if (v instanceof Number n) {
      g.writeNumberField(key, n.doubleValue());
    } else if (v instanceof Boolean b) {
      g.writeBooleanField(key, b);
    } else {
      g.writeStringField(key, v.toString());
    }
  }
}
