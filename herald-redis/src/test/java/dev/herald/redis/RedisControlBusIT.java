package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.core.broker.ControlMessage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Account actions between two nodes over a real Redis. */
class RedisControlBusIT {
  @RegisterExtension static final RedisFixture fixture = new RedisFixture();
  private final List<RedisControlBus> buses = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    buses.forEach(RedisControlBus::close);
  }

  @Test
  void aMessageReachesTheOtherNodesButNotItsSender() {
    String prefix = "cb" + System.nanoTime();
    List<ControlMessage> atA = new CopyOnWriteArrayList<>();
    List<ControlMessage> atB = new CopyOnWriteArrayList<>();
    RedisControlBus a = bus(prefix, "a", atA);
    RedisControlBus b = bus(prefix, "b", atB);
    awaitSubscribed(prefix, 2);

    ControlMessage revoke =
        new ControlMessage(ControlMessage.Kind.REVOKE_USER, "alice", 4501, "logged out");
    ControlMessage revalidate = new ControlMessage(ControlMessage.Kind.REVALIDATE, "bob", 0, "");
    a.send(revoke).join();
    b.send(revalidate).join();

    await().atMost(Duration.ofSeconds(30)).until(() -> atB.size() == 1 && atA.size() == 1);
    assertThat(atB).containsExactly(revoke);
    assertThat(atA).containsExactly(revalidate);
  }

  @Test
  void aNodeSubscribesAgainAfterRedisRestartedAndSendingFailsWhileItIsDown() {
    String prefix = "cbr" + System.nanoTime();
    List<ControlMessage> atB = new CopyOnWriteArrayList<>();
    RedisControlBus a = bus(prefix, "a", new CopyOnWriteArrayList<>());
    bus(prefix, "b", atB);
    awaitSubscribed(prefix, 2);

    fixture.server().kill();
    ControlMessage lost = new ControlMessage(ControlMessage.Kind.REVOKE_CREDENTIAL, "s1", 4501, "");
    assertThat(a.send(lost)).failsWithin(Duration.ofSeconds(30));
    fixture.server().restart();
    awaitSubscribed(prefix, 2);
    ControlMessage after =
        new ControlMessage(ControlMessage.Kind.REVOKE_CREDENTIAL, "s2", 4501, "logged out");
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () -> {
              a.send(after).join();
              return true;
            });
    await().atMost(Duration.ofSeconds(30)).until(() -> atB.contains(after));
    assertThat(atB).doesNotContain(lost);
  }

  private RedisControlBus bus(String prefix, String node, List<ControlMessage> into) {
    RedisControlBus bus =
        new RedisControlBus(
            fixture.vertx(), fixture.settings(prefix, node, Duration.ofSeconds(30)));
    bus.start(into::add);
    buses.add(bus);
    return bus;
  }

  private static void awaitSubscribed(String prefix, int nodes) {
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () ->
                fixture.server().cli("PUBSUB", "NUMSUB", prefix + ":control").endsWith("" + nodes));
  }
}
