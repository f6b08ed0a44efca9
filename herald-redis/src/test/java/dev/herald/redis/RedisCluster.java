package dev.herald.redis;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A Redis Cluster of real redis-server processes on free ports: {@code masters} masters, each with
 * {@code replicasEach} replicas, joined with {@code redis-cli --cluster create}. Started once every
 * node reports the cluster healthy and knows every other node. Nodes call each other failed after
 * one second without an answer, so a replica takes over from a killed master within a few seconds.
 */
public final class RedisCluster implements AutoCloseable {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private final List<RedisServer> servers = new ArrayList<>();

  private RedisCluster() {}

  public static RedisCluster start(int masters, int replicasEach) {
    RedisCluster c = new RedisCluster();
    try {
      int count = masters * (1 + replicasEach);
      // With replicas the tests fail masters over, so failure is detected after a second; without
      // them nothing can take over, and a longer timeout keeps a busy machine from flagging a slow
      // node as failed.
      long nodeTimeoutMillis = replicasEach > 0 ? 1000 : 5000;
      for (int i = 0; i < count; i++) {
        c.servers.add(RedisServer.clusterNode(nodeTimeoutMillis));
      }
      List<String> args = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      c.servers.forEach(s -> args.add("127.0.0.1:" + s.port()));
      args.addAll(List.of("--cluster-replicas", Integer.toString(replicasEach), "--cluster-yes"));
      run(args);
      for (RedisServer s : c.servers) {
        await()
            .atMost(WAIT)
            .until(
                () ->
                    s.cli("cluster", "info").contains("cluster_state:ok")
                        && s.cli("cluster", "nodes").lines().filter(l -> !l.isBlank()).count()
                            == count
                        && !s.cli("cluster", "nodes").contains("handshake"));
      }
      if (replicasEach > 0) {
        for (RedisServer s : c.servers) {
          if (s.cli("role").startsWith("slave")) {
            await()
                .atMost(WAIT)
                .until(() -> s.cli("info", "replication").contains("master_link_status:up"));
          }
        }
      }
      return c;
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private static void run(List<String> args) {
    try {
      Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("redis-cli --cluster create failed: " + out);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Every node's URL (what {@code redis.cluster-nodes} lists). */
  public List<String> urls() {
    return servers.stream().map(RedisServer::url).toList();
  }

  private RedisServer live() {
    return servers.stream()
        .filter(s -> s.pid() > 0)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no node is running"));
  }

  /** Runs a redis-cli command against a live node, following redirections ({@code -c}). */
  public String cli(String... command) {
    List<String> args = new ArrayList<>(List.of("-c"));
    args.addAll(List.of(command));
    return live().cli(args.toArray(String[]::new));
  }

  /** The node that a live node names master of the slot of {@code key} now. */
  public RedisServer masterOfKey(String key) {
    return masterOf(Integer.parseInt(live().cli("cluster", "keyslot", key)));
  }

  /** The node that a live node names master of {@code slot} now. */
  public RedisServer masterOf(int slot) {
    RedisServer m = masterSeenBy(live(), slot);
    if (m == null) {
      throw new IllegalStateException("no master serves slot " + slot);
    }
    return m;
  }

  /** The master of {@code slot} in {@code node}'s view (masters it holds failed excluded). */
  private @org.jspecify.annotations.Nullable RedisServer masterSeenBy(RedisServer node, int slot) {
    for (String line : node.cli("cluster", "nodes").lines().toList()) {
      String[] f = line.split(" ");
      if (f.length < 9 || !f[2].contains("master") || f[2].contains("fail")) {
        continue;
      }
      for (int i = 8; i < f.length; i++) {
        String[] range = f[i].split("-");
        if (range[0].startsWith("[")) {
          continue; // a slot being migrated
        }
        int first = Integer.parseInt(range[0]);
        int last = range.length > 1 ? Integer.parseInt(range[1]) : first;
        if (slot >= first && slot <= last) {
          return byPort(f[1]).orElse(null);
        }
      }
    }
    return null;
  }

  /**
   * Moves {@code slot} and its keys from master {@code from} to master {@code to}, as resharding
   * does (IMPORTING/MIGRATING, MIGRATE of each key, then every master told the new owner), and
   * waits until every live node names {@code to} its master.
   */
  public void moveSlot(int slot, RedisServer from, RedisServer to) {
    String fromId = from.cli("cluster", "myid");
    String toId = to.cli("cluster", "myid");
    String s = Integer.toString(slot);
    to.cli("cluster", "setslot", s, "importing", fromId);
    from.cli("cluster", "setslot", s, "migrating", toId);
    for (List<String> keys = keysIn(from, s); !keys.isEmpty(); keys = keysIn(from, s)) {
      for (String key : keys) {
        from.cli("migrate", "127.0.0.1", Integer.toString(to.port()), key, "0", "5000");
      }
    }
    for (RedisServer m : masters()) {
      m.cli("cluster", "setslot", s, "node", toId);
    }
    for (RedisServer n : servers) {
      if (n.pid() > 0) {
        await().atMost(WAIT).until(() -> masterSeenBy(n, slot) == to);
      }
    }
  }

  private static List<String> keysIn(RedisServer server, String slot) {
    return server
        .cli("cluster", "getkeysinslot", slot, "100")
        .lines()
        .filter(l -> !l.isBlank())
        .toList();
  }

  /** The live replicas of {@code master}. */
  public List<RedisServer> replicasOf(RedisServer master) {
    String id = master.cli("cluster", "myid");
    List<RedisServer> out = new ArrayList<>();
    for (String line : live().cli("cluster", "nodes").lines().toList()) {
      String[] f = line.split(" ");
      if (f.length >= 4 && f[2].contains("slave") && f[3].equals(id)) {
        byPort(f[1]).filter(s -> s.pid() > 0).ifPresent(out::add);
      }
    }
    return out;
  }

  /** The masters that serve slots, in the order of their first slot. */
  public List<RedisServer> masters() {
    java.util.TreeMap<Integer, RedisServer> byFirstSlot = new java.util.TreeMap<>();
    for (String line : live().cli("cluster", "nodes").lines().toList()) {
      String[] f = line.split(" ");
      if (f.length < 9 || !f[2].contains("master") || f[2].contains("fail")) {
        continue;
      }
      byFirstSlot.put(Integer.parseInt(f[8].split("-")[0]), byPort(f[1]).orElseThrow());
    }
    return List.copyOf(byFirstSlot.values());
  }

  private Optional<RedisServer> byPort(String address) {
    // host:port@busport
    String hostPort = address.contains("@") ? address.substring(0, address.indexOf('@')) : address;
    int port = Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    return servers.stream().filter(s -> s.port() == port).findFirst();
  }

  @Override
  public void close() {
    servers.forEach(RedisServer::close);
  }
}
