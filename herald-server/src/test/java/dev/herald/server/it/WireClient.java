package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A minimal RFC 6455 client on a plain socket, for what the JDK client cannot do: invalid UTF-8 in
 * text frames, explicit fragmentation, control frames between fragments, hand-made handshake
 * headers. Blocking; every read times out after {@link RawClient#TIMEOUT}.
 */
public final class WireClient implements AutoCloseable {
  public static final int CONTINUATION = 0x0;
  public static final int TEXT = 0x1;
  public static final int CLOSE = 0x8;
  public static final int PING = 0x9;
  public static final int PONG = 0xA;
  private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String WS_PATH = "/connection/websocket";

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final Deque<JsonNode> messages = new ArrayDeque<>();
  private final ByteArrayOutputStream partialText = new ByteArrayOutputStream();
  public final int status;
  public final Map<String, String> headers = new HashMap<>(); // lower-case names
  public final String body;

  public record Frame(boolean fin, int opcode, byte[] payload) {}

  private WireClient(int port, String path, List<String> headerLines) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout((int) RawClient.TIMEOUT.toMillis());
    socket.setTcpNoDelay(true);
    in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
    out = socket.getOutputStream();
    StringBuilder req = new StringBuilder();
    req.append("GET ").append(path).append(" HTTP/1.1\r\n");
    req.append("Host: 127.0.0.1:").append(port).append("\r\n");
    for (String h : headerLines) {
      req.append(h).append("\r\n");
    }
    req.append("\r\n");
    out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    String statusLine = readLine();
    String[] parts = statusLine.split(" ", 3);
    status = Integer.parseInt(parts[1]);
    String line;
    while (!(line = readLine()).isEmpty()) {
      int colon = line.indexOf(':');
      headers.put(
          line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).trim());
    }
    if (status == 101) {
      body = "";
    } else {
      byte[] b = new byte[Integer.parseInt(headers.getOrDefault("content-length", "0"))];
      in.readFully(b);
      body = new String(b, StandardCharsets.UTF_8);
    }
  }

  /** Sends a GET with exactly these header lines (plus Host) and reads the response. */
  public static WireClient request(int port, String path, List<String> headerLines) {
    try {
      return new WireClient(port, path, headerLines);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A well-formed upgrade request offering {@code subprotocols} (null: none). */
  public static WireClient handshake(int port, String subprotocols, boolean allowRefusal) {
    String key = newKey();
    List<String> h = new ArrayList<>();
    h.add("Upgrade: websocket");
    h.add("Connection: Upgrade");
    h.add("Sec-WebSocket-Key: " + key);
    h.add("Sec-WebSocket-Version: 13");
    if (subprotocols != null) {
      h.add("Sec-WebSocket-Protocol: " + subprotocols);
    }
    WireClient c = request(port, WS_PATH, h);
    if (!allowRefusal) {
      assertThat(c.status).as("handshake status, body: %s", c.body).isEqualTo(101);
      assertThat(c.headers.get("sec-websocket-accept")).isEqualTo(accept(key));
    }
    return c;
  }

  /** An upgraded connection; fails unless the server answers 101. */
  public static WireClient upgrade(int port, String subprotocols) {
    WireClient c = handshake(port, subprotocols, false);
    if (subprotocols != null) {
      assertThat(c.headers.get("sec-websocket-protocol")).isEqualTo("herald.v1.json");
    }
    return c;
  }

  public static String newKey() {
    byte[] k = new byte[16];
    RANDOM.nextBytes(k);
    return Base64.getEncoder().encodeToString(k);
  }

  private static String accept(String key) {
    try {
      byte[] sha1 =
          MessageDigest.getInstance("SHA-1")
              .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(sha1);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sends connect with id 1 and checks the reply. */
  public void connect(String token) {
    JsonNode r = request(1, "{\"type\":\"connect\",\"id\":1,\"token\":\"" + token + "\"}");
    assertThat(r.has("result")).as("connect reply %s", r).isTrue();
  }

  public JsonNode request(long id, String json) {
    sendFrame(true, TEXT, json.getBytes(StandardCharsets.UTF_8));
    return awaitMessage(
        m -> m.path("type").asText().equals("reply") && m.path("id").asLong() == id);
  }

  /** Sends one masked frame, as a client must. */
  public void sendFrame(boolean fin, int opcode, byte[] payload) {
    sendRawFrame((fin ? 0x80 : 0) | opcode, true, payload);
  }

  /**
   * Sends a frame whose first byte (FIN, RSV1-3, opcode) is given as is, masked or not: for frames
   * that break the rules of RFC 6455.
   */
  public void sendRawFrame(int firstByte, boolean masked, byte[] payload) {
    ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 14);
    f.write(firstByte);
    int maskBit = masked ? 0x80 : 0;
    int len = payload.length;
    if (len < 126) {
      f.write(maskBit | len);
    } else if (len <= 0xFFFF) {
      f.write(maskBit | 126);
      f.write(len >>> 8);
      f.write(len & 0xFF);
    } else {
      f.write(maskBit | 127);
      ByteBuffer b = ByteBuffer.allocate(8).putLong(len);
      f.writeBytes(b.array());
    }
    if (masked) {
      byte[] mask = new byte[4];
      RANDOM.nextBytes(mask);
      f.writeBytes(mask);
      for (int i = 0; i < len; i++) {
        f.write(payload[i] ^ mask[i & 3]);
      }
    } else {
      f.writeBytes(payload);
    }
    try {
      out.write(f.toByteArray());
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Sends only the header of a masked frame announcing {@code length} payload bytes (none follow):
   * what a server can judge before any payload arrives.
   */
  public void sendFrameHeader(int firstByte, long length) {
    ByteBuffer h = ByteBuffer.allocate(14).put((byte) firstByte).put((byte) (0x80 | 127));
    h.putLong(length).putInt(RANDOM.nextInt());
    try {
      out.write(h.array());
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Frame readFrame() {
    try {
      int b0 = in.readUnsignedByte();
      int b1 = in.readUnsignedByte();
      long len = b1 & 0x7F;
      if (len == 126) {
        len = in.readUnsignedShort();
      } else if (len == 127) {
        len = in.readLong();
      }
      byte[] mask = null;
      if ((b1 & 0x80) != 0) {
        mask = new byte[4];
        in.readFully(mask);
      }
      byte[] payload = new byte[Math.toIntExact(len)];
      in.readFully(payload);
      if (mask != null) {
        for (int i = 0; i < payload.length; i++) {
          payload[i] ^= mask[i & 3];
        }
      }
      return new Frame((b0 & 0x80) != 0, b0 & 0x0F, payload);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads frames until one with this opcode; text messages read meanwhile are kept for {@link
   * #awaitMessage}. A close frame when waiting for something else fails.
   */
  public Frame awaitFrame(int opcode) {
    while (true) {
      Frame f = readNonClose(opcode);
      if (f.opcode() == opcode) {
        return f;
      }
    }
  }

  /** Returns the first received text message (split on LF) matching the predicate. */
  public JsonNode awaitMessage(Predicate<JsonNode> p) {
    while (true) {
      for (var it = messages.iterator(); it.hasNext(); ) {
        JsonNode m = it.next();
        if (p.test(m)) {
          it.remove();
          return m;
        }
      }
      readNonClose(TEXT);
    }
  }

  /** Reads one frame, keeping complete text messages; fails on a close frame. */
  private Frame readNonClose(int awaited) {
    Frame f = readFrame();
    if (f.opcode() == CLOSE) {
      throw new AssertionError(
          "closed with " + closeStatus(f) + " while waiting for opcode " + awaited);
    }
    if (f.opcode() == TEXT || f.opcode() == CONTINUATION) {
      partialText.writeBytes(f.payload());
      if (f.fin()) {
        for (String line : partialText.toString(StandardCharsets.UTF_8).split("\n")) {
          if (!line.isEmpty()) {
            messages.add(parse(line));
          }
        }
        partialText.reset();
      }
    }
    return f;
  }

  /** Reads until the server's close frame and returns its status code. */
  public int awaitClose() {
    while (true) {
      Frame f = readFrame();
      if (f.opcode() == CLOSE) {
        return closeStatus(f);
      }
    }
  }

  private static int closeStatus(Frame f) {
    return f.payload().length < 2 ? 1005 : ((f.payload()[0] & 0xFF) << 8) | (f.payload()[1] & 0xFF);
  }

  private static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new AssertionError("server sent invalid JSON: " + line, e);
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new IOException("connection closed in the HTTP response head");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // nothing to do
    }
  }
}
