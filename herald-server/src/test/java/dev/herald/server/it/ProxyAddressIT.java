package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Per-address limits behind a real nginx using the shipped proxy snippet (deploy/nginx), which
 * appends the client's address to {@code X-Forwarded-For}. Browsers are played by raw sockets bound
 * to different loopback source addresses (127.0.0.2, .3, ...), so nginx sees distinct clients.
 *
 * <p>With {@code server.trusted-proxies=127.0.0.1} each client address has its own quota on every
 * transport, and a client cannot escape its quota by sending its own {@code X-Forwarded-For};
 * without it, every client counts as the proxy.
 */
class ProxyAddressIT {
  private static final Path DEPLOY = Path.of("..", "deploy", "nginx").toAbsolutePath().normalize();
  private static final int LIMIT = 2;
  private static final int OPEN = 0;

  private static TestServer trusting;
  private static TestServer untrusting;
  private static Nginx nginx;
  private static int viaTrusting;
  private static int viaUntrusting;

  private final List<Socket> held = new ArrayList<>();

  @BeforeAll
  static void start() throws IOException {
    Map<String, String> config = TestServer.baseConfig();
    config.put("limits.connections-per-address", String.valueOf(LIMIT));
    config.put("connect.timeout", "60s");
    untrusting = TestServer.start(config);
    config.put("server.trusted-proxies", "127.0.0.1");
    trusting = TestServer.start(config);

    viaTrusting = Nginx.freePort();
    viaUntrusting = Nginx.freePort();
    Path dir = Nginx.newDirectory();
    Files.createDirectories(dir.resolve("snippets"));
    String snippet = Files.readString(DEPLOY.resolve("snippets/herald-proxy.conf"));
    assertThat(snippet).contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
    for (String name : List.of("trusting", "untrusting")) {
      Files.writeString(
          dir.resolve("snippets/" + name + ".conf"),
          snippet.replace("proxy_pass http://herald;", "proxy_pass http://" + name + ";"));
    }
    String http =
        """
        map $http_upgrade $connection_upgrade { default upgrade; '' close; }
        upstream trusting { server 127.0.0.1:%d; }
        upstream untrusting { server 127.0.0.1:%d; }
        server {
          listen 127.0.0.1:%d;
          location / { include snippets/trusting.conf; }
        }
        server {
          listen 127.0.0.1:%d;
          location / { include snippets/untrusting.conf; }
        }
        """
            .formatted(trusting.port(), untrusting.port(), viaTrusting, viaUntrusting);
    nginx = Nginx.start(dir, http, viaTrusting, viaUntrusting);
  }

  @AfterAll
  static void stop() {
    if (nginx != null) {
      nginx.close();
    }
    for (TestServer s : new TestServer[] {trusting, untrusting}) {
      if (s != null) {
        s.close();
      }
    }
  }

  @AfterEach
  void closeHeld() {
    for (Socket s : held) {
      try {
        s.close();
      } catch (IOException e) {
        // already closed
      }
    }
    held.clear();
  }

  @Test
  void behindATrustedProxyEachForwardedClientAddressHasItsOwnQuotaOnEveryTransport() {
    // 127.0.0.2 uses its quota over two transports
    assertThat(status(sse(viaTrusting, "127.0.0.2", null))).isEqualTo(200);
    assertThat(status(longPollOpen(viaTrusting, "127.0.0.2", null))).isEqualTo(200);

    // ... then is refused on every transport, also when it claims another address itself
    assertRefused429(sse(viaTrusting, "127.0.0.2", null));
    assertRefused429(longPollOpen(viaTrusting, "127.0.0.2", null));
    assertRefused429(sse(viaTrusting, "127.0.0.2", "198.51.100.7"));
    assertThat(webSocketCloseCode(viaTrusting, "127.0.0.2")).isEqualTo(4008);

    // other clients behind the same proxy are not affected
    assertThat(status(sse(viaTrusting, "127.0.0.3", null))).isEqualTo(200);
    assertThat(webSocketCloseCode(viaTrusting, "127.0.0.4")).isEqualTo(OPEN);
    assertThat(trusting.herald().hub().admitsAddress("127.0.0.2")).isFalse();
    assertThat(trusting.herald().hub().admitsAddress("127.0.0.1")).isTrue();
  }

  @Test
  void withoutTrustEveryClientCountsAsTheProxyAndForwardingHeadersAreIgnored() {
    assertThat(status(sse(viaUntrusting, "127.0.0.2", "198.51.100.7"))).isEqualTo(200);
    assertThat(status(sse(viaUntrusting, "127.0.0.3", "198.51.100.8"))).isEqualTo(200);
    assertRefused429(sse(viaUntrusting, "127.0.0.4", null));
    assertRefused429(longPollOpen(viaUntrusting, "127.0.0.5", "198.51.100.9"));
    assertThat(untrusting.herald().hub().admitsAddress("127.0.0.1")).isFalse();
  }

  // ============================================================================== raw HTTP

  private Socket sse(int port, String source, String xForwardedFor) {
    return send(
        port,
        source,
        "GET /connection/sse HTTP/1.1\r\nAccept: text/event-stream\r\n",
        xForwardedFor);
  }

  private Socket longPollOpen(int port, String source, String xForwardedFor) {
    return send(
        port, source, "POST /connection/poll HTTP/1.1\r\nContent-Length: 0\r\n", xForwardedFor);
  }

  /**
   * Opens a WebSocket from {@code source} without sending {@code connect}, then pings: returns the
   * close code if the server closes the socket first (4008 when the address is over its limit), or
   * {@link #OPEN} when the pong shows the socket was admitted and waits for {@code connect}.
   */
  private int webSocketCloseCode(int port, String source) {
    Socket s =
        send(
            port,
            source,
            "GET /connection/websocket HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            null);
    assertThat(status(s)).isEqualTo(101);
    try {
      InputStream in = s.getInputStream();
      // An admitted socket gets nothing before connect: a ping's pong shows it is open
      s.getOutputStream().write(new byte[] {(byte) 0x89, (byte) 0x80, 1, 2, 3, 4});
      s.getOutputStream().flush();
      while (true) {
        int op = in.read();
        if (op < 0) {
          throw new AssertionError("connection ended without a close frame");
        }
        int len = in.read() & 0x7f;
        byte[] payload = in.readNBytes(len == 126 ? (in.read() << 8 | in.read()) : len);
        if ((op & 0x0f) == 0x8) {
          return (payload[0] & 0xff) << 8 | (payload[1] & 0xff);
        }
        if ((op & 0x0f) == 0xA) {
          return OPEN;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Socket send(int port, String source, String head, String xForwardedFor) {
    try {
      Socket s = new Socket();
      held.add(s);
      s.setSoTimeout(20_000);
      s.bind(new InetSocketAddress(source, 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 20_000);
      String request =
          head
              + "Host: 127.0.0.1:"
              + port
              + "\r\n"
              + (xForwardedFor == null ? "" : "X-Forwarded-For: " + xForwardedFor + "\r\n")
              + "\r\n";
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void assertRefused429(Socket s) {
    String head = head(s);
    assertThat(head).startsWith("HTTP/1.1 429").containsIgnoringCase("too-many-connections");
  }

  private static int status(Socket s) {
    String head = head(s);
    return Integer.parseInt(head.substring(9, 12));
  }

  /** Reads the response's status line and headers. */
  private static String head(Socket s) {
    try {
      InputStream in = s.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int matched = 0;
      while (matched < 4) {
        int b = in.read();
        if (b < 0) {
          throw new AssertionError("response ended early: " + out);
        }
        out.write(b);
        matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      return out.toString(StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
