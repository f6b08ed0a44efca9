package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.herald.app.testing.ApiClient;
import dev.herald.app.testing.AppTestBase;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every 400 names the field and says, in a sentence a person understands, what is wrong and what to
 * do (docs/api.md "Errors"); over-long text is refused with its length and the limit, never
 * shortened and stored.
 */
class FieldErrorsIT extends AppTestBase {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String body(Map<String, ?> fields) {
    ObjectNode o = JSON.createObjectNode();
    fields.forEach((k, v) -> o.set(k, JSON.valueToTree(v)));
    return o.toString();
  }

  private static long project(ApiClient c) {
    return c.post("/api/projects", body(Map.of("name", "Forms")))
        .expect(201)
        .json()
        .get("id")
        .asLong();
  }

  /**
   * The 400's fields: exactly {@code field}, with a sentence (a capital, a full stop, no bare field
   * name), which is also the error's message.
   */
  private static String fieldError(ApiClient.Response r, String field) {
    r.expect(400);
    assertThat(r.errorCode()).isEqualTo("validation_failed");
    JsonNode error = r.json().get("error");
    assertThat(error.get("fields").properties())
        .extracting(Map.Entry::getKey)
        .containsExactly(field);
    String text = error.get("fields").get(field).asText();
    assertThat(text).as("a sentence").matches("[A-Z].*[.)]").doesNotStartWith(field);
    assertThat(error.get("message").asText()).isEqualTo(text);
    return text;
  }

  @Test
  void aPastScheduleTimeSaysItHasPassed() {
    ApiClient alice = app.login("alice");
    long p = project(alice);
    String past = OffsetDateTime.now(ZoneOffset.UTC).minusHours(2).toString();
    String text =
        fieldError(alice.post("/api/projects/" + p + "/schedule", body(Map.of("at", past))), "at");
    assertThat(text).startsWith("Choose a time in the future").contains("has passed");
    assertThat(fieldError(alice.post("/api/projects/" + p + "/schedule", body(Map.of())), "at"))
        .contains("Choose the date and time");
    assertThat(
            fieldError(
                alice.post(
                    "/api/projects/" + p + "/schedule", body(Map.of("at", "2026-12-01T09:00"))),
                "at"))
        .contains("time zone offset");
  }

  @Test
  void aBadContentReferenceShowsTheExpectedForm() {
    ApiClient alice = app.login("alice");
    long p = project(alice);
    Map<String, Object> item =
        Map.of("contentRef", "Page 12", "contentVersion", 1, "title", "T", "type", "page");
    String text = fieldError(alice.post("/api/projects/" + p + "/items", body(item)), "contentRef");
    assertThat(text).contains("for example page/12");
    String missing =
        fieldError(
            alice.post(
                "/api/projects/" + p + "/items",
                body(Map.of("contentVersion", 1, "title", "T", "type", "page"))),
            "contentRef");
    assertThat(missing).startsWith("Give the content");
  }

  @Test
  void aTooLargeNumberSaysTheLargestAllowed() {
    ApiClient alice = app.login("alice");
    long p = project(alice);
    String text =
        fieldError(
            alice.post(
                "/api/projects/" + p + "/items",
                "{\"contentRef\":\"page/1\",\"contentVersion\":99999999999,\"title\":\"T\",\"type\":\"page\"}"),
            "contentVersion");
    assertThat(text).contains("no larger than 2147483647");
    assertThat(
            fieldError(
                alice.post(
                    "/api/projects/" + p + "/items",
                    "{\"contentRef\":\"page/1\",\"contentVersion\":0,\"title\":\"T\",\"type\":\"page\"}"),
                "contentVersion"))
        .contains("from 1");
  }

  @Test
  void aWhitespaceOnlyCommentAsksForText() {
    ApiClient alice = app.login("alice");
    long p = project(alice);
    String text =
        fieldError(
            alice.post("/api/projects/" + p + "/activities", body(Map.of("message", " \n\t "))),
            "message");
    assertThat(text).contains("empty");
  }

  @Test
  void severalInvalidFieldsEachGetTheirSentence() {
    ApiClient alice = app.login("alice");
    long p = project(alice);
    ApiClient.Response r =
        alice
            .post(
                "/api/projects/" + p + "/items",
                body(Map.of("contentRef", "x", "contentVersion", 0, "title", " ", "type", "video")))
            .expect(400);
    JsonNode fields = r.json().get("error").get("fields");
    assertThat(fields.properties())
        .extracting(Map.Entry::getKey)
        .containsExactly("contentRef", "contentVersion", "title", "type");
    assertThat(fields.get("type").asText()).isEqualTo("Choose page, block or media.");
    assertThat(fields.get("title").asText()).isEqualTo("Give the item a title.");
    String message = r.json().get("error").get("message").asText();
    for (JsonNode f : fields) {
      assertThat(message).contains(f.asText());
    }
    assertThat(message).doesNotContain("Some fields are invalid");
    // A wrong type is reported together with the other fields, not alone.
    JsonNode mixed =
        alice
            .post(
                "/api/projects/" + p + "/items",
                "{\"contentRef\":\"Page 12\",\"contentVersion\":99999999999,\"title\":\"T\","
                    + "\"type\":\"page\"}")
            .expect(400)
            .json()
            .get("error")
            .get("fields");
    assertThat(mixed.properties())
        .extracting(Map.Entry::getKey)
        .containsExactlyInAnyOrder("contentRef", "contentVersion");
    assertThat(
            fieldError(
                alice.post(
                    "/api/projects", body(Map.of("name", "X", "members", new String[] {"nobody"}))),
                "members"))
        .isEqualTo("There is no user 'nobody'. Use user names, such as bob.");
    assertThat(
            fieldError(
                alice.post("/api/projects/" + p + "/members", body(Map.of("userId", "nobody"))),
                "userId"))
        .contains("There is no user 'nobody'");
  }

  @Test
  void overLongTextIsRefusedWithItsLengthNeverShortened() {
    ApiClient alice = app.login("alice");
    long p = project(alice);
    String comment = "c".repeat(10_000);
    assertThat(
            fieldError(
                alice.post("/api/projects/" + p + "/activities", body(Map.of("message", comment))),
                "message"))
        .isEqualTo("The message is 10000 characters long; the limit is 4000. Shorten it by 6000.");
    assertThat(alice.get("/api/projects/" + p + "/activities").expect(200).json())
        .as("nothing stored")
        .isEmpty();

    assertThat(
            fieldError(alice.post("/api/projects", body(Map.of("name", "n".repeat(201)))), "name"))
        .contains("201 characters long; the limit is 200");
    assertThat(
            fieldError(
                alice.post(
                    "/api/projects", body(Map.of("name", "N", "description", "d".repeat(4500)))),
                "description"))
        .contains("4500 characters long; the limit is 4000");
    assertThat(
            fieldError(
                alice.post(
                    "/api/projects/" + p + "/items",
                    body(
                        Map.of(
                            "contentRef",
                            "page/1",
                            "contentVersion",
                            1,
                            "title",
                            "t".repeat(301),
                            "type",
                            "page"))),
                "title"))
        .contains("301 characters long; the limit is 300");
    assertThat(alice.get("/api/projects/" + p + "/items").expect(200).json()).isEmpty();

    // At the limit exactly, everything is kept.
    JsonNode kept =
        alice
            .post("/api/projects/" + p + "/activities", body(Map.of("message", "k".repeat(4000))))
            .expect(201)
            .json();
    assertThat(kept.get("message").asText()).hasSize(4000);
  }
}
