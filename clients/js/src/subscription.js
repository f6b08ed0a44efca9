// One channel subscription: ordering and recovery (protocol section 5), presence (sections 3
// and 4) and the presence state this client announces (activity and idleness).

import { ClientErrorCodes, ErrorCodes, HeraldError } from './errors.js';
import { clientEntry, groupByUser, isObject } from './presence.js';

// Hooks the Herald instance calls. Symbols keep them off the public surface.
export const kStart = Symbol('herald.start');
export const kSessionEnded = Symbol('herald.sessionEnded');
export const kPub = Symbol('herald.pub');
export const kPresenceEvent = Symbol('herald.presenceEvent');
export const kIdleChanged = Symbol('herald.idleChanged');
export const kHandoverPending = Symbol('herald.handoverPending');
export const kRevoked = Symbol('herald.revoked');

const HANDLERS = ['onPublication', 'onSubscribed', 'onStateLost', 'onJoin', 'onLeave', 'onPresence', 'onError'];
const OPTIONS = new Set([...HANDLERS, 'presence', 'since']);

/**
 * A subscription to one channel, returned by `herald.subscribe()`. It lives until
 * `unsubscribe()` (or a permanent error): across reconnects it is renewed from the last
 * position seen, so the handlers get every publication once and in order, or `onStateLost`.
 *
 * `core` is the Herald instance's internal interface (see `#core` in herald.js).
 */
export class Subscription {
  #core;
  #channel;
  #handlers;
  /** 'subscribing' | 'live' | 'failed' | 'unsubscribed' */
  #state = 'subscribing';
  #error = null;
  /** Position of the last publication processed (or of the subscribe result). */
  #position = null;
  /**
   * Wire state on the current connection: 'idle' (nothing sent), 'subscribing' (subscribe sent,
   * publications ignored until its reply), 'live' (publications are checked and delivered).
   */
  #phase = 'idle';
  /** Bumped whenever replies to earlier requests must be ignored (new connection, resync). */
  #seq = 0;
  /** Recovered publications still expected after a recovered subscribe reply. */
  #recovering = 0;
  /**
   * During a transport switch: the subscribe on the new connection is in flight and the old
   * connection still delivers (`{since}` = the position the new subscribe recovers from).
   */
  #handover = null;
  /** After a switch, publications up to this offset were delivered by the old connection. */
  #overlapUntil = null;
  #retryTimer = null;
  #retryAttempt = 0;
  #confirmed = null; // the first onSubscribed info, once there is one
  #readyWaiters = [];

  // Presence: the other connections in the channel.
  #tracksPresence;
  #presenceAvailable = null;
  #clients = new Map();

  // Presence state this connection announces: the app's activity plus idleness.
  #activity = null;
  #stateOnServer = '{}';
  #stateDirty = false;
  #stateInFlight = false;
  #stateWaiters = [];

  /** Presence of the channel (see docs/client-js.md, "Presence"). */
  presence;

