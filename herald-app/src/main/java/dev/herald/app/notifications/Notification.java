package dev.herald.app.notifications;

import java.time.OffsetDateTime;

/** A notification as the API returns it. */
public record Notification(
    long id,
    String kind,
    String subject,
    String text,
    String link,
    String sender,
    OffsetDateTime createdAt,
    boolean read) {}
