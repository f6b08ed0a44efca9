package dev.herald.core.broker;

import java.util.Objects;

/**
 * An account action for every node: end a user's or a credential's connections, or check a user's
 * subscriptions again.
 *
 * @param kind what to do
 * @param subject the user id or the credential
 * @param closeCode the close code of the ended connections (revocations; 0 otherwise)
 * @param reason the close reason (revocations; empty otherwise)
 */
public record ControlMessage(Kind kind, String subject, int closeCode, String reason) {
  /** What a node does with the message. */
  public enum Kind {
    /** {@code Hub.revokeUser}: end every connection of the user. */
    REVOKE_USER,
    /** {@code Hub.revokeCredential}: end every connection opened with the credential. */
    REVOKE_CREDENTIAL,
    /** {@code Hub.revalidate}: authorize the user's subscriptions again. */
    REVALIDATE
  }

  public ControlMessage {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(subject, "subject");
    reason = reason == null ? "" : reason;
  }
}
