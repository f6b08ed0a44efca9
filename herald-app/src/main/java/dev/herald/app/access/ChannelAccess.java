package dev.herald.app.access;

import dev.herald.app.db.Database;
import dev.herald.app.users.User;
import dev.herald.app.users.UserRepository;
import dev.herald.core.auth.ChannelAction;
import dev.herald.core.auth.ChannelAuthorizer;
import dev.herald.core.auth.Principal;
import dev.herald.core.channel.ChannelName;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Real-time channel rules, the same as the REST API's: {@code project:<id>} for those who may see
 * the project (subscribe and presence; clients never publish there, the namespace forbids it);
 * {@code user:<id>:...} only for that user (enforced by the personal namespace before this runs).
 * {@code admin:...} (the admin console's live stats) only for admins, subscribe only. Lookups run
 * on a worker executor.
 */
public final class ChannelAccess implements ChannelAuthorizer {
  private final Database db;
  private final Executor blocking;

  public ChannelAccess(Database db, Executor blocking) {
    this.db = db;
    this.blocking = blocking;
  }

  @Override
  public CompletionStage<Boolean> authorize(
      Principal principal, ChannelAction action, ChannelName channel) {
    if (channel.namespace().equals("user")) {
      return CompletableFuture.completedFuture(true);
    }
    if (channel.namespace().equals("admin")) {
      if (action != ChannelAction.SUBSCRIBE) {
        return CompletableFuture.completedFuture(false);
      }
      return CompletableFuture.supplyAsync(
          () ->
              db.read(
                  h -> UserRepository.find(h, principal.userId()).map(User::isAdmin).orElse(false)),
          blocking);
    }
    if (!channel.namespace().equals("project") || action == ChannelAction.PUBLISH) {
      return CompletableFuture.completedFuture(false);
    }
    long projectId;
    try {
      projectId = Long.parseLong(channel.firstSegment());
    } catch (NumberFormatException e) {
      return CompletableFuture.completedFuture(false);
    }
    return CompletableFuture.supplyAsync(
        () ->
            db.read(
                h -> {
                  User user = UserRepository.find(h, principal.userId()).orElse(null);
                  return user != null && Access.canSee(h, user, projectId);
                }),
        blocking);
  }
}
