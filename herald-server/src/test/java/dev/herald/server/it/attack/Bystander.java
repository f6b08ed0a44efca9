package dev.herald.server.it.attack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.herald.server.Herald;
import dev.herald.server.it.RawClient;
import dev.herald.server.it.TestServer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;

/**
 * An innocent client connected while an attack runs: subscribed to its own channel, to which a
 * background thread publishes numbered messages for as long as the attack lasts. The publisher
 * stays at most {@value #WINDOW} publications ahead of what the bystander received, so only the
 * server could make it lose or reorder anything. {@link #assertEverythingArrived} stops the
 * publisher and checks that every publication arrived exactly once, in order, without a gap, and
 * that the bystander was never disconnected. The attack overlaps the bystander's traffic: {@link
 * #start} returns only once publications flow, and {@link #assertEverythingArrived}, called before
 * the attacker stops, first waits for publications made after the attack began.
 */
public final class Bystander implements AutoCloseable {
  private static final int WINDOW = 8;
  private static final int WARM_UP = 5;
  private static final int DURING_ATTACK = 20;
  private static final int MAX_PUBLICATIONS = 100_000;

  private final Herald herald;
  private final RawClient client;
  private final String channel;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final Thread publisher;
  private long start;
  private String epoch;
  private volatile long published;
  private volatile long received;
  private long attackFrom;

  private Bystander(Herald herald, RawClient client, String channel) {
    this.herald = herald;
    this.channel = channel;
    this.client = client;
    JsonNode sub = client.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
    assertThat(sub.has("result")).as("bystander subscribe %s", sub).isTrue();
    this.start = sub.path("result").path("offset").asLong();
    this.epoch = sub.path("result").path("epoch").asText();
    this.publisher = new Thread(this::run, "bystander-publisher");
    this.publisher.setDaemon(true);
  }

  /** Connects a bystander to {@code test:bystander-<n>} and starts publishing to it. */
  public static Bystander start(TestServer server) {
    return start(
        server.herald(),
        RawClient.connected(server, "bystander"),
        "test:bystander-" + System.nanoTime());
  }

  /**
   * Subscribes an already connected {@code client} to {@code channel} and starts publishing to it
   * through {@code herald}; returns once the bystander has received its first {@value #WARM_UP}
   * publications, so the attack that follows overlaps traffic already flowing. The bystander closes
   * the client.
   */
  public static Bystander start(Herald herald, RawClient client, String channel) {
    Bystander b = new Bystander(herald, client, channel);
    b.publisher.start();
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> b.received >= WARM_UP || b.failure.get() != null);
    b.attackFrom = b.published;
    return b;
  }

  private void run() {
    try {
      while (!stop.get() && published < MAX_PUBLICATIONS) {
        herald.publish(channel, "{\"n\":" + (published + 1) + "}").join();
        published++;
        while (published - received > WINDOW) {
          receiveOne();
        }
      }
      while (received < published) {
        receiveOne();
      }
    } catch (Throwable t) {
      failure.set(t);
    }
  }

  private void receiveOne() {
    JsonNode pub = client.pubs(channel, 1).get(0);
    long expected = received + 1;
    assertThat(pub.path("epoch").asText()).isEqualTo(epoch);
    assertThat(pub.path("offset").asLong())
        .as("offset of publication %d", expected)
        .isEqualTo(start + expected);
    assertThat(pub.path("data").path("n").asLong()).isEqualTo(expected);
    received = expected;
  }

  /**
   * Stops publishing, waits for the rest, and checks that the bystander got every publication in
   * order and is still connected and answered.
   */
  public void assertEverythingArrived() {
    // Called while the attacker is still connected: publications made after the attack began must
    // reach the bystander before the attack ends, or the check would mean nothing.
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> received >= attackFrom + DURING_ATTACK || failure.get() != null);
    stop.set(true);
    try {
      publisher.join(60_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    if (failure.get() != null) {
      throw new AssertionError(
          "bystander lost or reordered publications (" + received + " of " + published + ")",
          failure.get());
    }
    assertThat(publisher.isAlive()).as("publisher finished").isFalse();
    assertThat(received).isEqualTo(published).isPositive();
    assertThat(client.isClosed()).as("bystander still connected").isFalse();
    client.send("{\"type\":\"ping\"}");
    assertThat(client.awaitType("pong")).as("bystander still served").isNotNull();
  }

  long published() {
    return published;
  }

  @Override
  public void close() {
    stop.set(true);
    client.close();
  }
}
