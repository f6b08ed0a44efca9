package dev.herald.protocol;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** Messages a client sends to the server. Every one but ping and pong carries a request id. */
public sealed interface ClientMessage permits ClientMessage.Request, Ping, Pong {

  /** A message that expects a {@link ServerMessage.Reply} with the same id. */
  sealed interface Request extends ClientMessage
      permits Connect, Subscribe, Unsubscribe, Publish, PresenceQuery, PresenceSet {
    long id();
  }

  /**
   * First message on every connection. {@code token} is optional: cookie-authenticated clients
   * leave it out. {@code client} names the client library for diagnostics.
   */
  record Connect(long id, @Nullable String token, @Nullable String client, int protocol)
      implements Request {}

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
}
