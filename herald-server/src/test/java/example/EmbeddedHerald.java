package example;

import dev.herald.client.HeraldClient;
import dev.herald.client.SubscriptionHandler;
import dev.herald.core.auth.AuthenticationException;
import dev.herald.core.auth.ChannelAction;
import dev.herald.core.auth.Principal;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.server.Herald;
import dev.herald.server.config.ConfigLoader;
import dev.herald.server.config.HeraldConfig;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Herald inside an application: its sessions, its access rules, publishing from its code. */
public final class EmbeddedHerald {
  /** The application's session store: session cookie value -> user id. */
  static final Map<String, String> SESSIONS = Map.of("s-3f9a1c", "alice", "s-77b0e2", "bob");

  /** The application's access rules: who may see which project. */
  static final Map<String, Set<String>> PROJECT_MEMBERS = Map.of("42", Set.of("alice"));

  /** Builds Herald with the application's authentication and channel rules. */
  public static Herald build() {
    HeraldConfig config =
        ConfigLoader.fromMap(
            Map.of(
                "server.port", "0", // a free port (8080 by default)
                "namespaces", "project", // channels project:<id>
                "namespace.project.history-size", "100"),
            Map.of()); // System.getenv() lets HERALD_* variables override the keys
    return Herald.builder(config)
        // Who is connecting: the WebSocket handshake carries the application's session cookie.
        .authenticator(
            request -> {
              String user = SESSIONS.get(String.valueOf(request.cookie("SESSION")));
              return user != null
                  ? CompletableFuture.completedFuture(Principal.of(user))
                  : CompletableFuture.failedFuture(
                      new AuthenticationException("no session", false));
            })
        // What they may do: subscribe to the projects they are a member of; publishing is
        // left to the server (herald.publish below).
        .authorizer(
            (principal, action, channel) ->
                CompletableFuture.completedFuture(
                    action == ChannelAction.SUBSCRIBE
                        && PROJECT_MEMBERS
                            .getOrDefault(channel.value().substring("project:".length()), Set.of())
                            .contains(principal.userId())))
        .build();
  }

  /** Starts Herald, subscribes alice with the Java client, publishes, returns what she got. */
  public static String run() throws Exception {
    Herald herald = build();
    herald.start().join();
    URI url = URI.create("ws://127.0.0.1:" + herald.port() + "/connection/websocket");
    HeraldClient alice = HeraldClient.builder(url).header("Cookie", "SESSION=s-3f9a1c").build();
    try {
      alice.connect().get(10, TimeUnit.SECONDS);
      CompletableFuture<Void> subscribed = new CompletableFuture<>();
      CompletableFuture<String> received = new CompletableFuture<>();
      alice.subscribe(
          "project:42",
          new SubscriptionHandler() {
            @Override
            public void onSubscribed(SubscribeResult result) {
              subscribed.complete(null);
            }

            @Override
            public void onPublication(Pub pub) {
              received.complete(pub.data().json());
            }
          });
      subscribed.get(10, TimeUnit.SECONDS);
      // From the application's code, e.g. after the change is committed:
      herald.publish("project:42", "{\"item\":7,\"status\":\"ready\"}").get(10, TimeUnit.SECONDS);
      return received.get(10, TimeUnit.SECONDS);
    } finally {
      alice.close();
      herald.stop(Duration.ofSeconds(1)).join();
    }
  }

  public static void main(String[] args) throws Exception {
    System.out.println("alice received " + run());
  }
}
