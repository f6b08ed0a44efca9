package dev.herald.core.channel;

import java.time.Duration;
import java.util.Objects;

/**
 * What a namespace's channels do. Immutable; build with {@link #builder(String)}.
 *
 * @param name namespace name ("" for channels without a namespace)
 * @param historySize publications kept per channel for recovery (0: no history, so recovery only
 *     succeeds when nothing was missed)
 * @param historyTtl how long a publication stays in history
 * @param streamTtl how long a channel's epoch and offset are remembered after its last publication;
 *     after that the stream starts over with a new epoch
 * @param presence whether the namespace keeps presence
 * @param joinLeave whether subscribers receive join, leave and presence_update events
 * @param clientPublish whether connected clients may publish (back-end publishing always works)
 * @param personal whether the segment after the namespace must equal the user id
 */
public record NamespaceSettings(
    String name,
    int historySize,
    Duration historyTtl,
    Duration streamTtl,
    boolean presence,
    boolean joinLeave,
    boolean clientPublish,
    boolean personal) {

  public NamespaceSettings {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(historyTtl, "historyTtl");
    Objects.requireNonNull(streamTtl, "streamTtl");
    if (historySize < 0) {
      throw new IllegalArgumentException("historySize must be >= 0");
    }
    if (historyTtl.isNegative() || streamTtl.compareTo(historyTtl) < 0) {
      throw new IllegalArgumentException("streamTtl must be >= historyTtl >= 0");
    }
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  public Builder toBuilder() {
    return new Builder(name)
        .historySize(historySize)
        .historyTtl(historyTtl)
        .streamTtl(streamTtl)
        .presence(presence)
        .joinLeave(joinLeave)
        .clientPublish(clientPublish)
        .personal(personal);
  }

  /** Builder with production defaults: 1000 messages / 10 minutes of history, presence on. */
  public static final class Builder {
    private final String name;
    private int historySize = 1000;
    private Duration historyTtl = Duration.ofMinutes(10);
    private Duration streamTtl = Duration.ofHours(24);
    private boolean presence = true;
    private boolean joinLeave = true;
    private boolean clientPublish = false;
    private boolean personal = false;

    private Builder(String name) {
      this.name = name;
    }

    public Builder historySize(int v) {
      historySize = v;
      return this;
    }

    public Builder historyTtl(Duration v) {
      historyTtl = v;
      return this;
    }

    public Builder streamTtl(Duration v) {
      streamTtl = v;
      return this;
    }

    public Builder presence(boolean v) {
      presence = v;
      return this;
    }

    public Builder joinLeave(boolean v) {
      joinLeave = v;
      return this;
    }

    public Builder clientPublish(boolean v) {
      clientPublish = v;
      return this;
    }

    public Builder personal(boolean v) {
      personal = v;
      return this;
    }

    public NamespaceSettings build() {
      return new NamespaceSettings(
          name, historySize, historyTtl, streamTtl, presence, joinLeave, clientPublish, personal);
    }
  }
}
