package dev.herald.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.client.CloseInfo;
import dev.herald.client.ConnectionListener;
import dev.herald.client.HeraldClient;
import dev.herald.client.HeraldException;
import dev.herald.client.SubscriptionHandler;
import dev.herald.protocol.ServerMessage.Pub;
import dev.herald.protocol.ServerMessage.SubscribeResult;
import dev.herald.server.Herald;
import example.springboot.NewsroomApplication;
import example.springboot.StoryService;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.HttpCookie;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The newsroom sample booted once (its own port, Herald on another free one): a browser-like login
 * with Spring Security's form, then the Java client connects to Herald with that session's cookie
 * and nothing else, receives what a service publishes in a committed transaction and not what it
 * published in a rolled-back one; Actuator shows Herald's health and meters; logging out closes the
 * connection.
 */
@SpringBootTest(
    classes = NewsroomApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "herald.server.port=0")
class SpringBootStarterIT {
  private static final Pattern CSRF =
      Pattern.compile("name=\"_csrf\" type=\"hidden\" value=\"([^\"]+)\"");

  @LocalServerPort int appPort;
  @Autowired Herald herald;
  @Autowired StoryService stories;
  @Autowired MeterRegistry meters;

  private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
  private final HttpClient browser = browser(cookies);

  private static HttpClient browser(CookieManager jar) {
    return HttpClient.newBuilder()
        .cookieHandler(jar)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  /** Logs alice in from another browser (cookie jar): her second session's id. */
  private String aliceElsewhere() throws Exception {
    CookieManager jar = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    HttpClient other = browser(jar);
    String csrf = csrf(get(other, "/login").body());
    return sessionAfter(
        jar, post(other, "/login", "username=alice&password=alice-password&_csrf=" + csrf));
  }

  @Test
  void aLoggedInSessionReceivesCommittedPublicationsOnly() throws Exception {
    String anonymous = sessionAfter(cookies, get(browser, "/login"));
    // A session without a login (Spring Security keeps its CSRF token there): refused (4500).
    assertRefused(anonymous, "not logged in");
    HttpResponse<String> login =
        post(
            browser,
            "/login",
            "username=alice&password=alice-password&_csrf=" + csrf(get(browser, "/login").body()));
    assertThat(login.statusCode()).isEqualTo(302);
    assertThat(login.headers().firstValue("Location")).hasValueSatisfying(l -> l.endsWith("/"));
    String session = sessionAfter(cookies, login);
    assertThat(session).as("login gives the session a new id").isNotEqualTo(anonymous);

    // No cookie, or the id the session had before the login: refused, no reconnect.
    assertRefused(null, "no session cookie");
    assertRefused(anonymous, "no such session");

    BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
    CompletableFuture<CloseInfo> closed = new CompletableFuture<>();
    HeraldClient alice =
        HeraldClient.builder(heraldUrl())
            .header("Cookie", "JSESSIONID=" + session)
            .listener(
                new ConnectionListener() {
                  @Override
                  public void onClosed(CloseInfo reason) {
                    closed.complete(reason);
                  }
                })
            .build();
    try {
      assertThat(alice.connect().get(10, TimeUnit.SECONDS).user()).isEqualTo("alice");
      subscribe(alice, received);

      assertThatThrownBy(() -> stories.publishUnchecked("Spiked story"))
          .isInstanceOf(IllegalStateException.class);
      assertThat(stories.count("Spiked story")).isZero();
      long id = stories.publish("Council votes on the budget");

      // Ordered per channel: had the rolled-back publication left, it would come first.
      JsonNode first = received.poll(10, TimeUnit.SECONDS);
      assertThat(first).isNotNull();
      assertThat(first.get("title").asText()).isEqualTo("Council votes on the budget");
      assertThat(first.get("id").asLong()).isEqualTo(id);
      assertThat(received).isEmpty();

      // Actuator: Herald's health component and its meters in the application's registry.
      JsonNode health = JSON.readTree(get(browser, "/actuator/health").body());
      assertThat(health.at("/components/herald/status").asText()).isEqualTo("UP");
      assertThat(health.at("/components/herald/details/broker").asText()).isEqualTo("up");
      assertThat(meters.get("herald.connections").tag("transport", "websocket").gauge().value())
          .isEqualTo(1.0);
      assertThat(meters.get("herald.publications").counter().count()).isGreaterThanOrEqualTo(1);

      // Alice in another browser: her second session, its own connection.
      BlockingQueue<JsonNode> elsewhereReceived = new LinkedBlockingQueue<>();
      HeraldClient elsewhere =
          HeraldClient.builder(heraldUrl())
              .header("Cookie", "JSESSIONID=" + aliceElsewhere())
              .build();
      elsewhere.connect().get(10, TimeUnit.SECONDS);
      subscribe(elsewhere, elsewhereReceived);

      // Logging out ends the session, and with it the connection (4501: no reconnect).
      HttpResponse<String> logout =
          post(browser, "/logout", "_csrf=" + csrf(get(browser, "/logout").body()));
      assertThat(logout.statusCode()).isEqualTo(302);
      assertThat(closed.get(10, TimeUnit.SECONDS).code()).isEqualTo(4501);
      assertRefused(session, "no such session");
      // ...and only that session's: alice's connection from her other session stays.
      stories.publish("After the logout");
      JsonNode after = elsewhereReceived.poll(10, TimeUnit.SECONDS);
      assertThat(after).isNotNull();
      assertThat(after.get("title").asText()).isEqualTo("After the logout");
      elsewhere.close();
    } finally {
      alice.close();
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Subscribes to the news desk; returns once subscribed, its publications go to {@code into}. */
  private static void subscribe(HeraldClient client, BlockingQueue<JsonNode> into)
      throws Exception {
    CompletableFuture<Void> subscribed = new CompletableFuture<>();
    client.subscribe(
        "desk:news",
        new SubscriptionHandler() {
          @Override
          public void onSubscribed(SubscribeResult result) {
            subscribed.complete(null);
          }

          @Override
          public void onPublication(Pub pub) {
            try {
              into.add(JSON.readTree(pub.data().json()));
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
        });
    subscribed.get(10, TimeUnit.SECONDS);
  }

  private void assertRefused(String session, String why) {
    HeraldClient.Builder b = HeraldClient.builder(heraldUrl());
    if (session != null) {
      b.header("Cookie", "JSESSIONID=" + session);
    }
    HeraldClient client = b.build();
    try {
      assertThatThrownBy(() -> client.connect().get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOfSatisfying(
              HeraldException.class, e -> assertThat(e.close().code()).isEqualTo(4500))
          .hasMessageContaining(why);
    } finally {
      client.close();
    }
  }

  private URI heraldUrl() {
    return URI.create("ws://127.0.0.1:" + herald.port() + "/connection/websocket");
  }

  private static String sessionAfter(CookieManager jar, HttpResponse<String> response) {
    return jar.getCookieStore().getCookies().stream()
        .filter(c -> c.getName().equals("JSESSIONID"))
        .map(HttpCookie::getValue)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no session cookie after " + response.uri()));
  }

  private static String csrf(String page) {
    Matcher m = CSRF.matcher(page);
    assertThat(m.find()).as("a CSRF token in %s", page).isTrue();
    return URLEncoder.encode(m.group(1), StandardCharsets.UTF_8);
  }

  private HttpResponse<String> get(HttpClient client, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + appPort + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(HttpClient client, String path, String form) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + appPort + path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
