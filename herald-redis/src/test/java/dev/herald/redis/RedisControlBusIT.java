package dev.herald.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.herald.core.broker.ControlMessage;
import dev.herald.core.broker.ControlQuery;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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

  @Test
  void aQuestionIsAnsweredByTheOtherNodesWhichTheAskerIsToldToExpect() {
    String prefix = "cbq" + System.nanoTime();
    RedisControlBus a = answering(prefix, "a");
    answering(prefix, "b");
    answering(prefix, "c");
    awaitSubscribed(prefix, 3);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> fixture.server().cli("ZCARD", prefix + ":control:nodes").trim().equals("3"));
    Map<String, String> answers = new ConcurrentHashMap<>();

    Set<String> expected = a.ask(new ControlQuery("q1", "ping", "{}"), answers::put).join();

    assertThat(expected).containsExactlyInAnyOrder("b", "c");
    await().atMost(Duration.ofSeconds(30)).until(() -> answers.size() == 2);
    assertThat(answers).containsEntry("b", "b:ping {}").containsEntry("c", "c:ping {}");
    // The account actions still travel as before on the same topic.
    assertThat(a.send(new ControlMessage(ControlMessage.Kind.REVALIDATE, "x", 0, "")))
        .succeedsWithin(Duration.ofSeconds(30));
  }

  @Test
  void aClosedNodeLeavesTheListAtOnce() {
    String prefix = "cbl" + System.nanoTime();
    RedisControlBus a = answering(prefix, "a");
    RedisControlBus b = answering(prefix, "b");
    awaitSubscribed(prefix, 2);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> fixture.server().cli("ZCARD", prefix + ":control:nodes").trim().equals("2"));
    b.close();
    buses.remove(b);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> fixture.server().cli("ZCARD", prefix + ":control:nodes").trim().equals("1"));
    assertThat(a.ask(new ControlQuery("q2", "ping", "{}"), (n, x) -> {}).join()).isEmpty();
  }

  private RedisControlBus answering(String prefix, String node) {
    RedisControlBus bus =
        new RedisControlBus(
            fixture.vertx(), fixture.settings(prefix, node, Duration.ofSeconds(30)));
    bus.start(
        m -> {}, q -> CompletableFuture.completedFuture(node + ":" + q.kind() + " " + q.body()));
    buses.add(bus);
    return bus;
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
