package dev.herald.server.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy for tests that need to break the network between a client and a server: it
 * listens on a free port of 127.0.0.1 and forwards every connection to a target port, with two pump
 * threads per connection.
 *
 * <ul>
 *   <li>{@link #cutAll()} drops every current connection abruptly (TCP reset on both sides, no
 *       WebSocket close), as a failing network or a crashed load balancer would;
 *   <li>{@link #refuseNewConnections()} makes the proxy reset every new connection right after
 *       accepting it (the client sees its connection attempts fail at once) until {@link
 *       #acceptNewConnections()};
 *   <li>{@link #freeze()} stalls all forwarding, on current and new connections: sockets stay open
 *       but carry nothing (a dead peer, a stalled network) until {@link #unfreeze()}, when what was
 *       held back flows again;
 *   <li>{@link #cutWhenServerIdle(java.time.Duration)} makes it cut (reset) a new connection on
 *       which the server sent nothing for that long, as nginx's {@code proxy_read_timeout} does.
 * </ul>
 *
 * <p>Thread-safe. {@link #close()} stops the accept thread and cuts every connection, and returns
 * once all threads of the proxy have ended.
 */
public final class TcpProxy implements AutoCloseable {
  private static final long JOIN_TIMEOUT_MS = 5_000;

  private final InetSocketAddress target;
  private final ServerSocket listener;
  private final Thread acceptor;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();

  /** Every pump thread ever started, so that {@link #close()} can wait for all of them. */
  private final List<Thread> pumps = new CopyOnWriteArrayList<>();

  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger ids = new AtomicInteger();
  private volatile long lastToClientNanos;

  /** Guards {@link #frozen}; pump threads wait on it while frozen. */
  private final Object gate = new Object();

  private boolean frozen;
  private volatile boolean refusing;

  /** Cut a connection after this long without bytes from the server (0: never). */
  private volatile int serverIdleCutMs;

  private volatile boolean closed;

  private TcpProxy(int targetPort) throws IOException {
    this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor =
        new Thread(this::acceptLoop, "tcp-proxy-" + listener.getLocalPort() + "-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** A proxy on a free loopback port forwarding to {@code 127.0.0.1:targetPort}. */
  public static TcpProxy to(int targetPort) {
    try {
      return new TcpProxy(targetPort);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The port the proxy listens on. */
  public int port() {
    return listener.getLocalPort();
  }

  /** Connections forwarded so far (refused ones not included). */
  public int acceptedConnections() {
    return accepted.get();
  }

  /** Connections reset on arrival because of {@link #refuseNewConnections()}. */
  public int refusedConnections() {
    return refused.get();
  }

  /** Connections currently open (both directions not yet finished). */
  public int activeConnections() {
    return links.size();
  }

  /**
   * {@link System#nanoTime()} when bytes were last forwarded to a client (0 if never): with {@link
   * #freeze()}, the moment the client last heard from the server.
   */
  public long lastToClientNanos() {
    return lastToClientNanos;
  }

  /**
   * From now on, new connections are cut (reset on both sides, no WebSocket close) once the server
   * has sent nothing on them for {@code idle}: a proxy whose read timeout is shorter than the
   * server's heartbeat.
   */
  public void cutWhenServerIdle(java.time.Duration idle) {
    serverIdleCutMs = Math.toIntExact(idle.toMillis());
  }

  /** From now on, new connections are reset as soon as they are accepted. */
  public void refuseNewConnections() {
    refusing = true;
  }

  /** New connections are forwarded again. */
  public void acceptNewConnections() {
    refusing = false;
  }

  /** Stops forwarding bytes in both directions on every connection, current and new. */
  public void freeze() {
    synchronized (gate) {
      frozen = true;
    }
  }

  /** Resumes forwarding; bytes held back meanwhile are delivered. */
  public void unfreeze() {
    synchronized (gate) {
      frozen = false;
      gate.notifyAll();
    }
  }

  /**
   * Resets every current connection on both sides and waits until their pump threads have ended.
   * Returns how many connections were cut.
   */
  public int cutAll() {
    List<Link> current = new ArrayList<>(links);
    for (Link link : current) {
      link.cut();
    }
    for (Link link : current) {
      link.awaitEnd();
    }
    return current.size();
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    join(acceptor);
    cutAll();
    for (Thread t : pumps) {
      join(t);
    }
  }

  // ------------------------------------------------------------------ internals

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed (or broken, in which case the test sees its connections fail)
      }
      if (refusing || closed) {
        refused.incrementAndGet();
        reset(client);
        continue;
      }
      Socket upstream = new Socket();
      try {
        upstream.connect(target, (int) JOIN_TIMEOUT_MS);
      } catch (IOException e) {
        // The target is down: look like it to the client.
        reset(client);
        closeQuietly(upstream);
        continue;
      }
      accepted.incrementAndGet();
      Link link = new Link(ids.incrementAndGet(), client, upstream);
      links.add(link);
      link.start();
    }
  }

  /** Blocks while frozen; false when the link was cut meanwhile (stop pumping). */
  private boolean awaitFlowing(Link link) {
    synchronized (gate) {
      while (frozen && !link.dead && !closed) {
        try {
          gate.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return !link.dead;
    }
  }

  /** One proxied connection: client socket, upstream socket and a pump thread per direction. */
  private final class Link {
    private final Socket client;
    private final Socket upstream;
    private final Thread toServer;
    private final Thread toClient;
    private final AtomicInteger pumpsDone = new AtomicInteger();
    volatile boolean dead;

    Link(int id, Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
      String name = "tcp-proxy-" + port() + "-" + id;
      this.toServer = new Thread(() -> pump(client, upstream), name + "-c2s");
      this.toClient = new Thread(() -> pump(upstream, client), name + "-s2c");
      toServer.setDaemon(true);
      toClient.setDaemon(true);
    }

    void start() {
      try {
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        // A read from the server that times out ends in cut() below, like any other failure.
        upstream.setSoTimeout(serverIdleCutMs);
      } catch (IOException e) {
        cut();
      }
      pumps.add(toServer);
      pumps.add(toClient);
      toServer.start();
      toClient.start();
    }

    private void pump(Socket from, Socket to) {
      byte[] buf = new byte[16 * 1024];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (!awaitFlowing(this)) {
            return;
          }
          out.write(buf, 0, n);
          out.flush();
          if (to == client) {
            lastToClientNanos = System.nanoTime();
          }
        }
        // Orderly end of this direction: pass the FIN on (once forwarding is allowed).
        if (awaitFlowing(this)) {
          to.shutdownOutput();
        }
      } catch (IOException e) {
        // Reset or closed on one side: mirror it abruptly on the other.
        cut();
      } finally {
        if (pumpsDone.incrementAndGet() == 2) {
          closeQuietly(client);
          closeQuietly(upstream);
          links.remove(this);
        }
      }
    }

    void cut() {
      dead = true;
      reset(client);
      reset(upstream);
      synchronized (gate) {
        gate.notifyAll(); // release pumps waiting while frozen
      }
    }

    void awaitEnd() {
      join(toServer);
      join(toClient);
    }
  }

  /** Closes with SO_LINGER 0, which sends a TCP RST instead of a FIN. */
  private static void reset(Socket s) {
    try {
      s.setSoLinger(true, 0);
    } catch (IOException e) {
      // already closed
    }
    closeQuietly(s);
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // nothing to do
    }
  }

  private static void join(Thread t) {
    try {
      t.join(JOIN_TIMEOUT_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + t.getName(), e);
    }
    if (t.isAlive()) {
      throw new IllegalStateException(
          t.getName() + " did not stop within " + JOIN_TIMEOUT_MS + " ms");
    }
  }
}
