package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A protocol client over the HTTP fallback transports (docs/protocol.md, "HTTP transports"), with
 * the same convenience API as {@link RawClient}.
 *
 * <ul>
 *   <li>{@link Kind#SSE}: {@code GET /connection/sse} read line by line; SSE events are parsed as
 *       the spec says (comments ignored, {@code data:} lines collected until a blank line, {@code
 *       event: session} names the session); every data line of an unnamed event is one protocol
 *       message.
 *   <li>{@link Kind#LONG_POLLING}: {@code POST /connection/poll} opens the session; a poll thread
 *       then loops on {@code GET /connection/poll/{session}?ack=N}, acknowledging each batch by its
 *       {@code X-Herald-Batch} number and keeping its ack on {@code 204}.
 * </ul>
 *
 * Commands go out as {@code POST /connection/send/{session}} with {@code text/plain}, one POST at a
 * time and in order (a single sender thread). Incoming messages are recorded; {@link #await} and
 * friends consume them like {@link RawClient} does. Pings are answered with a POSTed pong unless
 * {@link #autoPong(boolean)} turns it off.
 *
 * <p>Failure hooks: {@link #dropNextPollResponse()} reads the next poll response but pretends it
 * was lost (not processed, not acknowledged); {@link #close()} stops the stream or the polls
 * without telling the server, like a vanished browser tab.
 */
public final class HttpTransportClient implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Which HTTP transport carries the server-to-client half. */
  public enum Kind {
    SSE,
    LONG_POLLING
  }

  /** One poll response as received (long-polling only). */
  public record Batch(long number, String body, boolean dropped) {
    public List<String> lines() {
      List<String> out = new ArrayList<>();
      for (String l : body.split("\n")) {
        if (!l.isEmpty()) {
          out.add(l);
        }
      }
      return out;
    }
  }

  private final Kind kind;
  private final String baseUrl;
  // Where polls and command POSTs go, in turn: several nodes of a cluster behind a load balancer
  // without sticky sessions. Defaults to the opening node.
  private volatile List<String> requestBases;
  private final java.util.concurrent.atomic.AtomicInteger nextBase =
      new java.util.concurrent.atomic.AtomicInteger();
  private final Map<String, String> headers;
  private final HttpClient http;
  private final ExecutorService sender;
  private final Inbox inbox = new Inbox(TIMEOUT, this::describe);
  private final AtomicLong ids = new AtomicLong();
  private final CompletableFuture<JsonNode> disconnect = new CompletableFuture<>();
  private final CompletableFuture<String> ended = new CompletableFuture<>();
  private final List<String> rawLines = Collections.synchronizedList(new ArrayList<>());
  private final List<Batch> batches = Collections.synchronizedList(new ArrayList<>());
  private final List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean dropNext = new AtomicBoolean();
  private final AtomicLong pollsStarted = new AtomicLong();
  private volatile boolean autoPong = true;
  private volatile boolean closed;
  private volatile String session;
  private volatile JsonNode opened;
  private volatile HttpHeaders openHeaders;
  private volatile long ack;
  private volatile HttpHeaders lastPollHeaders;
  private volatile Stream<String> sseLines;
  private volatile CompletableFuture<?> currentPoll;
  private Thread reader;

  private HttpTransportClient(Kind kind, String baseUrl, Map<String, String> headers) {
    this.kind = kind;
    this.baseUrl = baseUrl;
    this.requestBases = List.of(baseUrl);
    this.headers = Map.copyOf(headers);
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(TIMEOUT)
            .build();
    this.sender =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "http-transport-sender");
              t.setDaemon(true);
              return t;
            });
  }

  // ---------------------------------------------------------------- opening

  /** Opens a session on the given transport (no connect message yet). */
  public static HttpTransportClient open(TestServer server, Kind kind) {
    return open(server.baseUrl(), kind, Map.of());
  }

  /** Opens a session with extra headers on the opening request (e.g. Origin, Cookie). */
  public static HttpTransportClient open(String baseUrl, Kind kind, Map<String, String> headers) {
    return start(new HttpTransportClient(kind, baseUrl, headers));
  }

  private static HttpTransportClient start(HttpTransportClient c) {
    try {
      if (c.kind == Kind.SSE) {
        c.openSse();
      } else {
        c.openPoll();
      }
    } catch (RuntimeException | Error e) {
      c.close();
      throw e;
    }
    return c;
  }

  /**
   * Opens a session at {@code baseUrl}, then sends every later poll and command POST to the next of
   * {@code requestBases} in turn (set before the first poll leaves, unlike {@link
   * #rotateRequestsOver}, whose first poll may still go to {@code baseUrl}).
   */
  public static HttpTransportClient openRotating(
      String baseUrl, Kind kind, List<String> requestBases) {
    HttpTransportClient c = new HttpTransportClient(kind, baseUrl, Map.of());
    c.requestBases = List.copyOf(requestBases);
    return start(c);
  }

  /** Opens, connects with the user's token and checks the reply. */
  public static HttpTransportClient connected(TestServer server, Kind kind, String user) {
    HttpTransportClient c = open(server, kind);
    JsonNode reply = c.request("{\"type\":\"connect\",\"token\":\"" + server.token(user) + "\"}");
    assertThat(reply.has("result")).as("connect reply %s", reply).isTrue();
    return c;
  }

  private void openSse() {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl + "/connection/sse"))
            .header("Accept", "text/event-stream")
            .GET();
    headers.forEach(b::header);
    HttpResponse<Stream<String>> res;
    try {
      res =
          http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofLines())
              .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("GET /connection/sse failed", e);
    }
    openHeaders = res.headers();
    if (res.statusCode() != 200) {
      res.body().close();
      throw new OpenRefused(res.statusCode(), res.headers().firstValue("X-Herald-Error"));
    }
    sseLines = res.body();
    CompletableFuture<JsonNode> sessionEvent = new CompletableFuture<>();
    reader = new Thread(() -> readSse(res.body(), sessionEvent), "sse-reader");
    reader.setDaemon(true);
    reader.start();
    try {
      opened = sessionEvent.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("no session event on the SSE stream; lines: " + rawLines(), e);
    }
    session = opened.path("session").asText();
  }

  private void openPoll() {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl + "/connection/poll"))
            .timeout(TIMEOUT)
            .POST(HttpRequest.BodyPublishers.noBody());
    headers.forEach(b::header);
    HttpResponse<String> res = sendSync(b.build());
    openHeaders = res.headers();
    if (res.statusCode() != 200) {
      throw new OpenRefused(res.statusCode(), res.headers().firstValue("X-Herald-Error"));
    }
    try {
      opened = JSON.readTree(res.body());
    } catch (IOException e) {
      throw new AssertionError("bad open response " + res.body(), e);
    }
    session = opened.path("session").asText();
    reader = new Thread(this::pollLoop, "long-poll-loop");
    reader.setDaemon(true);
    reader.start();
  }

  /** The opening request was refused with an HTTP status. */
  public static final class OpenRefused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    public final int status;
    public final String error;

    OpenRefused(int status, java.util.Optional<String> error) {
      super("refused with " + status + " " + error.orElse(""));
      this.status = status;
      this.error = error.orElse(null);
    }
  }

  // ---------------------------------------------------------------- SSE reading

  private void readSse(Stream<String> lines, CompletableFuture<JsonNode> sessionEvent) {
    String event = "";
    StringBuilder data = new StringBuilder();
    try {
      Iterator<String> it = lines.iterator();
      while (it.hasNext()) {
        String line = it.next();
        if (rawLines.size() < 50) {
          rawLines.add(line);
        }
        if (line.isEmpty()) {
          // dispatch (an event with an empty data buffer is not dispatched)
          if (data.length() > 0) {
            String d = data.substring(0, data.length() - 1); // drop the last LF
            if (event.equals("session")) {
              sessionEvent.complete(JSON.readTree(d));
            } else if (event.isEmpty() || event.equals("message")) {
              for (String m : d.split("\n")) {
                if (!m.isEmpty()) {
                  onLine(m);
                }
              }
            } else {
              errors.add(new AssertionError("unexpected SSE event '" + event + "': " + d));
            }
          }
          event = "";
          data.setLength(0);
          continue;
        }
        if (line.startsWith(":")) {
          continue; // comment
        }
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
          value = value.substring(1);
        }
        if (field.equals("event")) {
          event = value;
        } else if (field.equals("data")) {
          data.append(value).append('\n');
        }
        // id, retry and unknown fields: ignored
      }
      ended.complete("stream ended");
    } catch (Throwable e) {
      if (!closed) {
        errors.add(e);
      }
      ended.complete("stream failed: " + e);
    } finally {
      sessionEvent.completeExceptionally(new IllegalStateException("stream ended"));
    }
  }

  // ---------------------------------------------------------------- long-polling

  private void pollLoop() {
    String end = "poll loop stopped";
    try {
      while (!closed) {
        HttpRequest.Builder b =
            HttpRequest.newBuilder(
                    URI.create(requestBase() + "/connection/poll/" + session + "?ack=" + ack))
                .timeout(Duration.ofMinutes(2))
                .GET();
        HttpRequest req = withOrigin(b).build();
        pollsStarted.incrementAndGet();
        CompletableFuture<HttpResponse<String>> f =
            http.sendAsync(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        currentPoll = f;
        if (closed) {
          f.cancel(true);
          break;
        }
        HttpResponse<String> res = f.get();
        lastPollHeaders = res.headers();
        int status = res.statusCode();
        if (status == 204) {
          continue;
        }
        if (status != 200) {
          end = "poll answered " + status + " " + res.headers().firstValue("X-Herald-Error");
          break;
        }
        long number =
            Long.parseLong(
                res.headers()
                    .firstValue("X-Herald-Batch")
                    .orElseThrow(() -> new AssertionError("200 without X-Herald-Batch")));
        if (dropNext.compareAndSet(true, false)) {
          batches.add(new Batch(number, res.body(), true));
          continue; // lost on the way: not processed, not acknowledged
        }
        batches.add(new Batch(number, res.body(), false));
        ack = number;
        boolean last = false;
        for (String line : res.body().split("\n")) {
          if (!line.isEmpty()) {
            last |= onLine(line);
          }
        }
        if (last) {
          end = "disconnected";
          break; // the session ended: a client stops polling after a disconnect
        }
      }
    } catch (Throwable e) {
      if (!closed) {
        errors.add(e);
        end = "poll failed: " + e;
      }
    } finally {
      ended.complete(end);
    }
  }

  /** The next poll response is read but treated as lost: not processed and not acknowledged. */
  /**
   * Sends each later poll and command POST to the next of {@code bases} in turn, as a load balancer
   * without sticky sessions would.
   */
  public HttpTransportClient rotateRequestsOver(List<String> bases) {
    requestBases = List.copyOf(bases);
    return this;
  }

  private String requestBase() {
    List<String> b = requestBases;
    return b.get(Math.floorMod(nextBase.getAndIncrement(), b.size()));
  }

  public void dropNextPollResponse() {
    dropNext.set(true);
  }

  /** Every poll response so far (long-polling). */
  public List<Batch> batches() {
    synchronized (batches) {
      return new ArrayList<>(batches);
    }
  }

  /** The last batch number acknowledged (or to be acknowledged by the next poll). */
  public long ack() {
    return ack;
  }

  /** Number of polls issued so far. */
  public long pollsStarted() {
    return pollsStarted.get();
  }

  /**
   * Waits until the poll loop has issued a poll after everything received so far was processed,
   * i.e. a poll is on its way to (or parked at) the server.
   */
  public void awaitPollInFlight() {
    // The loop processes a batch completely before it starts the next poll, and publishes the new
    // poll's future only once it is sent: a pending future is a poll issued after the last batch.
    org.awaitility.Awaitility.await("a poll in flight")
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(2))
        .until(
            () -> {
              CompletableFuture<?> f = currentPoll;
              return f != null && !f.isDone();
            });
  }

  // ---------------------------------------------------------------- sending

  /** POSTs raw text to the send endpoint (in order after earlier sends); returns the response. */
  public HttpResponse<String> post(String text) {
    return postBytes(text.getBytes(StandardCharsets.UTF_8));
  }

  /** POSTs raw bytes to the send endpoint (in order after earlier sends). */
  public HttpResponse<String> postBytes(byte[] body) {
    Future<HttpResponse<String>> f = sender.submit(() -> doPost(body));
    try {
      return f.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("POST /connection/send failed", e);
    }
  }

  /** Sends messages and expects the server to take them (204). */
  public void send(String text) {
    HttpResponse<String> r = post(text);
    assertThat(r.statusCode())
        .as("POST /connection/send: %s %s", r.headers().firstValue("X-Herald-Error"), r.body())
        .isEqualTo(204);
  }

  private HttpResponse<String> doPost(byte[] body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(requestBase() + "/connection/send/" + session))
            .timeout(TIMEOUT)
            .header("Content-Type", "text/plain; charset=utf-8")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    return sendSync(withOrigin(b).build());
  }

  /** Like a browser, every request of a page carries its Origin. */
  private HttpRequest.Builder withOrigin(HttpRequest.Builder b) {
    String origin = headers.get("Origin");
    if (origin != null) {
      b.header("Origin", origin);
    }
    return b;
  }

  private HttpResponse<String> sendSync(HttpRequest req) {
    try {
      return http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  // ---------------------------------------------------------------- RawClient-like API

  public void autoPong(boolean v) {
    autoPong = v;
  }

  /** Sends a request (JSON object text without id) and waits for its reply. */
  public JsonNode request(String jsonWithoutId) {
    long id = ids.incrementAndGet() + 1000;
    String json = "{\"id\":" + id + "," + jsonWithoutId.substring(1);
    send(json);
    return await(m -> m.path("type").asText().equals("reply") && m.path("id").asLong() == id);
  }

  /** The client's state, for timeout messages. */
  private String describe() {
    return " (" + kind + ", ended: " + ended.getNow("no") + ", errors: " + errors + ")";
  }

  /** Waits for the next message matching the predicate; earlier non-matching ones stay recorded. */
  public JsonNode await(Predicate<JsonNode> p) {
    return inbox.await(p);
  }

  public JsonNode awaitType(String type) {
    return inbox.awaitType(type);
  }

  /** Collects the next n pub messages of a channel, in arrival order. */
  public List<JsonNode> pubs(String channel, int n) {
    return inbox.pubs(channel, n);
  }

  /** Messages received but not consumed yet that match, without waiting; they are consumed. */
  public List<JsonNode> takeReceived(Predicate<JsonNode> p) {
    return inbox.takeReceived(p);
  }

  /**
   * Waits for the server's {@code disconnect} message and for the transport to end (SSE stream
   * closed by the server; long-polling: the poll loop stops after the batch carrying it); returns
   * its code.
   */
  public int awaitDisconnect() {
    JsonNode d = disconnectMessage();
    awaitEnded();
    return d.path("code").asInt();
  }

  /** The disconnect message (waits for it). */
  public JsonNode disconnectMessage() {
    try {
      return disconnect.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("no disconnect within " + TIMEOUT + describe(), e);
    }
  }

  /** Waits until the stream or poll loop ended; returns why. */
  public String awaitEnded() {
    try {
      return ended.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("transport did not end within " + TIMEOUT + " (" + kind + ")", e);
    }
  }

  public boolean isEnded() {
    return ended.isDone();
  }

  public boolean isDisconnected() {
    return disconnect.isDone();
  }

  public Kind kind() {
    return kind;
  }

  /** The session id. */
  public String session() {
    return session;
  }

  /** The opening answer: the session event's data (SSE) or the POST response body. */
  public JsonNode opened() {
    return opened;
  }

  /** Headers of the opening response. */
  public HttpHeaders openHeaders() {
    return openHeaders;
  }

  /** Headers of the last poll response (long-polling). */
  public HttpHeaders lastPollHeaders() {
    return lastPollHeaders;
  }

  /** The first lines of the SSE stream as received (up to 50). */
  public List<String> rawLines() {
    synchronized (rawLines) {
      return new ArrayList<>(rawLines);
    }
  }

  /** Problems seen by the reader (unexpected events, failed polls). */
  public List<Throwable> errors() {
    synchronized (errors) {
      return new ArrayList<>(errors);
    }
  }

  /** Returns true if the line was a disconnect. */
  private boolean onLine(String line) {
    JsonNode m;
    try {
      m = JSON.readTree(line);
    } catch (Exception e) {
      throw new AssertionError("server sent invalid JSON: " + line, e);
    }
    String type = m.path("type").asText();
    if (autoPong && type.equals("ping") && !closed) {
      sender.execute(
          () -> {
            try {
              doPost("{\"type\":\"pong\"}".getBytes(StandardCharsets.UTF_8));
            } catch (RuntimeException e) {
              if (!closed && !disconnect.isDone()) {
                errors.add(e);
              }
            }
          });
    }
    inbox.add(m);
    if (type.equals("disconnect")) {
      disconnect.complete(m);
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- closing

  /**
   * Stops the stream or the polls without telling the server (as when a tab goes away): the SSE
   * response is cancelled, which closes its connection; an open poll is cancelled.
   */
  @Override
  public void close() {
    vanish();
  }

  /** Stops the stream or the polls without telling the server (same as {@link #close()}). */
  public void vanish() {
    closed = true;
    Stream<String> s = sseLines;
    if (s != null) {
      s.close();
    }
    CompletableFuture<?> p = currentPoll;
    if (p != null) {
      p.cancel(true);
    }
    if (reader != null) {
      reader.interrupt();
    }
    sender.shutdownNow();
  }
}
