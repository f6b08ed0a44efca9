package dev.herald.redis;

/**
 * The Lua scripts behind the Redis broker. Each runs atomically in Redis, which is what orders
 * publications across nodes: offset assignment, history append and PUBLISH happen in one step, so
 * every node receives a channel's publications in offset order.
 *
 * <p>Per channel: a hash {@code <prefix>:{<channel>}:m} holds the epoch ({@code e}) and the last
 * offset ({@code o}); a stream {@code <prefix>:{<channel>}:h} holds the history with entry id
 * {@code <offset>-1}, so a range read by offset is a range read by id. When the hash is gone
 * (expiry, FLUSHALL, a Redis restarted without persistence) the next script call starts a new epoch
 * at offset 0 and deletes any leftover history.
 *
 * <p><b>Another server, another epoch.</b> The hash also keeps ({@code s}) the run id of the Redis
 * server that started or last adopted the epoch; every script gets the run id of the server it is
 * sent to as its last argument. A different server (a replica promoted by Sentinel or by Redis
 * Cluster, a Redis Cluster master a channel's slot moved to, a Redis restarted from its AOF or RDB
 * file) may lack the last acknowledged publications, since replication and persistence are
 * asynchronous: continuing the epoch would hand out their offsets again to other publications,
 * which clients that saw the lost ones would skip. So the first script on the other server starts a
 * new epoch, and every subscriber is told to resubscribe (clients get {@code recovered:false} and
 * refetch). An empty run id (INFO refused) skips this check; a hash without {@code s} (written
 * before this check existed) adopts the server.
 */
final class Scripts {
  private Scripts() {}

  private static final String EPOCH =
      """
      local server = ARGV[#ARGV]
      local epoch = redis.call('HGET', KEYS[1], 'e')
      local top
      if epoch and server ~= '' then
        local wrote = redis.call('HGET', KEYS[1], 's')
        if not wrote then
          redis.call('HSET', KEYS[1], 's', server)
        elseif wrote ~= server then
          epoch = false
        end
      end
      if not epoch then
        epoch = ARGV[1]
        redis.call('DEL', KEYS[2])
        redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
        if server ~= '' then redis.call('HSET', KEYS[1], 's', server) end
        top = 0
      else
        top = tonumber(redis.call('HGET', KEYS[1], 'o'))
      end
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      """;

  /**
   * KEYS: meta, stream. ARGV: new epoch, data, user ("" or "+" url-encoded), history size, history
   * TTL ms, stream TTL ms, pub/sub topic, server run id. Returns {epoch, offset, ts}.
   */
  static final Script PUBLISH = Script.of(EPOCH + append("return {epoch, off, now}"));

  /**
   * {@link #PUBLISH} at most once per idempotency key. KEYS: meta, stream, key. ARGV: those of
   * PUBLISH but the run id, then the key's window in ms, then the run id. A key already there
   * answers the position it holds ("epoch\noffset") and publishes nothing (nor touches the stream);
   * else the publication is made and its position kept under the key for the window.
   */
  static final Script PUBLISH_ONCE =
      Script.of(
          """
      local seen = redis.call('GET', KEYS[3])
      if seen then
        local nl = string.find(seen, '\\n', 1, true)
        return {string.sub(seen, 1, nl - 1), tonumber(string.sub(seen, nl + 1)), 0}
      end
      """
              + EPOCH
              + append(
                  """
              redis.call('SET', KEYS[3], epoch .. '\\n' .. off, 'PX', tonumber(ARGV[8]))
              return {epoch, off, now}
              """));

  /** Assigns the next offset, appends to history and PUBLISHes; then {@code tail}. */
  private static String append(String tail) {
    return """
          local off = redis.call('HINCRBY', KEYS[1], 'o', 1)
          local size = tonumber(ARGV[4])
          if size > 0 then
            redis.call('XADD', KEYS[2], 'MAXLEN', size, off .. '-1',
                'd', ARGV[2], 'u', ARGV[3], 't', now)
            local httl = tonumber(ARGV[5])
            if httl > 0 then redis.call('PEXPIRE', KEYS[2], httl) end
          end
          local sttl = tonumber(ARGV[6])
          if sttl > 0 then redis.call('PEXPIRE', KEYS[1], sttl) else redis.call('PERSIST', KEYS[1]) end
          redis.call('PUBLISH', ARGV[7],
              'p' .. epoch .. '\\n' .. off .. '\\n' .. now .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[2])
          """
        + tail;
  }

