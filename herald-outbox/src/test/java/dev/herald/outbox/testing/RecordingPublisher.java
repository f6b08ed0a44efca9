package dev.herald.outbox.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.outbox.Publisher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A {@link Publisher} that records what it is given, in order. By default it takes every
 * publication at once; {@link #behave} makes a channel fail or hang (the returned stage is then
 * completed by the test through {@link #pending}).
 */
public final class RecordingPublisher implements Publisher {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One publication as the hub would receive it; {@code by} names the publisher. */
  public record Published(String by, String channel, long seq, JsonNode event) {}

  /** What to do with a publication on a channel. */
  public enum Behaviour {
    TAKE,
    FAIL,
    HANG
  }

  private final String name;
  private final List<Published> log;
  private final Map<String, Behaviour> behaviour = new ConcurrentHashMap<>();
  private final List<CompletableFuture<Object>> pending = new ArrayList<>();

  public RecordingPublisher() {
    this("publisher", new ArrayList<>());
  }

  /** A publisher that appends to a shared log (two relays, one hub). */
  public RecordingPublisher(String name, List<Published> sharedLog) {
    this.name = name;
    this.log = sharedLog;
  }

  public RecordingPublisher behave(String channel, Behaviour b) {
    behaviour.put(channel, b);
    return this;
  }

  @Override
  public CompletionStage<?> publish(String channel, String json) {
    Behaviour b = behaviour.getOrDefault(channel, Behaviour.TAKE);
    if (b == Behaviour.FAIL) {
      return CompletableFuture.failedFuture(new IllegalStateException("hub refused " + channel));
    }
    JsonNode event;
    try {
      event = JSON.readTree(json);
    } catch (Exception e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<Object> f = new CompletableFuture<>();
    synchronized (log) {
      log.add(new Published(name, channel, event.get("seq").asLong(), event));
    }
    if (b == Behaviour.HANG) {
      synchronized (pending) {
        pending.add(f);
      }
    } else {
      f.complete(null);
    }
    return f;
  }

  /** Publications in the order they were made (a copy). */
  public List<Published> published() {
    synchronized (log) {
      return List.copyOf(log);
    }
  }

  /** Sequence numbers published on {@code channel}, in order. */
  public List<Long> seqs(String channel) {
    return seqs(published(), channel);
  }

  public static List<Long> seqs(List<Published> log, String channel) {
    return log.stream().filter(p -> p.channel().equals(channel)).map(Published::seq).toList();
  }

  /** Completes the hanging publications with {@code complete}. */
  public void release(Function<CompletableFuture<Object>, Boolean> complete) {
    List<CompletableFuture<Object>> copy;
    synchronized (pending) {
      copy = new ArrayList<>(pending);
      pending.clear();
    }
    copy.forEach(complete::apply);
  }

  /** How many publications hang. */
  public int pending() {
    synchronized (pending) {
      return pending.size();
    }
  }
}
