package dev.herald.app.projects;

import java.time.OffsetDateTime;

/** One version of a content item in a project. */
public record ProjectItem(
    long id,
    long projectId,
    String contentRef,
    int contentVersion,
    String title,
    String type,
    String status,
    String changedBy,
    OffsetDateTime changedAt,
    long version) {}
