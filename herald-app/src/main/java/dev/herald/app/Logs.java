package dev.herald.app;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.herald.server.config.ConfigException;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Log output format ({@code logging.format}): {@code text} (human-readable, one line per event,
 * with the request id when there is one) or {@code json} (logback's {@link JsonEncoder}: one JSON
 * object per line, with the MDC, e.g. {@code requestId}). A logback configuration given with {@code
 * -Dlogback.configurationFile} is left alone.
 */
public final class Logs {
  public enum Format {
    TEXT,
    JSON
  }

  static final String TEXT_PATTERN =
      "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24}%replace( [%X{requestId}]){' \\[\\]', ''}"
          + " - %msg%n";

  private Logs() {}

  /** Parses a {@code logging.format} value; a {@link ConfigException} names the mistake. */
  public static Format format(String value) {
    String v = value == null ? "" : value.trim();
    if (v.equalsIgnoreCase("text")) {
      return Format.TEXT;
    }
    if (v.equalsIgnoreCase("json")) {
      return Format.JSON;
    }
    throw new ConfigException(List.of("logging.format: '" + value + "' is not text or json"));
  }

  /** Switches the console output to the given format (no-op when logback is not the backend). */
  public static void configure(Format format) {
    if (System.getProperty("logback.configurationFile") != null
        || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName("STDOUT");
    appender.setEncoder(encoder(context, format));
    appender.start();
    ch.qos.logback.core.Appender<ILoggingEvent> old = root.getAppender("STDOUT");
    root.addAppender(appender);
    if (old != null && old != appender) {
      root.detachAppender(old);
      old.stop();
    }
  }

  /** The encoder for a format (also used by tests to capture what would be written). */
  public static Encoder<ILoggingEvent> encoder(LoggerContext context, Format format) {
    if (format == Format.JSON) {
      JsonEncoder json = new JsonEncoder();
      json.setContext(context);
      json.setWithFormattedMessage(true);
      json.setWithArguments(false);
      json.setWithSequenceNumber(false);
      json.setWithContext(false);
      json.start();
      return json;
    }
    PatternLayoutEncoder text = new PatternLayoutEncoder();
    text.setContext(context);
    text.setPattern(TEXT_PATTERN);
    text.start();
    return text;
  }
}
