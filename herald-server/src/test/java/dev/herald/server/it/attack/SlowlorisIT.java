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
