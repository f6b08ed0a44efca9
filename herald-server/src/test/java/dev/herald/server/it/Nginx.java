package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A real nginx for tests, isolated in a temporary directory: its own nginx.conf, pid file, error
 * and access logs and temp paths, listening only on loopback ports the test chose. It runs in the
 * foreground ({@code daemon off}) as a child process; {@link #close()} stops the master by the PID
 * from its pid file (SIGTERM, then SIGKILL if it does not exit) and removes the directory.
 *
 * <p>The binary is /usr/sbin/nginx, or the path in {@code HERALD_NGINX}.
 */
final class Nginx implements AutoCloseable {
  static final Path BINARY =
      Path.of(System.getenv().getOrDefault("HERALD_NGINX", "/usr/sbin/nginx"));
  private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

  private final Path dir;
  private final Process process;
  private final long pid;

  private Nginx(Path dir, Process process, long pid) {
    this.dir = dir;
    this.process = process;
    this.pid = pid;
  }

  /** A directory for the configuration and its included files, before {@link #start}. */
  static Path newDirectory() {
    try {
      Path dir = Files.createTempDirectory("herald-nginx-");
      for (String d :
          List.of(
              "temp/client_body",
              "temp/proxy",
              "temp/fastcgi",
              "temp/uwsgi",
              "temp/scgi",
              "logs")) {
        Files.createDirectories(dir.resolve(d));
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes nginx.conf into {@code dir} with {@code http} (server blocks, maps, upstreams, includes
   * relative to {@code dir}) inside the {@code http} block, starts nginx and waits until it listens
   * on every port in {@code ports}.
   */
  static Nginx start(Path dir, String http, int... ports) {
    String user = System.getProperty("user.name");
    String conf =
        """
        # Written by the Herald tests (Nginx.java).
        daemon off;
        master_process on;
        worker_processes 1;
        %s
        pid %s;
        error_log %s info;
        events { worker_connections 256; }
        http {
          access_log %s;
          client_body_temp_path %s;
          proxy_temp_path %s;
          fastcgi_temp_path %s;
          uwsgi_temp_path %s;
          scgi_temp_path %s;
          default_type application/octet-stream;

        %s
        }
        """
            .formatted(
                // Only meaningful (and needed, for the temp paths) when the tests run as root.
                "root".equals(user) ? "user root;" : "",
                dir.resolve("nginx.pid"),
                dir.resolve("logs/error.log"),
                dir.resolve("logs/access.log"),
                dir.resolve("temp/client_body"),
                dir.resolve("temp/proxy"),
                dir.resolve("temp/fastcgi"),
                dir.resolve("temp/uwsgi"),
                dir.resolve("temp/scgi"),
                http.indent(2));
    Path confFile = dir.resolve("nginx.conf");
    Process p;
    try {
      Files.writeString(confFile, conf);
      ProcessBuilder pb =
          new ProcessBuilder(
              BINARY.toString(),
              "-p",
              dir.toString(),
              "-c",
              confFile.toString(),
              "-e",
              dir.resolve("logs/error.log").toString());
      pb.redirectErrorStream(true).redirectOutput(dir.resolve("logs/stdout.log").toFile());
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + BINARY, e);
    }
    Path pidFile = dir.resolve("nginx.pid");
    try {
      Awaitility.await("nginx listening")
          .atMost(START_TIMEOUT)
          .pollInterval(Duration.ofMillis(20))
          .until(() -> !p.isAlive() || (Files.exists(pidFile) && allListen(ports)));
    } catch (ConditionTimeoutException e) {
      p.destroyForcibly();
      throw new AssertionError("nginx did not start; error log:\n" + log(dir, "error.log"), e);
    }
    if (!p.isAlive()) {
      throw new AssertionError(
          "nginx exited with "
              + p.exitValue()
              + "; configuration:\n"
              + conf
              + "\nerror log:\n"
              + log(dir, "error.log")
              + log(dir, "stdout.log"));
    }
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile).trim());
    } catch (IOException | NumberFormatException e) {
      p.destroyForcibly();
      throw new AssertionError("cannot read " + pidFile, e);
    }
    assertThat(pid).as("pid file of the nginx master we started").isEqualTo(p.pid());
    return new Nginx(dir, p, pid);
  }

  long pid() {
    return pid;
  }

  Path dir() {
    return dir;
  }

  String errorLog() {
    return log(dir, "error.log");
  }

  String accessLog() {
    return log(dir, "access.log");
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Stops the master (and with it its worker) by PID, then removes the directory. */
  @Override
  public void close() {
    ProxyProcesses.stop(process, pid);
    System.out.println("nginx error log (" + dir + "):\n" + errorLog());
    ProxyProcesses.removeDirectory(dir);
  }

  /** A free loopback port (closed again: nginx binds it right after). */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether something accepts connections on every one of {@code ports} (loopback). */
  static boolean allListen(int[] ports) {
    for (int port : ports) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }

  private static String log(Path dir, String name) {
    try {
      Path f = dir.resolve("logs").resolve(name);
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  // ====================================================================== TLS

  /**
   * A self-signed certificate for 127.0.0.1 and localhost, as PEM files, and a context trusting it.
   */
  record Tls(Path certPem, Path keyPem, SSLContext trusting) {}

  /** Made with the JDK's keytool (no openssl needed) and converted to PEM for nginx. */
  static Tls selfSignedCertificate(Path dir) {
    try {
      Path store = dir.resolve("tls.p12");
      char[] password = "changeit".toCharArray();
      Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
      Process p =
          new ProcessBuilder(
                  keytool.toString(),
                  "-genkeypair",
                  "-alias",
                  "herald",
                  "-keyalg",
                  "RSA",
                  "-keysize",
                  "2048",
                  "-validity",
                  "2",
                  "-dname",
                  "CN=localhost",
                  "-ext",
                  "san=ip:127.0.0.1,dns:localhost",
                  "-storetype",
                  "PKCS12",
                  "-keystore",
                  store.toString(),
                  "-storepass",
                  new String(password),
                  "-keypass",
                  new String(password))
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("keytool finished").isTrue();
      assertThat(p.exitValue()).as("keytool: %s", out).isZero();
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        ks.load(in, password);
      }
      java.security.Key key = ks.getKey("herald", password);
      X509Certificate x509 = (X509Certificate) ks.getCertificate("herald");
      Path certPem = dir.resolve("tls-cert.pem");
      Path keyPem = dir.resolve("tls-key.pem");
      Files.writeString(certPem, pem("CERTIFICATE", x509.getEncoded()));
      Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry(
          "herald",
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(x509.getEncoded())));
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return new Tls(certPem, keyPem, ctx);
    } catch (Exception e) {
      throw new IllegalStateException("cannot make a test certificate", e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
