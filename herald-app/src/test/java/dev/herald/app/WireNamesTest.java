package dev.herald.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.app.notifications.NotificationKind;
import dev.herald.app.projects.ItemStatus;
import dev.herald.app.projects.ItemType;
import dev.herald.app.projects.ProjectStatus;
import dev.herald.app.users.Role;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The names the API and the events carry are ASCII whatever the JVM's default locale: in Turkish,
 * "I" lower-cases to a dotless "ı" and "i" upper-cases to "İ", which would change "publishing" on
 * the wire and refuse "media" in a request.
 */
class WireNamesTest {
  private Locale saved;

  @BeforeEach
  void turkish() {
    saved = Locale.getDefault();
    Locale.setDefault(Locale.forLanguageTag("tr-TR"));
  }

  @AfterEach
  void restore() {
    Locale.setDefault(saved);
  }

  @Test
  void wireNamesAreTheSameInEveryLocale() {
    assertThat(ItemStatus.PUBLISHED.wire()).isEqualTo("published");
    assertThat(ProjectStatus.PUBLISHING.wire()).isEqualTo("publishing");
    assertThat(ItemType.MEDIA.wire()).isEqualTo("media");
    assertThat(Role.ADMIN.wire()).isEqualTo("admin");
    assertThat(NotificationKind.ITEM_COMMENT.wire()).isEqualTo("item_comment");
    assertThat(NotificationKind.MENTIONED.wire()).isEqualTo("mentioned");
  }

  @Test
  void wireNamesAreReadInEveryLocale() {
    assertThat(ItemStatus.of("ready")).isEqualTo(ItemStatus.READY);
    assertThat(ItemStatus.of("published")).isEqualTo(ItemStatus.PUBLISHED);
    assertThat(ProjectStatus.of("publish_failed")).isEqualTo(ProjectStatus.PUBLISH_FAILED);
    assertThat(ItemType.of("media")).isEqualTo(ItemType.MEDIA);
    assertThat(Role.of("admin")).isEqualTo(Role.ADMIN);
    assertThat(Role.of("editor")).isEqualTo(Role.EDITOR);
  }
}
