package dev.herald.server.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A relayed HTTP-fallback request (a node that does not hold the session sends it to the node that
 * does) over real sockets: the owner is a plain socket server that can drop connections, so each
 * failure is exact. Only an owner that left the registry makes a session unknown.
 */
class SessionRouterTest {
  private static final long HOLD_MS = 200;
  // Generous where the relay must succeed (a loaded machine may take seconds for a try), short
  // where the test waits for the budget to run out.
  private static final Duration AMPLE = Duration.ofSeconds(30);
  private static final Duration SHORT = Duration.ofMillis(600);

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final List<FakeOwner> owners = new CopyOnWriteArrayList<>();
  private final AtomicInteger lookups = new AtomicInteger();
  private int port;

  @AfterEach
  void stop() throws Exception {
    for (FakeOwner o : owners) {
      o.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aPollWhoseConnectionClosesUnderItIsRetriedOnAFreshConnection() throws Exception {
    FakeOwner owner = owner(1); // the first connection is closed with the request unanswered
    front(node -> registered(owner.url()), AMPLE);

    HttpResponse<String> res = get("/connection/poll/n2.abc?ack=3");

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).isEqualTo("ok");
    assertThat(res.headers().firstValue("X-Herald-Batch")).contains("4");
    assertThat(owner.requests()).hasSize(2).allMatch(r -> r.startsWith("GET /connection/poll"));
    assertThat(owner.requests().get(1)).contains("x-herald-routed-from: n1");
  }

  @Test
  void aPollForARegisteredOwnerThatDoesNotAnswerGetsNothingNewNotSessionUnknown() throws Exception {
    String nobody = "http://127.0.0.1:" + freePort();
    front(node -> registered(nobody), SHORT);

    HttpResponse<String> res = get("/connection/poll/n2.abc?ack=3");

    assertThat(res.statusCode()).isEqualTo(204);
    assertThat(res.headers().firstValue("X-Herald-Error")).isEmpty();
    assertThat(lookups.get()).as("looked up again before answering").isGreaterThanOrEqualTo(2);
  }

  @Test
  void aCommandPostThatMayHaveReachedTheOwnerIsNotSentTwice() throws Exception {
    FakeOwner owner = owner(Integer.MAX_VALUE); // reads each request, never answers
    front(node -> registered(owner.url()), SHORT);

    HttpResponse<String> res = post("/connection/send/n2.abc", "{\"id\":1,\"publish\":{}}");

    assertThat(res.statusCode()).isEqualTo(503);
    assertThat(res.headers().firstValue("X-Herald-Error")).contains("node-unreachable");
    assertThat(res.headers().firstValue("Retry-After")).isPresent();
    assertThat(owner.requests()).hasSize(1);
  }

  @Test
  void aCommandPostIsSentAgainWhenTheOwnersConnectionNeverOpened() throws Exception {
    int restarting = freePort();
    FakeOwner[] later = new FakeOwner[1];
    front(
        node -> {
          if (lookups.get() == 2) { // the owner is listening again from the second try on
            later[0] = owner(0, restarting);
          }
          return registered("http://127.0.0.1:" + restarting);
        },
        AMPLE);

    HttpResponse<String> res = post("/connection/send/n2.abc", "{\"id\":1}");

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(later[0].requests()).hasSize(1);
    assertThat(later[0].requests().get(0))
        .startsWith("POST /connection/send")
        .endsWith("{\"id\":1}");
  }

  @Test
  void anOwnerThatLeftTheRegistryMakesItsSessionsUnknown() throws Exception {
    String nobody = "http://127.0.0.1:" + freePort();
    front(node -> lookups.get() == 1 ? registered(nobody) : gone(), SHORT);

    HttpResponse<String> res = get("/connection/poll/n2.abc?ack=3");

    assertThat(res.statusCode()).isEqualTo(404);
    assertThat(res.headers().firstValue("X-Herald-Error")).contains("session-unknown");
  }

  @Test
  void idleRelayConnectionsAreDroppedBeforeTheOwnerClosesThem() {
    assertThat(SessionRouter.keepAliveSeconds(Duration.ofSeconds(10))).isEqualTo(5);
    assertThat(SessionRouter.keepAliveSeconds(Duration.ofMillis(3500))).isEqualTo(1);
    // Under a second the pool cannot go below the owner's timeout: no keep-alive at all.
    assertThat(SessionRouter.keepAliveSeconds(Duration.ofMillis(1500))).isZero();
  }

  // ------------------------------------------------------------------ fixtures

  private static CompletableFuture<Optional<String>> registered(String url) {
    return CompletableFuture.completedFuture(Optional.of(url));
  }

  private static CompletableFuture<Optional<String>> gone() {
    return CompletableFuture.completedFuture(Optional.empty());
  }

  /** The node that received the request ("n1"), routing sessions of "n2" with the lookup given. */
  private void front(
      Function<String, CompletableFuture<Optional<String>>> lookup, Duration routeTimeout)
      throws Exception {
    SessionRouter r =
        new SessionRouter(
            vertx,
            "n1",
            node -> {
              lookups.incrementAndGet();
              return lookup.apply(node);
            },
            routeTimeout,
            Duration.ofSeconds(10));
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create(false));
    router
        .route("/connection/:kind/:session")
        .handler(
            ctx ->
                r.forward(
                    ctx,
                    SessionRouter.owner(ctx.pathParam("session")),
                    HOLD_MS,
                    () ->
                        FallbackEndpoints.refuse(
                            ctx, 404, "session-unknown", "No such session on this server")));
    HttpServer server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    port = server.actualPort();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private FakeOwner owner(int dropFirst) {
    return owner(dropFirst, 0);
  }

  private FakeOwner owner(int dropFirst, int port) {
    try {
      FakeOwner o = new FakeOwner(dropFirst, port);
      owners.add(o);
      return o;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The owning node, as a socket server: it reads each request in full; the first {@code dropFirst}
   * connections are then closed unanswered (the request may or may not have been taken), later ones
   * get {@code 200 ok} with the next batch number.
   */
  private static final class FakeOwner implements AutoCloseable {
    private final ServerSocket socket;
    private final int dropFirst;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final Thread thread;

    FakeOwner(int dropFirst, int port) throws IOException {
      this.dropFirst = dropFirst;
      this.socket = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
      this.thread = new Thread(this::serve, "fake-owner");
      thread.setDaemon(true);
      thread.start();
    }

    String url() {
      return "http://127.0.0.1:" + socket.getLocalPort();
    }

    List<String> requests() {
      return requests;
    }

    private void serve() {
      int n = 0;
      while (!socket.isClosed()) {
        try (Socket s = socket.accept()) {
          String request = read(s.getInputStream());
          requests.add(request);
          if (n++ < dropFirst) {
            continue; // closed unanswered
          }
          OutputStream out = s.getOutputStream();
          out.write(
              ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Herald-Batch: 4\r\n"
                      + "Connection: close\r\n\r\nok")
                  .getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          // closed by the test
        }
      }
    }

    /** One request: its request line and headers (lower-cased names) and its body. */
    private static String read(InputStream in) throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      int state = 0;
      while (state < 4) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("request cut short");
        }
        head.write(b);
        state = (b == '\r' && state % 2 == 0) || (b == '\n' && state % 2 == 1) ? state + 1 : 0;
      }
      String text = head.toString(StandardCharsets.ISO_8859_1);
      StringBuilder normalised = new StringBuilder();
      int length = 0;
      for (String line : text.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && normalised.length() > 0) {
          String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
          normalised.append(name).append(line.substring(colon)).append('\n');
          if (name.equals("content-length")) {
            length = Integer.parseInt(line.substring(colon + 1).trim());
          }
        } else {
          normalised.append(line).append('\n');
        }
      }
      byte[] body = in.readNBytes(length);
      return normalised.append(new String(body, StandardCharsets.UTF_8)).toString();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
