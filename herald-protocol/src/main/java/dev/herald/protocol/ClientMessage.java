package dev.herald.protocol;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** Messages a client sends to the server. Every one but ping and pong carries a request id. */
public sealed interface ClientMessage permits ClientMessage.Request, Ping, Pong {

  /** A message that expects a {@link ServerMessage.Reply} with the same id. */
  sealed interface Request extends ClientMessage
      permits Connect, Subscribe, Unsubscribe, Publish, PresenceQuery, PresenceSet, Refresh {
    long id();
  }

  /**
   * First message on every connection. {@code token} is optional: cookie-authenticated clients
   * leave it out. {@code client} names the client library for diagnostics. {@code pingMs}, when
   * above 0, asks the server to ping more often than its default (a client behind a proxy that cuts
   * idle connections sooner than the server's heartbeat); 0 means "the server's default".
   */
  record Connect(
      long id, @Nullable String token, @Nullable String client, int protocol, long pingMs)
      implements Request {
    public Connect {
      if (pingMs < 0) {
        throw new IllegalArgumentException("pingMs must be >= 0, got " + pingMs);
      }
    }

    /** A connect that leaves the heartbeat interval to the server. */
    public Connect(long id, @Nullable String token, @Nullable String client, int protocol) {
      this(id, token, client, protocol, 0);
    }
  }

  /** Subscribe to a channel; with {@code since}, also recover what was missed after it. */
  record Subscribe(long id, String channel, @Nullable StreamPosition since) implements Request {
    public Subscribe {
      Objects.requireNonNull(channel, "channel");
    }
  }

  record Unsubscribe(long id, String channel) implements Request {
    public Unsubscribe {
      Objects.requireNonNull(channel, "channel");
    }
  }

  record Publish(long id, String channel, RawJson data) implements Request {
    public Publish {
      Objects.requireNonNull(channel, "channel");
      Objects.requireNonNull(data, "data");
    }
  }

  /** Ask who is present in a channel. */
  record PresenceQuery(long id, String channel) implements Request {
    public PresenceQuery {
      Objects.requireNonNull(channel, "channel");
    }
  }

  /** Set this connection's presence state in a subscribed channel (a JSON object). */
  record PresenceSet(long id, String channel, RawJson state) implements Request {
    public PresenceSet {
      Objects.requireNonNull(channel, "channel");
      Objects.requireNonNull(state, "state");
    }
  }

  /**
   * Replace the connection's credential without reconnecting (same user); the reply's result is a
   * {@link ServerMessage.RefreshResult}.
   */
  record Refresh(long id, String token) implements Request {
    public Refresh {
      Objects.requireNonNull(token, "token");
    }
  }
}
