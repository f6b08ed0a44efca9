package dev.herald.app.activity;

import java.time.OffsetDateTime;
import java.util.List;

/** A reply to an activity. */
public record Reply(
    long id,
    long activityId,
    long projectId,
    String author,
    String message,
    List<String> mentions,
    OffsetDateTime createdAt,
    OffsetDateTime updatedAt,
    long version) {}
