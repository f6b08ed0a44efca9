package dev.herald.app.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.server.logging.Logs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Captures one logger's lines as the JSON log format writes them (the production encoder), at INFO
 * and above whatever the test configuration says; {@link #close()} restores the logger.
 */
public final class LogCapture implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Logger logger;
  private final Level before;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();

  private LogCapture(String name) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    logger = context.getLogger(name);
    before = logger.getLevel();
    logger.setLevel(Level.INFO);
    appender.setContext(context);
    appender.setName("capture-" + name);
    appender.setEncoder(Logs.encoder(context, Logs.Format.JSON));
    appender.setOutputStream(out);
    appender.start();
    logger.addAppender(appender);
  }

  public static LogCapture of(String logger) {
    return new LogCapture(logger);
  }

  /** The lines written so far, each parsed (every line must be one JSON object). */
  public List<JsonNode> lines() {
    List<JsonNode> lines = new ArrayList<>();
    // ByteArrayOutputStream is synchronized: this reads whole lines the appender wrote.
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      try {
        lines.add(JSON.readTree(line));
      } catch (IOException e) {
        throw new UncheckedIOException("not a JSON log line: " + line, e);
      }
    }
    return lines;
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
    logger.setLevel(before);
  }
}
