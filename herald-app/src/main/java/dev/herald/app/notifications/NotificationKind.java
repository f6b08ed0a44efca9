package dev.herald.app.notifications;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Why a user is notified. */
public enum NotificationKind {
  MENTIONED,
  REPLY,
  ITEM_COMMENT,
  STATUS_CHANGE,
  PUBLISHED,
  PUBLISH_FAILED,
  /** Added to a project (at its creation or later). */
  ADDED;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
