package dev.herald.app.activity;

import java.time.OffsetDateTime;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An entry in a project's activity feed. {@code kind} is {@code comment} (a user post: a project
 * comment without {@code itemId}, an item comment with it) or {@code system} (status changes,
 * publishing, scheduling; {@code systemType} says which). {@code mentions} lists the users the
 * message mentions who may see the project; clients show them highlighted. {@code message} is plain
 * text: clients must escape it.
 */
public record Activity(
    long id,
    long projectId,
    @Nullable Long itemId,
    String kind,
    @Nullable String systemType, // system entries only
    @Nullable String author, // comments only
    String message,
    List<String> mentions,
    OffsetDateTime createdAt,
    OffsetDateTime updatedAt,
    long version,
    List<Reply> replies) {}
