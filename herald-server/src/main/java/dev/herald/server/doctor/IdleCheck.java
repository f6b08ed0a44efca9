package dev.herald.server.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.server.doctor.IdleOutcome.Counts;
import dev.herald.server.doctor.WebSocketFrames.Frame;
import dev.herald.server.doctor.Wire.Head;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Holds connections idle, as a browser's sit between updates, and records how each hold ends: still
 * open, cut by something in between (no close frame, no {@code disconnect}, a proxy's 504), or
 * closed by Herald. Each hold runs on a thread of its own from the moment its probe succeeded, so
 * the time of a cut is measured, not inferred.
 *
 * <p>Without credentials the doctor's sessions never {@code connect}: nothing at all passes while
 * they are held, which shows the shortest idle timeout on the way, and Herald closes them after its
 * connect timeout ({@code 4004}). With a token or cookie they connect, Herald pings them as it
 * pings every client, and the doctor answers: the hold then shows exactly what a connected browser
 * sees.
 */
final class IdleCheck {
  private final Doctor.Http http;
  private final Doctor.Options options;
  private final SecureRandom random = new SecureRandom();

  IdleCheck(Doctor.Http http, Doctor.Options options) {
    this.http = http;
    this.options = options;
  }

  /** Whether the holds connect (a token or a cookie was given). */
  boolean connects() {
    return options.token() != null || options.cookie() != null;
  }

  private long idleMillis() {
    return options.idle().toMillis();
  }

  // ====================================================================== WebSocket

  /** Holds an upgraded WebSocket whose last data arrived at {@code lastNanos}. */
  CompletableFuture<IdleOutcome> webSocket(Wire w, long lastNanos) {
    return start("websocket", () -> holdWebSocket(w, lastNanos));
  }

  private IdleOutcome holdWebSocket(Wire w, long lastNanos) {
    long start = System.nanoTime();
    long last = lastNanos;
    Seen seen = new Seen();
    try (w) {
      if (connects()) {
        w.write(WebSocketFrames.text(connectMessage(), random));
      }
      w.deadlineAt(start + idleMillis() * 1_000_000L);
      InputStream in = w.input();
      while (true) {
        Frame f = WebSocketFrames.read(in);
        last = System.nanoTime();
        switch (f.opcode()) {
          case WebSocketFrames.CLOSE -> {
            return IdleOutcome.closed(
                ms(start, last), 0, seen.counts, f.closeCode(), f.closeReason().split(";", -1)[0]);
          }
          case WebSocketFrames.PING ->
              w.write(WebSocketFrames.masked(WebSocketFrames.PONG, f.payload(), random));
          case WebSocketFrames.TEXT -> {
            seen.read(
                f.text(),
                () ->
                    w.write(
                        WebSocketFrames.masked(WebSocketFrames.TEXT, Messages.PONG_BYTES, random)));
            if (seen.refusal != null) {
              return IdleOutcome.refused(ms(start, last), seen.refusal);
            }
          }
          default -> {
            // pongs and anything else: data, nothing to do
          }
        }
      }
    } catch (SocketTimeoutException e) {
      closeQuietly(w);
      return IdleOutcome.held(ms(start, System.nanoTime()), seen.counts);
    } catch (IOException e) {
      long now = System.nanoTime();
      return IdleOutcome.cut(ms(start, now), ms(last, now), seen.counts, null, "", dropped(e));
    }
  }

  private void closeQuietly(Wire w) {
    try {
      w.write(WebSocketFrames.close(random));
    } catch (IOException e) {
      // closing anyway
    }
  }

  // ====================================================================== SSE

  /** Holds an SSE stream (session {@code session}) whose last data arrived at {@code lastNanos}. */
  CompletableFuture<IdleOutcome> stream(Wire w, SseEvents events, String session, long lastNanos) {
    return start("sse", () -> holdStream(w, events, session, lastNanos));
  }

  private IdleOutcome holdStream(Wire w, SseEvents events, String session, long lastNanos) {
    long start = System.nanoTime();
    long last = lastNanos;
    Seen seen = new Seen();
    try (w) {
      if (connects()) {
        String refused = send(session, connectMessage());
        if (refused != null) {
          return IdleOutcome.refused(ms(start, System.nanoTime()), refused);
        }
      }
      w.deadlineAt(start + idleMillis() * 1_000_000L);
      while (true) {
        SseEvents.Event e = events.next();
        last = System.nanoTime();
        seen.read(e.data(), () -> send(session, Messages.PONG));
        if (seen.refusal != null) {
          return IdleOutcome.refused(ms(start, last), seen.refusal);
        }
      }
    } catch (SocketTimeoutException e) {
      return IdleOutcome.held(ms(start, System.nanoTime()), seen.counts);
    } catch (IOException e) {
      // The stream ends after Herald's disconnect event, if there was one.
      long now = System.nanoTime();
      if (seen.disconnectCode != 0) {
        return IdleOutcome.closed(
            ms(start, now), ms(last, now), seen.counts, seen.disconnectCode, seen.disconnectReason);
      }
      return IdleOutcome.cut(ms(start, now), ms(last, now), seen.counts, null, "", dropped(e));
    }
  }

  // ====================================================================== long-polling

  /**
   * Polls long-polling session {@code session} (its last batch was {@code ack}) as a client does.
   */
  CompletableFuture<IdleOutcome> polls(String session, long ack) {
    return start("long-polling", () -> holdPolls(session, ack));
  }

  private IdleOutcome holdPolls(String session, long firstAck) {
    long start = System.nanoTime();
    long end = start + idleMillis() * 1_000_000L;
    long ack = firstAck;
    Seen seen = new Seen();
    try {
      if (connects()) {
        String refused = send(session, connectMessage());
        if (refused != null) {
          return IdleOutcome.refused(ms(start, System.nanoTime()), refused);
        }
      }
      while (true) {
        long left = (end - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
          return IdleOutcome.held(ms(start, System.nanoTime()), seen.counts);
        }
        long pollStart = System.nanoTime();
        Doctor.Answer a;
        try {
          a = http.call("GET", http.pollPath() + "/" + session + "?ack=" + ack, null, left);
        } catch (SocketTimeoutException e) {
          return IdleOutcome.held(ms(start, System.nanoTime()), seen.counts);
        } catch (IOException e) {
          long now = System.nanoTime();
          return IdleOutcome.cut(
              ms(start, now), ms(pollStart, now), seen.counts, null, "", dropped(e));
        }
        long now = System.nanoTime();
        Head h = a.head();
        if (h.status() == 204) {
          seen.counts = seen.counts.emptyPoll(ms(pollStart, now));
          continue;
        }
        if (h.status() != 200 || h.heraldError() != null) {
          if (h.heraldError() != null) {
            return IdleOutcome.closed(
                ms(start, now), ms(pollStart, now), seen.counts, h.status(), h.heraldError());
          }
          return IdleOutcome.cut(
              ms(start, now),
              ms(pollStart, now),
              seen.counts,
              h,
              a.body(),
              "an answer from the proxy");
        }
        ack = batchOf(h, ack);
        seen.read(a.body(), () -> send(session, Messages.PONG));
        if (seen.refusal != null) {
          return IdleOutcome.refused(ms(start, now), seen.refusal);
        }
        if (seen.disconnectCode != 0) {
          return IdleOutcome.closed(
              ms(start, now),
              ms(pollStart, now),
              seen.counts,
              seen.disconnectCode,
              seen.disconnectReason);
        }
      }
    } finally {
      http.endPoll(session);
    }
  }

  private static long batchOf(Head h, long previous) {
    try {
      String b = h.header("X-Herald-Batch");
      return b == null ? previous : Long.parseLong(b.trim());
    } catch (NumberFormatException e) {
      return previous;
    }
  }

  // ====================================================================== shared

  /** Answers Herald's pings on a held session. */
  @FunctionalInterface
  private interface Pong<E extends Exception> {
    void send() throws E;
  }

  /** What a hold has read from Herald so far; owned by the hold's thread. */
  private static final class Seen {
    Counts counts = Counts.NONE;

    /** Why Herald refused the doctor's connect, or null. */
    @Nullable String refusal;

    /** Herald's disconnect message: its code (0 for none) and reason. */
    int disconnectCode;

    String disconnectReason = "";

    /** Reads a batch of messages, answering each ping with {@code pong}. */
    <E extends Exception> void read(String batch, Pong<E> pong) throws E {
      for (JsonNode m : Messages.batch(batch)) {
        String refused = Messages.connectRefusal(m);
        if (refused != null) {
          refusal = refused;
          return;
        }
        switch (m.path("type").asText()) {
          case "ping" -> {
            counts = counts.ping();
            pong.send();
          }
          case "disconnect" -> {
            disconnectCode = m.path("code").asInt();
            disconnectReason = m.path("reason").asText("");
          }
          default -> {
            // replies and anything else: data, nothing to do
          }
        }
      }
    }
  }

  private String connectMessage() {
    return Messages.connect(options.token(), Doctor.userAgent());
  }

  /** POSTs messages into an HTTP session; null when Herald took them, else what went wrong. */
  private @Nullable String send(String session, String message) {
    try {
      Doctor.Answer a =
          http.call(
              "POST", "/connection/send/" + session, message, options.responseTimeout().toMillis());
      if (a.head().status() == 204) {
        return null;
      }
      return "POST /connection/send/... answered "
          + a.head().status()
          + (a.head().heraldError() == null ? "" : " " + a.head().heraldError());
    } catch (IOException e) {
      return "POST /connection/send/... failed: " + e.getMessage();
    }
  }

  /** What a dropped connection looked like to the doctor. */
  private static String dropped(IOException e) {
    String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase(java.util.Locale.ROOT);
    if (m.contains("reset")) {
      return "the connection was reset";
    }
    return "the connection was closed without a word";
  }

  private static long ms(long fromNanos, long toNanos) {
    return (toNanos - fromNanos) / 1_000_000L;
  }

  private static CompletableFuture<IdleOutcome> start(String name, Supplier<IdleOutcome> hold) {
    CompletableFuture<IdleOutcome> f = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                f.complete(hold.get());
              } catch (RuntimeException e) {
                f.completeExceptionally(e);
              }
            },
            "herald-doctor-idle-" + name);
    t.setDaemon(true);
    t.start();
    return f;
  }
}
