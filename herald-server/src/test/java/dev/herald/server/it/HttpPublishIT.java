package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class HttpPublishIT {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  @Test
  void publishesAndAnswersThePosition() {
    var r = server.publishHttp("test:http", "{\"a\":1}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).matches("\\{\"epoch\":\"\\w+\",\"offset\":1}");
  }

  @Test
  void aRetryWithTheSameIdempotencyKeyAnswersTheFirstPositionAndPublishesNothing() {
    Map<String, String> headers =
        Map.of(
            "Authorization", "Bearer " + TestServer.API_KEY,
            "Content-Type", "application/json",
            "Idempotency-Key", "invoice-1001-paid");
    String body = "{\"channel\":\"test:once\",\"data\":{\"n\":1}}";
    var first = server.post("/api/v1/publish", body, headers);
    var retry = server.post("/api/v1/publish", body, headers);
    var unkeyed = server.publishHttp("test:once", "{\"n\":2}");

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.body()).endsWith("\"offset\":1}");
    assertThat(retry.statusCode()).isEqualTo(200);
    assertThat(retry.body()).isEqualTo(first.body());
    assertThat(unkeyed.body()).endsWith("\"offset\":2}");
  }

  @Test
  void refusesAnIdempotencyKeyThatIsNotPrintableAscii() {
    var r =
        server.post(
            "/api/v1/publish",
            "{\"channel\":\"test:once-bad\",\"data\":1}",
            Map.of(
                "Authorization",
                "Bearer " + TestServer.API_KEY,
                "Content-Type",
                "application/json",
                "Idempotency-Key",
                "x".repeat(129)));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("\"code\":107").contains("Idempotency-Key");
    assertThat(server.publishHttp("test:once-bad", "1").body()).endsWith("\"offset\":1}");
  }

  @Test
  void acceptsAContentTypeInCapitalsWhateverTheDefaultLocale() {
    Locale saved = Locale.getDefault();
    // In Turkish, "I".toLowerCase() is a dotless i: "APPLICATION/JSON" would not match.
    Locale.setDefault(Locale.forLanguageTag("tr-TR"));
    try {
      var r =
          server.post(
              "/api/v1/publish",
              "{\"channel\":\"test:locale\",\"data\":1}",
              "Bearer " + TestServer.API_KEY,
              "APPLICATION/JSON");
      assertThat(r.statusCode()).isEqualTo(200);
    } finally {
      Locale.setDefault(saved);
    }
  }

  @Test
  void refusesMissingOrWrongKey() {
    var none =
        server.post(
            "/api/v1/publish", "{\"channel\":\"test:x\",\"data\":1}", null, "application/json");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.body()).contains("\"code\":101");
    var wrong =
        server.post(
            "/api/v1/publish",
            "{\"channel\":\"test:x\",\"data\":1}",
            "Bearer nope",
            "application/json");
    assertThat(wrong.statusCode()).isEqualTo(401);
  }

  @Test
  void explainsBadRequests() {
    String key = "Bearer " + TestServer.API_KEY;
    assertThat(server.post("/api/v1/publish", "{oops", key, "application/json").statusCode())
        .isEqualTo(400);
    assertThat(server.post("/api/v1/publish", "{\"data\":1}", key, "application/json").body())
        .contains("\"code\":107");
    assertThat(
            server
                .post("/api/v1/publish", "{\"channel\":\"test:x\",\"data\":1}", key, "text/plain")
                .statusCode())
        .isEqualTo(415);
    var unknown =
        server.post(
            "/api/v1/publish", "{\"channel\":\"nope:x\",\"data\":1}", key, "application/json");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).contains("\"code\":102");
    var big =
        server.post(
            "/api/v1/publish",
            "{\"channel\":\"test:x\",\"data\":\"" + "x".repeat(40_000) + "\"}",
            key,
            "application/json");
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(big.body()).contains("\"code\":114");
    var huge =
        server.post(
            "/api/v1/publish",
            "{\"channel\":\"test:x\",\"data\":\"" + "x".repeat(100_000) + "\"}",
            key,
            "application/json");
    assertThat(huge.statusCode()).isEqualTo(413);
  }

  @Test
  void healthEndpointsAnswer() {
    assertThat(server.get("/health/live", Map.of()).statusCode()).isEqualTo(200);
    assertThat(server.get("/health/ready", Map.of()).statusCode()).isEqualTo(200);
  }
}
