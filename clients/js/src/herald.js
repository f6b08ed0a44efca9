// herald.js: the browser (and Node) client for Herald, protocol v1 (docs/protocol.md).
//
// A dependency-free ES module. Reference documentation: docs/client-js.md. In short:
//
//   import { Herald } from '/herald/herald.js';
//   const herald = new Herald('https://herald.example.com', { token: () => fetchToken() });
//   herald.on('state', (s) => console.log(s.state, s.reason));
//   const sub = herald.subscribe('project:42', { onPublication: (pub) => render(pub.data),
//                                                 onStateLost: () => reloadFromServer() });
//   herald.connect();
//
// Structure (one file per concern; this module is the public facade and re-exports the rest):
//   herald.js          Herald: the public API, subscriptions by channel, events and errors
//   options.js         the constructor's options, validated, with their defaults
//   connection.js      the connection: state machine, hello, token refresh, reconnect,
//                      page-lifecycle policy, transport fallbacks, re-probes and switch-over
//   liveness.js        heartbeat watchdog, liveness probes, sleep detection, idle cuts
//   negotiation.js     which transport to try, what failed, what to remember and report
//   requests.js        requests and replies, outgoing frames
//   page-lifecycle.js  page events and idle detection
//   lag-reporter.js    delivery lag, its `lag` event and reports to the server (lag.js: stats)
//   subscription.js    one channel: ordering, recovery, presence (presence.js)
//   sync.js            live data: snapshot + changes, kept in sequence
//   transport.js, http-transports.js   WebSocket, SSE and long-polling
//   backoff.js, environment.js, errors.js
// Time, randomness, the WebSocket/EventSource/fetch functions, storage and the page lifecycle
// are injected, so all of it runs on fake time in tests.

import { Connection } from './connection.js';
import { ErrorCodes, HeraldError } from './errors.js';
import { readOptions } from './options.js';
import { Subscription, kStart } from './subscription.js';
import { utf8Length } from './transport.js';

export { Backoff } from './backoff.js';
export { ClientErrorCodes, CloseCodes, ErrorCodes, HeraldError, closeAction, parseCloseReason } from './errors.js';
export { LagStats } from './lag.js';
export { groupByUser } from './presence.js';
export { Subscription } from './subscription.js';
export { SUBPROTOCOL, websocketTransport } from './transport.js';
export { longPollingTransport, sseTransport } from './http-transports.js';
export { DEFAULT_TRANSPORTS } from './negotiation.js';
export { ChannelSync, applyEntity, sync } from './sync.js';
/** This library's version. */
export { VERSION } from './options.js';

/** The protocol version it speaks. */
export { PROTOCOL_VERSION } from './connection.js';

/** Room for `{"type":"publish","id":...,"channel":"...","data":}` around the data. */
const PUBLISH_ENVELOPE_BYTES = 64;
const EVENTS = new Set(['state', 'error', 'lag', 'idle']);

/**
 * A connection to a Herald server, kept alive for as long as the application wants it.
 * See docs/client-js.md for the full reference.
 */
export class Herald {
  /** The options, read by options.js. */
  #o;
  /** The connection (connection.js). */
  #conn;
  #subs = new Map();
  #listeners = new Map();
  /** The internal interface subscriptions use (kept off the public surface). */
  #core;