  constructor(core, channel, options = {}) {
    this.#core = core;
    this.#channel = channel;
    if (!isObject(options)) throw new TypeError('subscribe(channel, options): options must be an object of handlers and settings');
    for (const key of Object.keys(options)) {
      // A misspelt handler (onMessage for onPublication) would silently drop every message.
      if (!OPTIONS.has(key)) throw new TypeError(`unknown subscribe option '${key}'; expected one of ${[...OPTIONS].join(', ')}`);
    }
    this.#handlers = {};
    for (const name of HANDLERS) {
      const fn = options[name];
      if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`subscribe option ${name} must be a function`);
      if (fn) this.#handlers[name] = fn;
    }
    if (options.since != null) {
      const s = options.since;
      if (!isObject(s) || typeof s.epoch !== 'string' || !Number.isSafeInteger(s.offset) || s.offset < 0) {
        throw new TypeError('subscribe option since must be {epoch: string, offset: integer >= 0}');
      }
      this.#position = { epoch: s.epoch, offset: s.offset };
    }
    this.#tracksPresence = options.presence ?? Boolean(this.#handlers.onJoin || this.#handlers.onLeave || this.#handlers.onPresence);
    const self = this;
    this.presence = Object.freeze({
      /** Everyone in the channel grouped by user (several tabs of a person count once). */
      users: () => groupByUser(self.#clients.values(), self.#core.user()),
      /** Every connection in the channel, as the protocol reports them. */
      clients: () => [...self.#clients.values()],
      /** true / false once known whether the channel's namespace has presence; null before. */
      get available() {
        return self.#presenceAvailable;
      },
      /** Fetches a fresh presence list from the server; resolves with users(). */
      refresh: () => self.#refreshPresence(),
    });
  }

  /** The channel name. */
  get channel() {
    return this.#channel;
  }

  /** `subscribing` (waiting for the server, also while reconnecting), `live`, `failed` or `unsubscribed`. */
  get state() {
    return this.#state;
  }

  /** Why the subscription failed (state `failed`), else null. */
  get error() {
    return this.#error;
  }

  /** Position `{epoch, offset}` of the last publication delivered (or where the subscription started); null before the first subscribe reply. */
  get position() {
    return this.#position ? { ...this.#position } : null;
  }

  /**
   * Resolves with the `onSubscribed` info of the first successful subscribe; rejects if the
   * subscription fails or is unsubscribed first.
   */
  ready() {
    if (this.#confirmed) return Promise.resolve(this.#confirmed);
    if (this.#state === 'failed') return Promise.reject(this.#error);
    if (this.#state === 'unsubscribed') return Promise.reject(new HeraldError(ClientErrorCodes.CLOSED, `unsubscribed from '${this.#channel}'`, { channel: this.#channel }));
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /**
   * Ends the subscription: no handler is called after this. Resolves when the server confirmed
   * (or at once when not connected); never rejects.
   */
  unsubscribe() {
    if (this.#isClosed()) return Promise.resolve();
    const onServer = this.#phase !== 'idle';
    this.#state = 'unsubscribed';
    this.#close(new HeraldError(ClientErrorCodes.CLOSED, `unsubscribed from '${this.#channel}'`, { channel: this.#channel }));
    if (onServer && this.#core.live()) {
      return this.#core.request({ type: 'unsubscribe', channel: this.#channel }).then(
        () => undefined,
        () => undefined,
      );
    }
    return Promise.resolve();
  }

  /**
   * Sets what this user is doing in the channel, e.g. `{editing: 'item:7'}` or
   * `{viewing: 'item:7'}`; `null` clears it. Other subscribers see it as this connection's
   * presence `state` (with `idle: true` added while the user is idle). It is announced again
   * after every reconnect. Resolves `true` once the server has it, `false` if it could not be
   * set (the reason goes to `onError`, e.g. 108 when the namespace has no presence).
   *
   * @param {Record<string, unknown>|null} activity
   * @returns {Promise<boolean>}
   */
  setActivity(activity) {
    if (activity !== null && !isObject(activity)) throw new TypeError('setActivity(activity): activity must be an object or null');
    if (this.#isClosed()) return Promise.resolve(false);
    if (activity) {
      const { idle: _ignored, ...rest } = activity; // idleness is reported by the client itself
      this.#activity = rest;
    } else {
      this.#activity = null;
    }
    return this.#syncState();
  }

  /** The activity last given to `setActivity` (null if none). */
  get activity() {
    return this.#activity ? { ...this.#activity } : null;
  }

  // ---------------------------------------------------------------- called by Herald

  /**
   * A connection went live (or the subscription was created on a live one): subscribe.
   * `handover`: the client switched transports and the previous connection still delivers;
   * a live subscription keeps taking its publications until the new subscribe is confirmed
   * (make-before-break), so nothing is lost even where history cannot fill the gap.
   */
  [kStart](handover = false) {
    if (this.#isClosed()) return;
    this.#clearRetry();
    const seq = ++this.#seq;
    this.#overlapUntil = null;
    if (handover && this.#phase === 'live') {
      const since = { ...this.#position };
      this.#handover = { since };
      this.#core.send(
        { type: 'subscribe', channel: this.#channel, since: { epoch: since.epoch, offset: since.offset } },
        (result) => {
          if (seq !== this.#seq) return;
          this.#handover = null;
          this.#subscribed(result, since);
        },
        (err) => {
          if (seq !== this.#seq) return;
          this.#handover = null;
          this.#phase = 'subscribing';
          this.#subscribeFailed(err);
        },
      );
      return;
    }
    this.#handover = null;
    this.#phase = 'subscribing';
    const since = this.#position;
    const msg = since
      ? { type: 'subscribe', channel: this.#channel, since: { epoch: since.epoch, offset: since.offset } }
      : { type: 'subscribe', channel: this.#channel };
    this.#core.send(
      msg,
      (result) => {
        if (seq === this.#seq) this.#subscribed(result, since);
      },
      (err) => {
        if (seq === this.#seq) this.#subscribeFailed(err);
      },
    );
  }

  /** The connection ended; the subscription is renewed when the next one is live. */
  [kSessionEnded]() {
    this.#seq++;
    this.#phase = 'idle';
    this.#handover = null;
    this.#overlapUntil = null;
    this.#clearRetry();
    if (this.#state === 'live') this.#state = 'subscribing';
  }

  /** Whether a transport switch waits for this subscription's renewal. */
  get [kHandoverPending]() {
    return this.#handover !== null;
  }

  /** A `pub` message for this channel (`fromOld`: from the connection being switched away from). */
  [kPub](msg, fromOld = false) {
    if (this.#phase !== 'live') return; // between subscribe and its reply: not ours to deliver
    // During a switch only the old connection delivers; after it only the new one.
    if (fromOld !== (this.#handover !== null)) return;
    if (typeof msg.epoch !== 'string' || !Number.isSafeInteger(msg.offset)) {
      this.#core.report(new HeraldError(ClientErrorCodes.PROTOCOL, `pub without a valid epoch/offset on '${this.#channel}'`, { channel: this.#channel }));
      return;
    }
    const pos = this.#position;
    if (this.#overlapUntil !== null) {
      // The new connection repeats what the old one delivered before the switch: skip quietly.
      if (msg.epoch === pos.epoch && msg.offset <= this.#overlapUntil) return;
      this.#overlapUntil = null;
    }
    if (msg.epoch !== pos.epoch) {
      this.#gap(`the epoch changed from ${pos.epoch} to ${msg.epoch}`);
      return;
    }
    if (msg.offset <= pos.offset) {
      this.#core.count('duplicates'); // protocol section 5: a duplicate, ignore it
      return;
    }
    if (msg.offset !== pos.offset + 1) {
      this.#gap(`expected offset ${pos.offset + 1}, received ${msg.offset}`);
      return;
    }
    this.#position = { epoch: msg.epoch, offset: msg.offset };
    // Servers since 0.2 mark replayed publications; older ones are counted against `missed`.
    const recovered = msg.recovered === true || this.#recovering > 0;
    if (this.#recovering > 0) this.#recovering--;
    const pub = {
      channel: this.#channel,
      data: msg.data,
      epoch: msg.epoch,
      offset: msg.offset,
      ts: Number.isFinite(msg.ts) ? msg.ts : null,
      lagMs: this.#core.measure(msg, recovered),
      recovered,
    };
    if (typeof msg.user === 'string') pub.user = msg.user;
    this.#call('onPublication', pub);
  }

  /** A `join`, `leave` or `presence_update` for this channel. */
  [kPresenceEvent](msg) {
    if (this.#isClosed() || !this.#tracksPresence) return;
    if (typeof msg.client !== 'string') return;
    const entry = clientEntry(msg);
    if (msg.type === 'leave') {
      this.#clients.delete(entry.client);
      this.#call('onLeave', entry);
    } else {
      this.#clients.set(entry.client, entry);
      if (msg.type === 'join') this.#call('onJoin', entry);
    }
    this.#emitPresence({ type: msg.type, client: entry });
  }

  /**
   * The server ended this subscription on its own (`unsubscribed`). A stream reset (116) is not
   * final: the subscription is made again from its last position, and the reply says whether
   * anything was lost (then onStateLost). Anything else (e.g. 103 when the user lost access) is
   * final, like a refused subscribe; it is not renewed after a reconnect.
   */
  [kRevoked](msg) {
    if (this.#isClosed()) return;
    const code = Number.isInteger(msg.code) ? msg.code : ErrorCodes.PERMISSION_DENIED;
    if (code === ErrorCodes.STREAM_RESET) {
      this.#seq++;
      this.#phase = 'subscribing';
      this[kStart]();
      return;
    }
    const reason = typeof msg.reason === 'string' && msg.reason ? msg.reason : 'subscription ended by the server';
    const error = HeraldError.fromProtocol({ code, message: reason }, { channel: this.#channel });
    this.#state = 'failed';
    this.#error = error;
    this.#close(error);
    this.#call('onError', error);
  }

  /** The user became idle or active again. */
  [kIdleChanged]() {
    if (this.#announces()) this.#syncState();
  }

  // ---------------------------------------------------------------- internals

  #isClosed() {
    return this.#state === 'failed' || this.#state === 'unsubscribed';
  }

  #subscribed(result, since) {
    const top = { epoch: String(result?.epoch ?? ''), offset: Number(result?.offset ?? 0) };
    let recovered = since !== null && result?.recovered === true;
    // After a transport switch the old connection may have delivered beyond `since`.
    const pos = this.#position;
    const ahead = since !== null && pos !== null && pos.epoch === since.epoch ? pos.offset - since.offset : 0;
    let lost = null;
    if (since === null) {
      this.#position = top;
      this.#recovering = 0;
    } else if (recovered) {
      // The missed publications follow, continuing from `since` (position stays until they arrive).
      this.#recovering = Number.isSafeInteger(result.missed) ? result.missed : 0;
      if (ahead > 0) {
        this.#recovering = Math.max(0, this.#recovering - ahead);
        this.#overlapUntil = pos.offset;
      }
    } else if (ahead > 0 && pos.epoch === top.epoch && pos.offset >= top.offset) {
      // Not recoverable from history, but the old connection delivered everything up to the
      // new subscription's start: nothing was lost.
      recovered = true;
      this.#recovering = 0;
      this.#overlapUntil = pos.offset;
    } else {
      lost = { channel: this.#channel, reason: lostReason(since, top, result?.recoverable === true), previous: { ...since }, position: { ...top } };
      this.#position = top;
      this.#recovering = 0;
    }
    this.#phase = 'live';
    this.#state = 'live';
    this.#retryAttempt = 0;
    const info = {
      channel: this.#channel,
      position: { ...this.#position },
      since: since ? { ...since } : null,
      recovered,
      missed: recovered ? this.#recovering : 0,
      recoverable: result?.recoverable === true,
      top,
    };
    if (lost) this.#core.count('stateLost');
    this.#call('onSubscribed', info);
    if (lost) this.#call('onStateLost', lost);
    if (!this.#confirmed) {
      this.#confirmed = info;
      for (const w of this.#readyWaiters.splice(0)) w.resolve(info);
    }
    // A new server-side subscription starts with an empty presence state.
    this.#stateOnServer = '{}';
    if (JSON.stringify(this.#desiredState()) !== '{}') this.#stateDirty = true;
    this.#pumpState();
    if (this.#tracksPresence) this.#snapshot();
  }

  #subscribeFailed(err) {
    if (err?.code === ClientErrorCodes.CONNECTION_LOST || err?.code === ClientErrorCodes.CLOSED) {
      return; // renewed when the next connection is live
    }
    const error = withChannel(err, this.#channel);
    if (error.retryable || error.code === ErrorCodes.ALREADY_SUBSCRIBED) {
      this.#phase = 'idle';
      this.#call('onError', error);
      const delay = this.#core.delay(this.#retryAttempt++);
      this.#retryTimer = this.#core.clock.setTimeout(() => {
        this.#retryTimer = null;
        if (this.#isClosed() || !this.#core.live()) return;
        if (error.code === ErrorCodes.ALREADY_SUBSCRIBED) this.#core.request({ type: 'unsubscribe', channel: this.#channel }).catch(() => {});
        this[kStart]();
      }, delay);
      return;
    }
    // 102 unknown channel, 103 permission denied, 106 limit, 107 ...: retrying cannot help.
    this.#state = 'failed';
    this.#error = error;
    this.#close(error);
    this.#call('onError', error);
  }

  /** Stops everything after unsubscribe or failure. */
  #close(error) {
    this.#seq++;
    this.#phase = 'idle';
    this.#clearRetry();
    this.#core.remove(this);
    for (const w of this.#readyWaiters.splice(0)) w.reject(error);
    for (const w of this.#stateWaiters.splice(0)) w(false);
  }

  /**
   * Protocol section 5, rule 5: a publication does not follow the last one. Resubscribe from
   * the last position: the server fills the gap, or says it cannot (onStateLost).
   */
  #gap(detail) {
    this.#seq++;
    this.#phase = 'subscribing';
    this.#core.request({ type: 'unsubscribe', channel: this.#channel }).catch(() => {});
    this.#core.gap(this.#channel, detail, this.#position);
    this[kStart]();
  }

  #clearRetry() {
    if (this.#retryTimer !== null) {
      this.#core.clock.clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
  }

  // ---- presence of others

  #snapshot() {
    const seq = this.#seq;
    this.#core.send(
      { type: 'presence', channel: this.#channel },
      (result) => {
        if (seq === this.#seq && !this.#isClosed()) this.#applySnapshot(result);
      },
      (err) => {
        if (seq !== this.#seq || err?.code === ClientErrorCodes.CONNECTION_LOST) return;
        if (err?.code === ErrorCodes.NOT_AVAILABLE) {
          // The namespace has no presence: stop asking (and announcing) on later reconnects.
          this.#presenceAvailable = false;
          this.#tracksPresence = false;
        }
        this.#call('onError', withChannel(err, this.#channel));
      },
    );
  }

  #applySnapshot(result) {
    this.#presenceAvailable = true;
    const list = Array.isArray(result?.clients) ? result.clients.filter((c) => isObject(c) && typeof c.client === 'string') : [];
    this.#clients = new Map(list.map((c) => [c.client, clientEntry(c)]));
    this.#emitPresence({ type: 'snapshot' });
  }

  async #refreshPresence() {
    if (this.#isClosed()) throw new HeraldError(ClientErrorCodes.CLOSED, `not subscribed to '${this.#channel}'`, { channel: this.#channel });
    try {
      await this.#core.call({ type: 'presence', channel: this.#channel }, (result) => {
        this.#tracksPresence = true;
        if (!this.#isClosed()) this.#applySnapshot(result);
      });
    } catch (err) {
      if (err?.code === ErrorCodes.NOT_AVAILABLE) this.#presenceAvailable = false;
      throw withChannel(err, this.#channel);
    }
    return this.presence.users();
  }

  #emitPresence(event) {
    if (this.#handlers.onPresence) this.#call('onPresence', this.presence.users(), event);
  }

  // ---- presence state of this connection

  /** Whether this subscription announces a presence state (activity and idleness). */
  #announces() {
    return this.#activity !== null || this.#tracksPresence;
  }

  #desiredState() {
    const state = this.#activity ? { ...this.#activity } : {};
    if (this.#announces() && this.#core.idle() === true) state.idle = true;
    return state;
  }

  #syncState() {
    return new Promise((resolve) => {
      this.#stateWaiters.push(resolve);
      this.#stateDirty = true;
      this.#pumpState();
    });
  }

  /** Sends the desired state if it changed; one presence_set in flight at a time (coalesced). */
  #pumpState() {
    if (this.#stateInFlight || !this.#stateDirty || this.#phase !== 'live' || this.#isClosed()) return;
    this.#stateDirty = false;
    const waiters = this.#stateWaiters.splice(0);
    if (this.#presenceAvailable === false) {
      for (const w of waiters) w(false);
      return;
    }
    const state = this.#desiredState();
    const json = JSON.stringify(state);
    if (json === this.#stateOnServer) {
      for (const w of waiters) w(true);
      return;
    }
    this.#stateInFlight = true;
    const seq = this.#seq;
    this.#core.send(
      { type: 'presence_set', channel: this.#channel, state },
      () => {
        this.#stateInFlight = false;
        if (seq !== this.#seq) {
          // Acknowledged by a connection that is gone: announce again on the new one.
          this.#requeue(waiters);
          return;
        }
        this.#stateOnServer = json;
        for (const w of waiters) w(true);
        this.#pumpState();
      },
      (err) => {
        this.#stateInFlight = false;
        if (seq !== this.#seq || err?.code === ClientErrorCodes.CONNECTION_LOST) {
          this.#requeue(waiters);
          return;
        }
        if (err?.code === ErrorCodes.NOT_AVAILABLE) this.#presenceAvailable = false;
        for (const w of waiters) w(false);
        this.#call('onError', withChannel(err, this.#channel));
        this.#pumpState();
      },
    );
  }

  #requeue(waiters) {
    if (this.#isClosed()) {
      for (const w of waiters) w(false);
      return;
    }
    this.#stateWaiters.unshift(...waiters);
    this.#stateDirty = true;
    this.#pumpState();
  }

  /** Calls an application handler; its exceptions are reported, never break the client. */
  #call(name, ...args) {
    const fn = this.#handlers[name];
    if (!fn) {
      if (name === 'onError') this.#core.report(args[0]);
      return;
    }
    try {
      fn(...args);
    } catch (err) {
      this.#core.report(err, `${name} handler of '${this.#channel}'`);
    }
  }
}

function lostReason(since, top, recoverable) {
  if (since.epoch !== top.epoch) return `the channel's stream was reset (epoch ${since.epoch} is now ${top.epoch})`;
  if (!recoverable) return 'the channel keeps no history';
  if (since.offset > top.offset) return `the position (offset ${since.offset}) is ahead of the stream (offset ${top.offset})`;
  return `the history no longer holds the ${top.offset - since.offset} publications after offset ${since.offset}`;
}

function withChannel(err, channel) {
  if (err instanceof HeraldError) {
    if (err.channel === undefined) err.channel = channel;
    return err;
  }
  return new HeraldError(ErrorCodes.INTERNAL, err?.message ?? String(err), { channel, cause: err });
}
