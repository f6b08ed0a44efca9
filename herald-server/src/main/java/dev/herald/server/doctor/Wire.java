package dev.herald.server.doctor;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP/1.1 connection over a plain or TLS socket, written by hand so the doctor sees exactly
 * what comes back (status line and headers of any answer, also to an upgrade request) and controls
 * every wait: each read honours the current deadline.
 */
final class Wire implements Closeable {
  /** Status line and headers of a response. */
  record Head(String version, int status, String reason, List<Map.Entry<String, String>> headers) {
    /** The first value of a header, or null. */
    @Nullable String header(String name) {
      for (Map.Entry<String, String> h : headers) {
        if (h.getKey().equalsIgnoreCase(name)) {
          return h.getValue();
        }
      }
      return null;
    }

    /** The media type of Content-Type, lower case without parameters ("" when absent). */
    String mediaType() {
      String ct = header("Content-Type");
      if (ct == null) {
        return "";
      }
      int semi = ct.indexOf(';');
      return (semi < 0 ? ct : ct.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }

    /** {@code X-Herald-Error}, or null when Herald did not refuse (or did not answer). */
    @Nullable String heraldError() {
      return header("X-Herald-Error");
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private long deadline = Long.MAX_VALUE;

  private Wire(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(new DeadlineInput(socket.getInputStream()), 8192);
    this.out = socket.getOutputStream();
  }

  /** Opens a connection (and the TLS session for https) within the connect timeout. */
  static Wire connect(Target target, Doctor.Options options) throws IOException {
    Socket s = new Socket();
    try {
      int timeout = (int) options.connectTimeout().toMillis();
      s.connect(new InetSocketAddress(target.connectHost(), target.port()), timeout);
      s.setTcpNoDelay(true);
      if (target.tls()) {
        SSLContext context = options.sslContext();
        if (context == null) {
          try {
            context = SSLContext.getDefault();
          } catch (NoSuchAlgorithmException e) {
            throw new IOException("no TLS implementation: " + e.getMessage(), e);
          }
        }
        SSLSocket ssl =
            (SSLSocket)
                context
                    .getSocketFactory()
                    .createSocket(s, target.connectHost(), target.port(), true);
        SSLParameters p = ssl.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        if (!isAddressLiteral(target.connectHost())) {
          p.setServerNames(List.of(new SNIHostName(target.connectHost())));
        }
        ssl.setSSLParameters(p);
        ssl.setSoTimeout(timeout);
        try {
          ssl.startHandshake();
        } catch (SocketTimeoutException e) {
          throw new SSLException(
              "the TLS handshake got no answer within " + Explain.seconds(timeout), e);
        }
        return new Wire(ssl);
      }
      return new Wire(s);
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /** Every read from now on must complete within {@code millis} from now. */
  void deadlineIn(long millis) {
    deadline = System.nanoTime() + millis * 1_000_000L;
  }

  /** Every read from now on must complete before {@code nanos} ({@link System#nanoTime()}). */
  void deadlineAt(long nanos) {
    deadline = nanos;
  }

  /** Milliseconds left before the deadline (at least 0). */
  long remainingMillis() {
    return Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
  }

  /**
   * Writes a request: request line, Host, the given headers, Content-Length when there is a body.
   */
  void request(
      String method, String path, Target target, List<String[]> headers, byte @Nullable [] body)
      throws IOException {
    StringBuilder b = new StringBuilder();
    b.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
    b.append("Host: ").append(target.hostHeader()).append("\r\n");
    for (String[] h : headers) {
      b.append(h[0]).append(": ").append(h[1]).append("\r\n");
    }
    if (body != null) {
      b.append("Content-Length: ").append(body.length).append("\r\n");
    }
    b.append("\r\n");
    out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (body != null) {
      out.write(body);
    }
    out.flush();
  }

  /** Writes raw bytes (WebSocket frames). */
  void write(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /**
   * Reads a status line and headers. Interim 1xx answers other than 101 are skipped. Throws {@link
   * EOFException} when the connection ends before a status line.
   */
  Head readHead() throws IOException {
    while (true) {
      String status = readLine();
      if (status == null) {
        throw new EOFException("the connection was closed before an answer arrived");
      }
      if (status.isEmpty()) {
        continue;
      }
      String[] parts = status.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
        throw new IOException("not an HTTP answer: '" + clip(status, 80) + "'");
      }
      int code;
      try {
        code = Integer.parseInt(parts[1]);
      } catch (NumberFormatException e) {
        throw new IOException("not an HTTP answer: '" + clip(status, 80) + "'");
      }
      List<Map.Entry<String, String>> headers = new ArrayList<>();
      while (true) {
        String line = readLine();
        if (line == null) {
          throw new EOFException("the connection was closed in the middle of the answer's headers");
        }
        if (line.isEmpty()) {
          break;
        }
        int colon = line.indexOf(':');
        if (colon > 0) {
          headers.add(Map.entry(line.substring(0, colon).trim(), line.substring(colon + 1).trim()));
        }
      }
      if (code >= 100 && code < 200 && code != 101) {
        continue;
      }
      return new Head(parts[0], code, parts.length > 2 ? parts[2] : "", List.copyOf(headers));
    }
  }

  /**
   * The body of a response: chunked, by length, or up to the end of the connection. {@code head}
   * answers to HEAD requests and 1xx/204/304 have none.
   */
  InputStream body(Head head) {
    if (head.status() == 204 || head.status() == 304 || head.status() < 200) {
      return InputStream.nullInputStream();
    }
    String te = head.header("Transfer-Encoding");
    if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
      return new ChunkedInput(in);
    }
    String cl = head.header("Content-Length");
    if (cl != null) {
      try {
        return new LimitedInput(in, Long.parseLong(cl.trim()));
      } catch (NumberFormatException e) {
        // fall through: read to the end
      }
    }
    return in;
  }

  /** Reads up to {@code max} bytes of the body (what is there before the deadline or the end). */
  String bodyText(Head head, int max) {
    InputStream b = body(head);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[1024];
    try {
      while (out.size() < max) {
        int n = b.read(buf, 0, Math.min(buf.length, max - out.size()));
        if (n < 0) {
          break;
        }
        out.write(buf, 0, n);
      }
    } catch (IOException e) {
      // keep what arrived
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The raw input (for WebSocket frames after a 101). */
  InputStream input() {
    return in;
  }

  /** A line of ISO-8859-1 text up to LF (CR removed), or null at the end of the stream. */
  @Nullable String readLine() throws IOException {
    return readLine(in);
  }

  static @Nullable String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(80);
    while (true) {
      int c = in.read();
      if (c < 0) {
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
      }
      if (c == '\n') {
        break;
      }
      if (line.size() > 65_536) {
        throw new IOException("line too long");
      }
      line.write(c);
    }
    byte[] b = line.toByteArray();
    int n = b.length > 0 && b[b.length - 1] == '\r' ? b.length - 1 : b.length;
    return new String(b, 0, n, StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // nothing to do
    }
  }

  static String clip(String s, int max) {
    String t = s.replaceAll("\\s+", " ").trim();
    return t.length() <= max ? t : t.substring(0, max) + "...";
  }

  private static boolean isAddressLiteral(String host) {
    return host.contains(":") || host.matches("[0-9.]+");
  }

  /** Sets the socket timeout to what is left before the deadline before every read. */
  private final class DeadlineInput extends InputStream {
    private final InputStream raw;

    DeadlineInput(InputStream raw) {
      this.raw = raw;
    }

    private void arm() throws IOException {
      if (deadline == Long.MAX_VALUE) {
        socket.setSoTimeout(0);
        return;
      }
      long left = (deadline - System.nanoTime()) / 1_000_000L;
      if (left <= 0) {
        throw new SocketTimeoutException("deadline passed");
      }
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
    }

    @Override
    public int read() throws IOException {
      arm();
      return raw.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      arm();
      return raw.read(b, off, len);
    }
  }

  /** A body of known length. */
  private static final class LimitedInput extends InputStream {
    private final InputStream in;
    private long left;

    LimitedInput(InputStream in, long length) {
      this.in = in;
      this.left = length;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int c = in.read();
      if (c >= 0) {
        left--;
      }
      return c;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n > 0) {
        left -= n;
      }
      return n;
    }
  }

  /** Decodes {@code Transfer-Encoding: chunked}. */
  private static final class ChunkedInput extends InputStream {
    private final InputStream in;
    private long left;
    private boolean done;

    ChunkedInput(InputStream in) {
      this.in = in;
    }

    private boolean next() throws IOException {
      if (done) {
        return false;
      }
      if (left > 0) {
        return true;
      }
      String size = readLine(in);
      if (size != null && size.isEmpty()) {
        size = readLine(in); // CRLF after the previous chunk
      }
      if (size == null) {
        throw new EOFException("the stream ended in the middle of a chunked body");
      }
      int semi = size.indexOf(';');
      try {
        left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
      } catch (NumberFormatException e) {
        throw new IOException("bad chunk size '" + clip(size, 40) + "'");
      }
      if (left == 0) {
        done = true;
        String trailer;
        do {
          trailer = readLine(in);
        } while (trailer != null && !trailer.isEmpty());
        return false;
      }
      return true;
    }

    @Override
    public int read() throws IOException {
      if (!next()) {
        return -1;
      }
      int c = in.read();
      if (c < 0) {
        throw new EOFException("the stream ended in the middle of a chunk");
      }
      left--;
      return c;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (!next()) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new EOFException("the stream ended in the middle of a chunk");
      }
      left -= n;
      return n;
    }
  }
}
