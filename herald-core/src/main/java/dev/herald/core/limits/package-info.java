/**
 * Limits against abusive or broken clients: a per-connection token bucket for inbound messages and
 * bounded counters of connections per user and per address. Internal to the hub (public only so
 * that the hub's package can use them), except {@link dev.herald.core.limits.UserConnections}, an
 * SPI through which a cluster counts each user's connections across its nodes.
 */
package dev.herald.core.limits;
