package dev.herald.redis;

import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Redis Cluster's key distribution: the hash slot of a key (CRC16 of the key, or of its hash tag,
 * modulo 16384) and which master serves each slot.
 */
final class ClusterSlots {
  private ClusterSlots() {}

  static final int SLOTS = 16384;

  /**
   * The slot of a key. If the key holds a non-empty hash tag (the text between its first opening
   * brace and the first closing brace after it), only the tag is hashed, so that every key of one
   * channel (whose keys all hold the channel name as their tag) lands in the same slot.
   */
  static int slot(String key) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    int from = 0;
    int to = k.length;
    for (int open = 0; open < k.length; open++) {
      if (k[open] == '{') {
        for (int close = open + 1; close < k.length; close++) {
          if (k[close] == '}') {
            if (close > open + 1) {
              from = open + 1;
              to = close;
            }
            break;
          }
        }
        break;
      }
    }
    return crc16(k, from, to) & (SLOTS - 1);
  }

  /** CRC16-CCITT (XModem), the variant Redis Cluster hashes keys with. */
  static int crc16(byte[] bytes, int from, int to) {
    int crc = 0;
    for (int i = from; i < to; i++) {
      crc ^= (bytes[i] & 0xff) << 8;
      for (int bit = 0; bit < 8; bit++) {
        crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
      }
    }
    return crc & 0xffff;
  }

  /** One range of slots and the master ({@code host:port}) that serves it. */
  record Range(int first, int last, String master) {}

  /**
   * Which master serves each slot, as CLUSTER SLOTS reports it.
   *
   * @param ranges the slot ranges, in ascending order of slots
   */
  record Topology(List<Range> ranges) {
    static final Topology EMPTY = new Topology(List.of());

    Topology {
      ranges = List.copyOf(ranges);
    }

    /** The master serving {@code slot}, or null if no master serves it now. */
    @Nullable String master(int slot) {
      for (Range r : ranges) {
        if (slot >= r.first() && slot <= r.last()) {
          return r.master();
        }
      }
      return null;
    }

    /** The masters, sorted. */
    Set<String> masters() {
      Set<String> out = new TreeSet<>();
      ranges.forEach(r -> out.add(r.master()));
      return out;
    }

    /** Whether every slot is served. */
    boolean complete() {
      long served = 0;
      for (Range r : ranges) {
        served += r.last() - r.first() + 1L;
      }
      return served == SLOTS;
    }

    /**
     * Reads a CLUSTER SLOTS reply: per range, its first and last slot, then the master (host, port,
     * id, ...), then its replicas. A master without a known address ("" or "?") is left out, as if
     * it served nothing.
     */
    /** host:port as a URL's authority: an IPv6 address in brackets ({@code [::1]:7000}). */
    static String address(String host, int port) {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    static Topology parse(Response reply) {
      List<Range> ranges = new ArrayList<>();
      for (Response range : reply) {
        Response master = range.get(2);
        String host = master.get(0).toString();
        if (host.isEmpty() || host.equals("?")) {
          continue;
        }
        ranges.add(
            new Range(
                range.get(0).toInteger(),
                range.get(1).toInteger(),
                address(host, master.get(1).toInteger())));
      }
      ranges.sort(java.util.Comparator.comparingInt(Range::first));
      return new Topology(ranges);
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder();
      for (Range r : ranges) {
        if (!b.isEmpty()) {
          b.append(", ");
        }
        b.append(r.first()).append('-').append(r.last()).append(" on ").append(r.master());
      }
      return b.toString();
    }
  }
}