  /**
   * @param {string|URL} [url] the server's base URL (`https://herald.example.com`, or a path such
   *   as `/` in a page served with the server), or its WebSocket endpoint (`wss://...`).
   *   Omitted in a page: the page's own origin.
   * @param {import('./herald.js').HeraldOptions} [options] see docs/client-js.md
   */
  constructor(url, options = {}) {
    this.#o = readOptions(url, options);
    const conn = new Connection(this.#o, {
      subscriptions: () => [...this.#subs.values()],
      channel: (name) => this.#subs.get(name),
      emit: (type, value) => this.#emit(type, value),
      report: (err, where) => this.#report(err, where),
      listening: (type) => Boolean(this.#listeners.get(type)?.size),
    });
    this.#conn = conn;
    this.#core = {
      clock: this.#o.clock,
      send: (msg, onResult, onError) => conn.requests.sendLive(msg, onResult, onError),
      request: (msg) => new Promise((resolve, reject) => conn.requests.sendLive(msg, resolve, reject)),
      call: (msg, onResult) => conn.requests.call(msg, onResult),
      live: () => conn.live,
      user: () => conn.user,
      idle: () => (this.#o.idleAfter > 0 ? conn.idle : null),
      delay: (attempt) => this.#o.backoff.delay(attempt),
      remove: (sub) => {
        if (this.#subs.get(sub.channel) === sub) this.#subs.delete(sub.channel);
      },
      measure: (msg, recovered) => conn.measure(msg, recovered),
      count: (name) => conn.count(name),
      gap: (channel, detail, position) => conn.gap(channel, detail, position),
      report: (err, where) => this.#report(err, where),
    };
  }

  // =================================================================== public API

  /** The server's base URL. */
  get url() {
    return this.#o.url;
  }

  /** The current connection state event: `{state, transport, transportReason, reason, ...}`. */
  get state() {
    return this.#conn.info;
  }

  /** Whether the user counts as idle (no input for `idleAfter` ms). */
  get idle() {
    return this.#conn.idle;
  }

  /**
   * Starts connecting, and keeps the connection up until `close()` or a terminal close code.
   * Also resumes after those, and retries at once when waiting to reconnect. Returns `this`.
   */
  connect() {
    this.#conn.connect();
    return this;
  }

  /**
   * Closes the connection and stops reconnecting. Subscriptions are kept: a later `connect()`
   * renews them from where they were (with recovery). Pending requests reject with `closed`.
   */
  close() {
    this.#conn.close();
  }

  /**
   * Resolves with the state event once the connection is live (at once if it is). Rejects if
   * the client stops first (close(), terminal close code) or after `timeout` ms if given.
   *
   * @param {{timeout?: number}} [options]
   */
  ready(options) {
    return this.#conn.ready(options);
  }

  /**
   * Subscribes to a channel. The subscription is sent as soon as the connection is live and
   * renewed (with recovery) after every reconnect, until `unsubscribe()`.
   *
   * @param {string} channel
   * @param {import('./herald.js').SubscribeOptions} [options] handlers and settings
   * @returns {Subscription}
   */
  subscribe(channel, options = {}) {
    if (typeof channel !== 'string' || channel.length === 0) throw new TypeError('subscribe(channel): channel must be a non-empty string');
    if (this.#subs.has(channel)) {
      throw new HeraldError(ErrorCodes.ALREADY_SUBSCRIBED, `already subscribed to '${channel}': use herald.subscription('${channel}') or unsubscribe it first`, { channel });
    }
    const sub = new Subscription(this.#core, channel, options);
    this.#subs.set(channel, sub);
    if (this.#conn.live) sub[kStart]();
    return sub;
  }

  /** The active subscription to `channel`, if any. */
  subscription(channel) {
    return this.#subs.get(channel);
  }

  /** All active subscriptions. */
  subscriptions() {
    return [...this.#subs.values()];
  }

  /**
   * Publishes `data` (any JSON value) to a channel whose namespace allows client publishing.
   * Waits up to `requestTimeout` for a live connection. Resolves with the publication's
   * position. Rejects with a HeraldError: the server's code (103, 108, 114, ...), `timeout`,
   * or `connection_lost` when the connection dropped after sending (the publication may or
   * may not have happened).
   *
   * @param {string} channel
   * @param {unknown} data
   * @returns {Promise<{epoch: string, offset: number}>}
   */
  publish(channel, data) {
    if (typeof channel !== 'string' || channel.length === 0) return Promise.reject(new TypeError('publish(channel, data): channel must be a non-empty string'));
    let json;
    try {
      json = JSON.stringify(data);
    } catch (err) {
      return Promise.reject(new TypeError(`publish: data cannot be serialized to JSON: ${err.message}`));
    }
    if (json === undefined) return Promise.reject(new TypeError('publish: data must be a JSON value (not undefined or a function)'));
    // A message over the server's limit would close the connection with 1009: refuse it here.
    const size = utf8Length(json) + utf8Length(channel) + PUBLISH_ENVELOPE_BYTES;
    if (size > this.#conn.maxBytes) {
      return Promise.reject(new HeraldError(ErrorCodes.PAYLOAD_TOO_LARGE, `publication too large: about ${size} bytes, the server accepts messages up to ${this.#conn.maxBytes} bytes`, { channel }));
    }
    return this.#conn.requests.call({ type: 'publish', channel, data }).then((r) => ({ epoch: r.epoch, offset: r.offset }));
  }

  /**
   * Listens to `state` (connection state events), `error` (errors not tied to a call: protocol
   * errors, token callback failures, exceptions thrown by handlers), `lag` (periodic lag
   * statistics) or `idle` (the user became idle / active). Returns a function that removes the
   * listener.
   */
  on(type, listener) {
    if (!EVENTS.has(type)) throw new TypeError(`unknown event '${type}'; expected one of ${[...EVENTS].join(', ')}`);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    if (type === 'lag') this.#conn.lagListened();
    return () => this.off(type, listener);
  }

  /** Removes a listener added with `on`. */
  off(type, listener) {
    this.#listeners.get(type)?.delete(listener);
  }

  /** Counts the user as active now (for apps with input the page does not see, e.g. in an iframe). */
  markActive() {
    this.#conn.markActive();
  }

  /**
   * A snapshot of connection statistics and delivery lag. `lag` summarizes, over the last
   * `lag.window` live publications, receive time minus the server's `ts` (see docs: clock skew).
   */
  stats() {
    return this.#conn.stats(this.#subs.size);
  }

  // =================================================================== events, errors

  #emit(type, value) {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(value);
      } catch (err) {
        if (type === 'error') console.error('[herald] an error listener threw', err);
        else this.#report(err, `a '${type}' listener`);
      }
    }
  }

  /** Errors nobody asked for: to the `error` listeners, or the console if there are none. */
  #report(err, where) {
    const error = err instanceof HeraldError ? err : new HeraldError(ErrorCodes.INTERNAL, `${where ? `${where} threw: ` : ''}${err?.message ?? err}`, { cause: err });
    if (this.#listeners.get('error')?.size) this.#emit('error', error);
    else console.error('[herald]', error);
  }
}

/** Creates a Herald client and starts connecting: `connect(url, options)` = `new Herald(url, options).connect()`. */
export function connect(url, options) {
  return new Herald(url, options).connect();
}
