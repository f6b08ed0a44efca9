package dev.herald.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Publishes at a fixed rate over one pipelined HTTP/1.1 keep-alive connection. Each message carries
 * its sequence number and its <em>scheduled</em> send time, so a publisher that falls behind (or a
 * server that answers late) shows up as latency rather than hiding it (no coordinated omission).
 * The server closes a kept-alive connection that stays quiet (server.request-timeout), as it does
 * between the soak's windows: each run opens a new connection when the last one was closed.
 */
final class Publisher implements Source {
  private final Target target;
  private Socket socket;
  private OutputStream out;
  final AtomicLong answered = new AtomicLong();
  final AtomicLong refused = new AtomicLong();
  volatile @Nullable String firstRefusal;

  /** Largest delay between a message's scheduled and actual send time, in microseconds. */
  private long maxLagMicros;

  Publisher(Target target) throws IOException {
    this.target = target;
    socket = connect();
    out = socket.getOutputStream();
  }

  /** A connection, with a thread that counts its responses and closes it when the server does. */
  private Socket connect() throws IOException {
    Socket s = new Socket();
    s.setTcpNoDelay(true);
    s.connect(new InetSocketAddress(target.host(), target.port()), 10_000);
    Thread reader = new Thread(() -> readResponses(s), "publisher-responses");
    reader.setDaemon(true);
    reader.start();
    return s;
  }

  @Override
  public long answered() {
    return answered.get();
  }

  @Override
  public long refused() {
    return refused.get();
  }

  @Override
  public @Nullable String firstRefusal() {
    return firstRefusal;
  }

  @Override
  public long maxLagMicros() {
    return maxLagMicros;
  }

  @Override
  public void resetLag() {
    maxLagMicros = 0;
  }

  @Override
  public void run(long firstSeq, long count, double rate) throws IOException {
    if (socket.isClosed()) {
      socket = connect();
      out = socket.getOutputStream();
    }
    long start = System.nanoTime();
    double interval = 1e9 / rate;
    for (long i = 0; i < count; i++) {
      long due = start + (long) (i * interval);
      long now;
      while ((now = System.nanoTime()) < due) {
        LockSupport.parkNanos(Math.min(due - now, 1_000_000));
      }
      maxLagMicros = Math.max(maxLagMicros, (now - due) / 1000);
      out.write(target.request(firstSeq + i, due));
      out.flush();
    }
  }

  private void readResponses(Socket s) {
    try (InputStream in = new BufferedInputStream(s.getInputStream())) {
      StringBuilder head = new StringBuilder();
      while (true) {
        head.setLength(0);
        int c;
        while ((c = in.read()) >= 0) {
          head.append((char) c);
          if (head.length() >= 4 && head.lastIndexOf("\r\n\r\n") == head.length() - 4) {
            break;
          }
        }
        if (c < 0) {
          return;
        }
        String h = head.toString();
        int status = Integer.parseInt(h.substring(9, 12));
        long length = HttpParser.header(h.toLowerCase(java.util.Locale.ROOT), "content-length");
        byte[] body = length > 0 ? in.readNBytes((int) length) : new byte[0];
        if (status >= 300) {
          if (refused.getAndIncrement() == 0) {
            firstRefusal = status + " " + new String(body, StandardCharsets.UTF_8);
          }
        }
        answered.incrementAndGet();
      }
    } catch (IOException | RuntimeException e) {
      // closed
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  /**
   * Where and how to publish. With {@code rooms} above 0, publication {@code seq} goes to channel
   * {@code <channel><seq mod rooms>} with sequence number {@code seq / rooms} (each room counts on
   * its own, so a subscriber of one room sees consecutive numbers).
   */
  record Target(
      String host,
      int port,
      String path,
      @Nullable String apiKey,
      @Nullable String channel,
      int rooms) {
    Target(String host, int port, String path, @Nullable String apiKey, @Nullable String channel) {
      this(host, port, path, apiKey, channel, 0);
    }

    Target inRooms(String prefix, int count) {
      return new Target(host, port, path, apiKey, prefix, count);
    }

    byte[] request(long seq, long sentNanos) {
      String ch = rooms > 0 ? channel + (seq % rooms) : channel;
      String data = Source.data(rooms > 0 ? seq / rooms : seq, sentNanos);
      String body = ch == null ? data : "{\"channel\":\"" + ch + "\",\"data\":" + data + "}";
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      String head =
          "POST "
              + path
              + " HTTP/1.1\r\nHost: "
              + host
              + ":"
              + port
              + "\r\nContent-Type: application/json\r\n"
              + (apiKey == null ? "" : "Authorization: Bearer " + apiKey + "\r\n")
              + "Content-Length: "
              + b.length
              + "\r\n\r\n";
      byte[] h = head.getBytes(StandardCharsets.US_ASCII);
      byte[] all = new byte[h.length + b.length];
      System.arraycopy(h, 0, all, 0, h.length);
      System.arraycopy(b, 0, all, h.length, b.length);
      return all;
    }
  }
}