  /**
   * KEYS: meta, stream. ARGV: new epoch, first stream id to return ("" for none), stream TTL ms,
   * server run id. Returns {epoch, top offset, now, entries}.
   */
  static final Script HISTORY =
      Script.of(
          EPOCH
              + """
          local sttl = tonumber(ARGV[3])
          if sttl > 0 then redis.call('PEXPIRE', KEYS[1], sttl) end
          local items = {}
          if ARGV[2] ~= '' then items = redis.call('XRANGE', KEYS[2], ARGV[2], '+') end
          return {epoch, top, now, items}
          """);

  /**
   * Presence read. KEYS: expiry zset, data hash. Drops entries whose node stopped refreshing them,
   * returns the rest's data.
   */
  static final Script PRESENCE_GET =
      Script.of(
          """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
      if #dead > 0 then
        redis.call('ZREM', KEYS[1], unpack(dead))
        redis.call('HDEL', KEYS[2], unpack(dead))
      end
      local live = redis.call('ZRANGE', KEYS[1], 0, -1)
      if #live == 0 then return {} end
      return redis.call('HMGET', KEYS[2], unpack(live))
      """);

  /**
   * Presence write. KEYS: expiry zset, data hash. ARGV: ttl ms, then (client id, data) pairs; data
   * "" only refreshes the expiry. Both keys live as long as their newest entry.
   */
  static final Script PRESENCE_PUT =
      Script.of(
          """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local ttl = tonumber(ARGV[1])
      for i = 2, #ARGV, 2 do
        redis.call('ZADD', KEYS[1], now + ttl, ARGV[i])
        if ARGV[i + 1] ~= '' then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
      end
      redis.call('PEXPIRE', KEYS[1], ttl)
      redis.call('PEXPIRE', KEYS[2], ttl)
      return 1
      """);

  /** Presence removal. KEYS: expiry zset, data hash. ARGV: client id. */
  static final Script PRESENCE_REMOVE =
      Script.of(
          """
          redis.call('ZREM', KEYS[1], ARGV[1])
          redis.call('HDEL', KEYS[2], ARGV[1])
          """);

  private static final String NOW_AND_EXPIRY =
      """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local ttl = tonumber(ARGV[1])
      """;

  /** The key lives as long as its latest entry. */
  private static final String EXPIRE_WITH_LATEST =
      """
      local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
      if #latest == 2 then redis.call('PEXPIREAT', KEYS[1], latest[2]) end
      """;

  /**
   * One user's connections across the cluster. KEYS: the user's sorted set (connection -> expiry).
   * ARGV: ttl ms, limit, connection. Drops entries whose node stopped refreshing them, then adds
   * the connection unless the user holds {@code limit} already. Returns 1 when added, 0 when over.
   */
  static final Script USER_CONNECTION_ADD =
      Script.of(
          NOW_AND_EXPIRY
              + """
          redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
          if redis.call('ZSCORE', KEYS[1], ARGV[3]) == false
              and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
            return 0
          end
          redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
          """
              + EXPIRE_WITH_LATEST
              + "return 1\n");

  /**
   * A node's heartbeat for one user's connections. KEYS: the user's sorted set. ARGV: ttl ms, then
   * the node's connections of that user, whose expiry moves to now + ttl (re-added if Redis lost
   * them; no limit applies to connections already admitted).
   */
  static final Script USER_CONNECTION_REFRESH =
      Script.of(
          NOW_AND_EXPIRY
              + """
          for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
          """
              + EXPIRE_WITH_LATEST
              + "return 1\n");

  /** Every script, loaded on each command connection before it is used. */
  static final java.util.List<Script> ALL =
      java.util.List.of(
          PUBLISH,
          PUBLISH_ONCE,
          HISTORY,
          PRESENCE_GET,
          PRESENCE_PUT,
          PRESENCE_REMOVE,
          USER_CONNECTION_ADD,
          USER_CONNECTION_REFRESH);
}
