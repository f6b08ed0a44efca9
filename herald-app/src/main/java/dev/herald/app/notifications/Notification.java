package dev.herald.app.notifications;

import java.time.OffsetDateTime;
import org.jspecify.annotations.Nullable;

/** A notification as the API returns it. */
public record Notification(
    long id,
    String kind,
    String subject,
    String text,
    String link,
    @Nullable String sender, // null: the system
    OffsetDateTime createdAt,
    boolean read) {}
