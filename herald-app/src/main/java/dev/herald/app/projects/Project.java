package dev.herald.app.projects;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;

/**
 * A project as the API returns it. {@code counts} holds items per status (all statuses present).
 */
public record Project(
    long id,
    String name,
    String description,
    String status,
    OffsetDateTime scheduledAt,
    String createdBy,
    OffsetDateTime createdAt,
    long version,
    List<String> members,
    Map<String, Integer> counts) {}
