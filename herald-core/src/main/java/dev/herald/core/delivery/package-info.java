/**
 * Delivery: how publications reach connections. Internal to the hub (public only so that the hub's
 * package can use it; not an API for applications or transports, and it may change).
 *
 * <ul>
 *   <li>{@link dev.herald.core.delivery.SubscriberRegistry}: a channel's subscriptions on this
 *       node, grouped by event loop.
 *   <li>{@link dev.herald.core.delivery.LoopDispatcher}: one per event loop; hands it each channel
 *       event once (inline or as one task), bounds what waits for it, coalesces its writes.
 *   <li>{@link dev.herald.core.delivery.Subscription}: one connection's place in one channel's
 *       stream: pending, recovering page by page, live; holds live events while not live.
 *   <li>{@link dev.herald.core.delivery.Outbox}: one connection's queue of bytes the transport has
 *       not taken yet.
 * </ul>
 *
 * <p>All of a connection's delivery state is confined to its event loop; nothing here locks.
 */
package dev.herald.core.delivery;
