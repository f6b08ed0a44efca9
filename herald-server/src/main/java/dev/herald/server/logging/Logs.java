package dev.herald.server.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.herald.server.config.ConfigException;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Log output format ({@code logging.format}, {@code HERALD_LOGGING_FORMAT}), the same for the
 * standalone server ({@code herald.jar}) and the reference app: {@code text} (human-readable, one
 * line per event, with the request id when there is one) or {@code json} ({@link JsonLineEncoder}:
 * one JSON object per line, ISO-8601 timestamps, the MDC and the event's key-value pairs as
 * fields). A logback configuration given with {@code -Dlogback.configurationFile} is left alone.
 */
public final class Logs {
  /** The configuration key; its environment variable is {@code HERALD_LOGGING_FORMAT}. */
  public static final String KEY = "logging.format";

  /** The key with its default, for {@code ConfigLoader.fromMap(file, env, extraDefaults)}. */
  public static final Map<String, String> DEFAULTS = Map.of(KEY, "text");

  public enum Format {
    TEXT,
    JSON
  }

  static final String TEXT_PATTERN =
      "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24}%replace( [%X{requestId}]){' \\[\\]', ''}"
          + " - %msg%n";

  private Logs() {}

  /** Parses a {@code logging.format} value; a {@link ConfigException} names the mistake. */
  public static Format format(@Nullable String value) {
    String v = value == null ? "" : value.trim();
    if (v.equalsIgnoreCase("text")) {
      return Format.TEXT;
    }
    if (v.equalsIgnoreCase("json")) {
      return Format.JSON;
    }
    throw new ConfigException(List.of(KEY + ": '" + value + "' is not text or json"));
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
      JsonLineEncoder json = new JsonLineEncoder();
      json.setContext(context);
      json.start();
      return json;
    }
    PatternLayoutEncoder text = new PatternLayoutEncoder();
    text.setContext(context);
    text.setPattern(TEXT_PATTERN);
    text.start();
    return text;
  }

  /**
   * The start banner: printed as it is in text, so people see it framed by blank lines; in JSON one
   * INFO event of {@code log} whose message is the banner's lines joined by {@code "; "}, with
   * {@code fields} as key-value pairs, so that every line of the output is JSON.
   */
  public static void banner(
      Format format,
      Consumer<String> print,
      org.slf4j.Logger log,
      String text,
      Map<String, ?> fields) {
    if (format == Format.TEXT) {
      print.accept(text);
      return;
    }
    LoggingEventBuilder e = log.atInfo();
    // The builder's contract is the returned builder, which need not be the same object.
    for (Map.Entry<String, ?> f : fields.entrySet()) {
      e = e.addKeyValue(f.getKey(), f.getValue());
    }
    e.log(
        text.lines()
            .map(String::strip)
            .filter(l -> !l.isEmpty())
            .collect(Collectors.joining("; ")));
  }
}
