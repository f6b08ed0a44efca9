package dev.herald.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.outbox.internal.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChangePageTest {
  @Test
  void sinceMustBeAWholeNumberFromZero() {
    assertThat(ChangePage.parseSince("0")).isZero();
    assertThat(ChangePage.parseSince(" 42 ")).isEqualTo(42);
    for (String bad : new String[] {"-1", "x", "1.5", "99999999999999999999"}) {
      assertThatThrownBy(() -> ChangePage.parseSince(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(">= 0");
    }
    assertThatThrownBy(() -> ChangePage.parseSince(null)).hasMessageContaining("required");
    assertThatThrownBy(() -> ChangePage.parseSince("")).hasMessageContaining("required");
  }

  @Test
  void envelopeEscapesTextFieldsAndKeepsDataAsIs() {
    assertThat(Json.envelope(7, "it\"em", "a\nb", "created", 2, "{\"x\":[1,2]}"))
        .isEqualTo(
            "{\"seq\":7,\"type\":\"it\\\"em\",\"id\":\"a\\nb\",\"action\":\"created\","
                + "\"version\":2,\"data\":{\"x\":[1,2]}}");
    assertThat(Json.envelope(1, "t", null, null, 0, "null"))
        .isEqualTo("{\"seq\":1,\"type\":\"t\",\"data\":null}");
  }

  @Test
  void pageJsonListsTheEnvelopes() {
    assertThat(new ChangePage(9, true, false, List.of("{\"seq\":8}", "{\"seq\":9}")).toJson())
        .isEqualTo("{\"seq\":9,\"more\":true,\"changes\":[{\"seq\":8},{\"seq\":9}]}");
  }

  @Test
  void dataMustBeOneJsonValue() {
    Json.requireValid("{\"a\":[1,{\"b\":null}]}");
    Json.requireValid("3");
    assertThatThrownBy(() -> Json.requireValid("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> Json.requireValid("[1,")).hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> Json.requireValid("{'a':1}")).hasMessageContaining("not valid JSON");
  }
}
