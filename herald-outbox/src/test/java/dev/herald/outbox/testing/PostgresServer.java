package dev.herald.outbox.testing;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real, throwaway PostgreSQL server for tests: {@code initdb} into a temporary directory and
 * {@code pg_ctl start} on a free loopback port, once per JVM, stopped at exit. Needs the PostgreSQL
 * server binaries (Debian package {@code postgresql}; .ci/run installs them). As root, the server
 * runs as the {@code postgres} user (initdb refuses root). Each test class gets its own database.
 */
public final class PostgresServer {
  private static PostgresServer instance;

  private final Path dir;
  private final int port;
  private final Path bin;
  private int databases;

  private PostgresServer(Path bin) throws IOException, InterruptedException {
    this.bin = bin;
    this.dir = Files.createTempDirectory("herald-pg");
    this.port = freePort();
    boolean root = "root".equals(System.getProperty("user.name"));
    if (root) {
      run(List.of("chown", "-R", "postgres:postgres", dir.toString()));
    }
    Path data = dir.resolve("data");
    run(
        asPostgres(
            root,
            List.of(
                bin.resolve("initdb").toString(),
                "-D",
                data.toString(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C")));
    run(
        asPostgres(
            root,
            List.of(
                bin.resolve("pg_ctl").toString(),
                "-D",
                data.toString(),
                "-w",
                "-t",
                "60",
                "-l",
                dir.resolve("log").toString(),
                "-o",
                "-p "
                    + port
                    + " -k "
                    + dir
                    + " -c listen_addresses=127.0.0.1 -c fsync=off "
                    + "-c synchronous_commit=off -c full_page_writes=off",
                "start")));
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    run(
                        asPostgres(
                            root,
                            List.of(
                                bin.resolve("pg_ctl").toString(),
                                "-D",
                                data.toString(),
                                "-m",
                                "immediate",
                                "stop")));
                  } catch (Exception e) {
                    // best effort at exit
                  }
                  deleteQuietly(dir);
                }));
  }

  /** The shared server, started on first use. */
  public static synchronized PostgresServer get() {
    if (instance == null) {
      Path bin = findBin();
      try {
        instance = new PostgresServer(bin);
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(
            "cannot start PostgreSQL from " + bin + ": " + e.getMessage(), e);
      }
    }
    return instance;
  }

  /** Creates a new empty database and returns its JDBC URL. */
  public synchronized String newDatabase(String prefix) {
    String name = prefix + "_" + (++databases);
    try (Connection c = DriverManager.getConnection(url("postgres"), "postgres", "")) {
      c.createStatement().execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("CREATE DATABASE " + name + " failed", e);
    }
    return url(name);
  }

  public String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  private static Path findBin() {
    try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")))
          .max(Comparator.naturalOrder())
          .orElseThrow();
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
              + "(install the Debian package 'postgresql'; .ci/run does)",
          e);
    }
  }

  private static List<String> asPostgres(boolean root, List<String> command) {
    if (!root) {
      return command;
    }
    List<String> c = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    c.addAll(command);
    return c;
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    File log = File.createTempFile("herald-pg-cmd", ".log");
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(log)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .directory(new File("/tmp"))
            .start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(command + " timed out");
    }
    String out = Files.readString(log.toPath());
    log.delete();
    if (p.exitValue() != 0) {
      throw new IOException(command + " failed (" + p.exitValue() + "): " + out);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // ignore
    }
  }
}
