package dev.herald.server.it.attack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.server.it.TestServer;
import dev.herald.server.it.WireClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Slowloris-style attacks on raw TCP sockets: requests whose headers or body never complete, and
 * WebSocket handshakes that never send {@code connect}. The server closes them after {@code
 * server.request-timeout} / {@code connect.timeout}, keeps serving everyone else meanwhile, and a
 * bystander keeps receiving.
 */
class SlowlorisIT {
  private static TestServer start() {
    Map<String, String> cfg = TestServer.baseConfig();
    cfg.put("server.request-timeout", "1s");
    cfg.put("connect.timeout", "1s");
    return TestServer.start(cfg);
  }

  private static Socket open(TestServer srv, String partialRequest) {
    try {
      Socket s = new Socket("127.0.0.1", srv.port());
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      out.write(partialRequest.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads until the server closes the connection; fails if it stays open for 20 s. */
  private static void assertClosedByServer(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      while (in.read(buf) >= 0) {
        // drain whatever the server says before closing
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("server kept a half-open request open for 20 s", e);
    } catch (IOException e) {
      // connection reset also counts as closed
    }
  }

  @Test
  void requestsWhoseHeadersNeverCompleteAreClosed() {
    try (TestServer srv = start();
        Bystander bystander = Bystander.start(srv)) {
      List<Socket> sockets = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        sockets.add(
            open(
                srv,
                i % 2 == 0
                    ? "GET /connection/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    : "GET /health/li"));
      }
      // Served normally while the half-open requests wait.
      assertThat(srv.get("/health/live", Map.of()).statusCode()).isEqualTo(200);
      sockets.forEach(SlowlorisIT::assertClosedByServer);
      bystander.assertEverythingArrived();
      assertThat(srv.get("/health/live", Map.of()).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aKeptAliveConnectionWhoseNextRequestTricklesItsHeadersIsClosed() throws IOException {
    ScheduledExecutorService trickler = Executors.newSingleThreadScheduledExecutor();
    try (TestServer srv = start();
        Bystander bystander = Bystander.start(srv);
        Socket s = open(srv, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) {
      // The first request is complete and answered; the connection stays open (keep-alive).
      String first = readResponse(s.getInputStream());
      assertThat(first).startsWith("HTTP/1.1 200");
      assertThat(first.toLowerCase(java.util.Locale.ROOT)).doesNotContain("connection: close");
      // The second request's headers arrive one byte every 200 ms: never idle, never complete.
      OutputStream out = s.getOutputStream();
      byte[] trickle =
          "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaa"
              .repeat(4)
              .getBytes(StandardCharsets.US_ASCII);
      int[] sent = {0};
      trickler.scheduleAtFixedRate(
          () -> {
            try {
              if (sent[0] < trickle.length) {
                out.write(trickle[sent[0]++]);
                out.flush();
              }
            } catch (IOException e) {
              // closed by the server: the point of the test
            }
          },
          0,
          200,
          TimeUnit.MILLISECONDS);
      assertClosedByServer(s);
      assertThat(sent[0]).as("closed before the trickle ran out").isLessThan(trickle.length);
      bystander.assertEverythingArrived();
      assertThat(srv.get("/health/live", Map.of()).statusCode()).isEqualTo(200);
    } finally {
      trickler.shutdownNow();
    }
  }

  /** Reads one response with a Content-Length body from a kept-alive connection. */
  private static String readResponse(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new AssertionError("connection closed after " + head);
      }
      head.append((char) b);
    }
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    return head + new String(in.readNBytes(length), StandardCharsets.US_ASCII);
  }

  @Test
  void requestBodiesThatNeverCompleteAreClosed() {
    try (TestServer srv = start();
        Bystander bystander = Bystander.start(srv)) {
      List<Socket> sockets = new ArrayList<>();
      for (String path : List.of("/api/v1/publish", "/connection/send/x", "/connection/report")) {
        sockets.add(
            open(
                srv,
                "POST "
                    + path
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n{\"channel\":"));
      }
      sockets.forEach(SlowlorisIT::assertClosedByServer);
      bystander.assertEverythingArrived();
    }
  }

  @Test
  void webSocketsThatNeverSendConnectAreClosedWith4004() {
    try (TestServer srv = start();
        Bystander bystander = Bystander.start(srv)) {
      List<WireClient> idle = new ArrayList<>();
      try {
        for (int i = 0; i < 20; i++) {
          idle.add(WireClient.upgrade(srv.port(), "herald.v1.json"));
        }
        for (WireClient c : idle) {
          assertThat(c.awaitClose()).isEqualTo(4004);
        }
      } finally {
        idle.forEach(WireClient::close);
      }
      bystander.assertEverythingArrived();
    }
  }
}
