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
// Structure: Herald owns the connection (one transport at a time), its state machine
// (connecting -> live -> reconnecting ... / offline), requests and replies, heartbeats and the
// page-lifecycle policy; Subscription (subscription.js) owns per-channel ordering, recovery and
// presence. Time, randomness, the WebSocket constructor and the page lifecycle are injected,
// so all of it runs on fake time in tests.

import { Backoff } from './backoff.js';
import { defaultEnvironment, INPUT_EVENTS, systemClock } from './environment.js';
import { ClientErrorCodes, CloseCodes, ErrorCodes, HeraldError, closeAction, parseCloseReason } from './errors.js';
import { LagStats } from './lag.js';
import { isObject } from './presence.js';
import { Subscription, kIdleChanged, kPresenceEvent, kPub, kSessionEnded, kStart } from './subscription.js';
import { resolveEndpoints, utf8Length, websocketTransport } from './transport.js';

export { Backoff } from './backoff.js';
export { ClientErrorCodes, CloseCodes, ErrorCodes, HeraldError, closeAction, parseCloseReason } from './errors.js';
export { LagStats } from './lag.js';
export { groupByUser } from './presence.js';
export { Subscription } from './subscription.js';
export { SUBPROTOCOL, websocketTransport } from './transport.js';

/** This library's version. */
export const VERSION = '0.1.0';
/** The protocol version it speaks. */
export const PROTOCOL_VERSION = 1;

const LIBRARY = `herald-js/${VERSION}`;
const DEFAULT_MAX_MESSAGE_BYTES = 65_536;
/** Room for `{"type":"publish","id":...,"channel":"...","data":}` around the data. */
const PUBLISH_ENVELOPE_BYTES = 64;
/** How late timers of a hidden tab may run before it counts as a wake-up (Chrome: 1/min). */
const HIDDEN_TIMER_SLACK_MS = 75_000;
const EVENTS = new Set(['state', 'error', 'lag', 'idle']);
const OPTIONS = new Set([
  'token', 'WebSocket', 'websocketPath', 'client', 'backoff', 'connectTimeout', 'requestTimeout',
  'liveness', 'idleAfter', 'hiddenTimeout', 'lag', 'transports', 'clock', 'random', 'env',
]);

/**
 * A connection to a Herald server, kept alive for as long as the application wants it.
 * See docs/client-js.md for the full reference.
 */
export class Herald {
  // ---- configuration (fixed at construction) ----
  #url;
  #websocketUrl;
  #token;
  #WebSocket;
  #transports;
  #clientName;
  #clock;
  #random;
  #env;
  #backoff;
  #resetAfter;
  #connectTimeout;
  #requestTimeout;
  #probeTimeout;
  #checkInterval;
  #wakeThreshold;
  #idleAfter;
  #hiddenTimeout;
  #lagReportInterval;

  // ---- connection ----
  /** The current state event (frozen). */
  #info;
  /** Whether the application wants a connection (connect() called, no close() or terminal code since). */
  #wanted = false;
  /** Why the client stopped (close() or a terminal code): rejects calls made while stopped. */
  #stopError = null;
  /** Consecutive failed attempts: the backoff exponent. */
  #attempt = 0;
  /** The current connection attempt or live connection; null between them. */
  #session = null;
  #retryTimer = null;
  #everLive = false;
  #lastUser = null;
  #maxBytes = DEFAULT_MAX_MESSAGE_BYTES;
  #nextId = 1;
  /** Requests sent and waiting for their reply: id -> entry. */
  #pending = new Map();
  /** Application requests (publish, presence) waiting for a live connection. */
  #queue = [];
  #readyWaiters = [];

  #subs = new Map();
  #listeners = new Map();
  #envAttached = false;
  #hiddenTimer = null;

  // ---- idle detection ----
  #idle = false;
  #lastInputAt = 0;
  #idleTimer = null;

  // ---- statistics ----
  #counters = {
    attempts: 0,
    connects: 0,
    reconnects: 0,
    disconnects: 0,
    messages: 0,
    publications: 0,
    recoveredPublications: 0,
    duplicates: 0,
    gaps: 0,
    stateLost: 0,
    probes: 0,
  };
  #lastGap = null;
  #lag;
  #lagTimer = null;
  #lagReported = 0;

  /** The internal interface subscriptions use (kept off the public surface). */
  #core;

  /**
   * @param {string|URL} [url] the server's base URL (`https://herald.example.com`, or a path such
   *   as `/` in a page served with the server), or its WebSocket endpoint (`wss://...`).
   *   Omitted in a page: the page's own origin.
   * @param {import('./herald.js').HeraldOptions} [options] see docs/client-js.md
   */
  constructor(url, options = {}) {
    if (isObject(url) && !(url instanceof URL)) {
      options = url;
      url = undefined;
    }
    if (!isObject(options)) throw new TypeError('new Herald(url, options): options must be an object');
    for (const key of Object.keys(options)) {
      if (!OPTIONS.has(key)) throw new TypeError(`unknown Herald option '${key}'; expected one of ${[...OPTIONS].join(', ')}`);
    }
    const endpoints = resolveEndpoints(url, options.websocketPath);
    this.#url = endpoints.url;
    this.#websocketUrl = endpoints.websocketUrl;

    const token = options.token;
    if (token != null && typeof token !== 'string' && typeof token !== 'function') {
      throw new TypeError('options.token must be a string or a function returning one (or a promise of one)');
    }
    this.#token = token ?? null;
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.#transports = options.transports ?? [websocketTransport];
    if (!Array.isArray(this.#transports) || this.#transports.length === 0) throw new TypeError('options.transports must be a non-empty array');
    this.#clientName = options.client ? `${LIBRARY} ${options.client}` : LIBRARY;

    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#env = options.env ?? defaultEnvironment();

    const backoff = options.backoff ?? {};
    this.#backoff = new Backoff({ base: backoff.base ?? 500, cap: backoff.cap ?? 30_000, random: this.#random });
    this.#resetAfter = nonNegative(backoff.resetAfter ?? 10_000, 'backoff.resetAfter');
    this.#connectTimeout = positive(options.connectTimeout ?? 10_000, 'connectTimeout');
    this.#requestTimeout = positive(options.requestTimeout ?? 10_000, 'requestTimeout');
    const liveness = options.liveness ?? {};
    this.#probeTimeout = positive(liveness.probeTimeout ?? 5_000, 'liveness.probeTimeout');
    this.#checkInterval = positive(liveness.checkInterval ?? 10_000, 'liveness.checkInterval');
    this.#wakeThreshold = positive(liveness.wakeThreshold ?? 15_000, 'liveness.wakeThreshold');
    this.#idleAfter = nonNegative(options.idleAfter ?? 5 * 60_000, 'idleAfter');
    this.#hiddenTimeout = nonNegative(options.hiddenTimeout ?? 0, 'hiddenTimeout');
    const lag = options.lag ?? {};
    this.#lag = new LagStats(lag.window ?? 1000);
    this.#lagReportInterval = nonNegative(lag.reportInterval ?? 60_000, 'lag.reportInterval');

    this.#info = Object.freeze({
      state: 'offline',
      previous: null,
      transport: null,
      transportReason: null,
      reason: 'not connected yet',
      resume: 'connect',
      code: null,
      error: null,
      at: this.#clock.now(),
    });

    this.#core = {
      clock: this.#clock,
      send: (msg, onResult, onError) => this.#requestSync(msg, onResult, onError),
      request: (msg) => new Promise((resolve, reject) => this.#requestSync(msg, resolve, reject)),
      call: (msg, onResult) => this.#call(msg, onResult),
      live: () => Boolean(this.#session?.live),
      user: () => this.#session?.user ?? this.#lastUser,
      idle: () => (this.#idleAfter > 0 ? this.#idle : null),
      delay: (attempt) => this.#backoff.delay(attempt),
      remove: (sub) => {
        if (this.#subs.get(sub.channel) === sub) this.#subs.delete(sub.channel);
      },
      measure: (msg, recovered) => this.#measureLag(msg, recovered),
      count: (name) => {
        this.#counters[name]++;
      },
      gap: (channel, detail, position) => {
        this.#counters.gaps++;
        this.#lastGap = { channel, detail, position: { ...position }, at: this.#clock.now() };
      },
      report: (err, where) => this.#report(err, where),
    };
  }

  // =================================================================== public API

  /** The server's base URL. */
  get url() {
    return this.#url;
  }

  /** The current connection state event: `{state, transport, transportReason, reason, ...}`. */
  get state() {
    return this.#info;
  }

  /** Whether the user counts as idle (no input for `idleAfter` ms). */
  get idle() {
    return this.#idle;
  }

  /**
   * Starts connecting, and keeps the connection up until `close()` or a terminal close code.
   * Also resumes after those, and retries at once when waiting to reconnect. Returns `this`.
   */
  connect() {
    this.#wanted = true;
    this.#stopError = null;
    this.#attachEnv();
    this.#armLagReports();
    const { state } = this.#info;
    if (state === 'live' || state === 'connecting') return this;
    if (state === 'offline') this.#attempt = 0;
    this.#startAttempt(state === 'reconnecting' ? 'connect() called while waiting to reconnect' : 'connect() called');
    return this;
  }

  /**
   * Closes the connection and stops reconnecting. Subscriptions are kept: a later `connect()`
   * renews them from where they were (with recovery). Pending requests reject with `closed`.
   */
  close() {
    this.#wanted = false;
    const error = new HeraldError(ClientErrorCodes.CLOSED, 'herald.close() was called');
    this.#stopError = error;
    this.#clearRetry();
    if (this.#session) this.#teardown(this.#session, error);
    this.#rejectQueue(error);
    for (const w of this.#readyWaiters.splice(0)) w.reject(error);
    this.#detachEnv();
    this.#stopLagReports();
    if (this.#info.state !== 'offline' || this.#info.resume !== 'connect') {
      this.#goOffline({ reason: 'closed by the application', resume: 'connect' });
    }
  }

  /**
   * Resolves with the state event once the connection is live (at once if it is). Rejects if
   * the client stops first (close(), terminal close code) or after `timeout` ms if given.
   *
   * @param {{timeout?: number}} [options]
   */
  ready({ timeout } = {}) {
    if (this.#info.state === 'live') return Promise.resolve(this.#info);
    if (!this.#wanted) {
      return Promise.reject(this.#stopError ?? new HeraldError(ClientErrorCodes.OFFLINE, 'not connecting: call connect() first'));
    }
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject, timer: null };
      if (timeout != null) {
        waiter.timer = this.#clock.setTimeout(() => {
          this.#readyWaiters = this.#readyWaiters.filter((w) => w !== waiter);
          reject(new HeraldError(ClientErrorCodes.TIMEOUT, `not live within ${timeout} ms (state: ${this.#info.state}, ${this.#info.reason})`));
        }, timeout);
      }
      const done = (fn) => (v) => {
        if (waiter.timer !== null) this.#clock.clearTimeout(waiter.timer);
        fn(v);
      };
      waiter.resolve = done(resolve);
      waiter.reject = done(reject);
      this.#readyWaiters.push(waiter);
    });
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
    if (this.#session?.live) sub[kStart]();
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
    if (size > this.#maxBytes) {
      return Promise.reject(new HeraldError(ErrorCodes.PAYLOAD_TOO_LARGE, `publication too large: about ${size} bytes, the server accepts messages up to ${this.#maxBytes} bytes`, { channel }));
    }
    return this.#call({ type: 'publish', channel, data }).then((r) => ({ epoch: r.epoch, offset: r.offset }));
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
    if (type === 'lag') this.#armLagReports();
    return () => this.off(type, listener);
  }

  /** Removes a listener added with `on`. */
  off(type, listener) {
    this.#listeners.get(type)?.delete(listener);
  }

  /** Counts the user as active now (for apps with input the page does not see, e.g. in an iframe). */
  markActive() {
    this.#onInput();
  }

  /**
   * A snapshot of connection statistics and delivery lag. `lag` summarizes, over the last
   * `lag.window` live publications, receive time minus the server's `ts` (see docs: clock skew).
   */
  stats() {
    const s = this.#session;
    return {
      state: this.#info.state,
      transport: this.#info.transport,
      user: s?.user ?? this.#lastUser,
      client: s?.live ? s.client : null,
      node: s?.live ? s.node : null,
      liveSince: s?.live ? s.liveSince : null,
      subscriptions: this.#subs.size,
      idle: this.#idle,
      failedAttempts: this.#attempt,
      ...this.#counters,
      lastGap: this.#lastGap,
      lag: this.#lag.snapshot(),
    };
  }

  // =================================================================== connection

  #startAttempt(why) {
    if (!this.#wanted) return;
    this.#clearRetry();
    if (this.#session) this.#teardown(this.#session, new HeraldError(ClientErrorCodes.CONNECTION_LOST, `connection replaced: ${why}`));
    if (this.#env.onLine === false) {
      this.#goOffline({ reason: 'the device reports no network connection', resume: 'online' });
      return;
    }
    const choice = this.#chooseTransport();
    if (typeof choice === 'string') {
      this.#stop({ reason: choice, code: null, error: new HeraldError(ClientErrorCodes.TRANSPORT, choice) });
      return;
    }
    const session = {
      factory: choice.factory,
      transportName: choice.factory.name,
      transportReason: choice.reason,
      transport: null,
      opened: false,
      live: false,
      liveSince: 0,
      user: null,
      client: null,
      node: null,
      pingMs: 0,
      pongMs: 0,
      maxBytes: this.#maxBytes,
      lastInboundAt: this.#clock.now(),
      connectTimer: null,
      watchdog: null,
      watchdogDue: 0,
      probe: null,
      outbox: [],
      flushQueued: false,
    };
    this.#session = session;
    this.#counters.attempts++;
    this.#setState({ state: 'connecting', transport: session.transportName, transportReason: session.transportReason, reason: why, attempt: this.#attempt });
    if (this.#session !== session) return; // a listener called close()
    session.connectTimer = this.#clock.setTimeout(() => {
      session.connectTimer = null;
      this.#endSession(session, { code: null, reason: `not connected within ${this.#connectTimeout} ms (connectTimeout)` });
    }, this.#connectTimeout);
    this.#open(session);
  }

  async #open(session) {
    let token;
    try {
      token = typeof this.#token === 'function' ? await this.#token() : this.#token;
    } catch (err) {
      if (this.#session !== session) return;
      const error = new HeraldError(ClientErrorCodes.TOKEN, `the token callback failed: ${err?.message ?? err}`, { cause: err });
      this.#report(error);
      this.#endSession(session, { code: null, reason: error.message, error });
      return;
    }
    if (this.#session !== session) return;
    if (token != null && typeof token !== 'string') {
      const error = new HeraldError(ClientErrorCodes.TOKEN, `the token callback returned ${typeof token}, expected a string (or null for cookie sessions)`);
      this.#report(error);
      this.#endSession(session, { code: null, reason: error.message, error });
      return;
    }
    const ctx = { url: this.#url, websocketUrl: this.#websocketUrl, WebSocket: this.#WebSocket };
    session.transport = session.factory.open(ctx, {
      onOpen: () => this.#onOpen(session, token),
      onMessage: (text) => this.#onFrame(session, text),
      onClose: (info) => this.#onTransportClosed(session, info),
    });
  }

  /** The first configured transport this environment supports, and why it was chosen. */
  #chooseTransport() {
    const ctx = { url: this.#url, websocketUrl: this.#websocketUrl, WebSocket: this.#WebSocket };
    const skipped = [];
    for (const factory of this.#transports) {
      const ok = factory.available(ctx);
      if (ok === true) {
        return { factory, reason: skipped.length === 0 ? 'first choice' : `fallback: ${skipped.join('; ')}` };
      }
      skipped.push(`${factory.name} unavailable (${ok})`);
    }
    return `no usable transport: ${skipped.join('; ')}`;
  }

  #onOpen(session, token) {
    if (this.#session !== session) return;
    session.opened = true;
    const msg = { type: 'connect' };
    if (token != null) msg.token = token;
    msg.client = this.#clientName;
    msg.protocol = PROTOCOL_VERSION;
    this.#sessionRequest(session, msg, (result) => this.#onConnected(session, result), (err) => this.#onConnectRefused(session, err));
  }

  #onConnected(session, result) {
    if (this.#session !== session) return;
    this.#clock.clearTimeout(session.connectTimer);
    session.connectTimer = null;
    session.live = true;
    session.liveSince = this.#clock.now();
    session.user = typeof result?.user === 'string' ? result.user : null;
    session.client = typeof result?.client === 'string' ? result.client : null;
    session.node = typeof result?.node === 'string' ? result.node : null;
    session.pingMs = Number.isFinite(result?.ping_ms) ? result.ping_ms : 0;
    session.pongMs = Number.isFinite(result?.pong_ms) ? result.pong_ms : 0;
    if (Number.isFinite(result?.max_message_bytes) && result.max_message_bytes > 0) {
      session.maxBytes = result.max_message_bytes;
      this.#maxBytes = result.max_message_bytes;
    }
    this.#lastUser = session.user;
    const reconnected = this.#everLive;
    this.#everLive = true;
    this.#counters.connects++;
    if (reconnected) this.#counters.reconnects++;
    this.#armWatchdog(session);
    // Renew every subscription first, then send what waited for the connection: the server
    // handles requests in order, so a queued presence request finds its subscription.
    for (const sub of [...this.#subs.values()]) sub[kStart]();
    for (const item of this.#queue.splice(0)) this.#dispatch(item);
    this.#setState({
      state: 'live',
      transport: session.transportName,
      transportReason: session.transportReason,
      reason: reconnected ? 'reconnected' : 'connected',
      user: session.user,
      client: session.client,
      node: session.node,
    });
    for (const w of this.#readyWaiters.splice(0)) w.resolve(this.#info);
  }

  #onConnectRefused(session, err) {
    if (this.#session !== session) return;
    // The server follows a refused connect with a close (4500 / 4005, section 2); act now.
    if (err.code === ErrorCodes.UNAUTHORIZED) {
      err.closeCode = CloseCodes.UNAUTHORIZED;
      this.#endSession(session, { code: CloseCodes.UNAUTHORIZED, reason: `authentication failed: ${err.message}`, error: err });
    } else if (err.code === ErrorCodes.TOKEN_EXPIRED) {
      this.#endSession(session, { code: CloseCodes.TOKEN_EXPIRED, reason: `token expired: ${err.message}`, error: err });
    } else {
      this.#endSession(session, { code: null, reason: `connect refused: ${err.message} (${err.code})`, error: err });
    }
  }

  #onFrame(session, text) {
    if (this.#session !== session) return;
    session.lastInboundAt = this.#clock.now();
    if (session.probe) {
      // Anything from the server proves the connection alive.
      this.#clock.clearTimeout(session.probe.timer);
      session.probe = null;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue; // section 1: ignore empty lines
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        this.#report(new HeraldError(ClientErrorCodes.PROTOCOL, `the server sent a line that is not JSON: ${line.slice(0, 120)}`));
        continue;
      }
      if (!isObject(msg) || typeof msg.type !== 'string') {
        this.#report(new HeraldError(ClientErrorCodes.PROTOCOL, `the server sent a message without a string type: ${line.slice(0, 120)}`));
        continue;
      }
      this.#counters.messages++;
      this.#onMessage(session, msg);
      if (this.#session !== session) return; // the message ended the connection
    }
  }

  #onMessage(session, msg) {
    switch (msg.type) {
      case 'reply': {
        const entry = this.#pending.get(msg.id);
        if (!entry || entry.session !== session) return; // late reply to a timed-out request
        this.#pending.delete(msg.id);
        if (entry.timer !== null) this.#clock.clearTimeout(entry.timer);
        // Synchronously, before the next message of the frame: the server sends a subscribe
        // reply and the recovered publications after it in one frame, and they must be seen
        // in that order.
        if (msg.error != null) entry.onError(HeraldError.fromProtocol(msg.error, entry.channel ? { channel: entry.channel } : {}));
        else entry.onResult(msg.result ?? {});
        return;
      }
      case 'ping':
        this.#send(session, { type: 'pong' });
        return;
      case 'pub': {
        this.#counters.publications++;
        this.#subs.get(msg.channel)?.[kPub](msg); // section 10: ignore channels not subscribed
        return;
      }
      case 'join':
      case 'leave':
      case 'presence_update':
        this.#subs.get(msg.channel)?.[kPresenceEvent](msg);
        return;
      case 'disconnect': {
        // Sent just before the server closes: act on it now, with its code, reason and delay.
        const retryMs = Number.isFinite(msg.retry_ms) && msg.retry_ms > 0 ? msg.retry_ms : null;
        this.#endSession(session, { code: Number.isInteger(msg.code) ? msg.code : null, reason: typeof msg.reason === 'string' ? msg.reason : 'disconnected by the server', retryMs });
        return;
      }
      case 'error':
        this.#report(HeraldError.fromProtocol(msg.error));
        return;
      default:
        return; // 'pong', and types added later (section 1: ignore what you do not know)
    }
  }

  #onTransportClosed(session, info) {
    if (this.#session !== session) return;
    const { text, retryMs } = parseCloseReason(info.reason);
    let reason;
    if (!session.opened) {
      reason = `could not connect to ${this.#websocketUrl}` + (info.error ? `: ${info.error}` : ' (the server is unreachable, or refused the handshake: see "Troubleshooting" in docs/client-js.md)');
    } else if (text) {
      reason = text;
    } else {
      reason = info.error ?? (info.code != null ? `connection closed (code ${info.code})` : 'connection lost');
    }
    this.#endSession(session, { code: info.code ?? null, reason, retryMs });
  }

  /**
   * The connection ended unexpectedly (or was refused): clean up, then reconnect or stop,
   * depending on the close code (protocol section 8).
   */
  #endSession(session, end) {
    if (this.#session !== session) return;
    const wasLive = this.#teardown(session, new HeraldError(ClientErrorCodes.CONNECTION_LOST, `connection lost: ${end.reason}`));
    if (wasLive) this.#counters.disconnects++;
    // A connection that stayed up long enough resets the backoff; one that drops right after
    // going live (a server refusing us in a loop) keeps backing off.
    if (wasLive && this.#clock.now() - session.liveSince >= this.#resetAfter) this.#attempt = 0;
    if (closeAction(end.code) === 'stop') {
      const error = end.error ?? new HeraldError(ClientErrorCodes.OFFLINE, end.reason, { closeCode: end.code });
      if (error.closeCode === undefined && end.code != null) error.closeCode = end.code;
      this.#stop({ reason: end.reason, code: end.code, error });
      return;
    }
    this.#scheduleReconnect(session, end);
  }

  /** Detaches and closes the session; rejects its requests. Returns whether it was live. */
  #teardown(session, requestError) {
    if (this.#session === session) this.#session = null;
    if (session.connectTimer !== null) this.#clock.clearTimeout(session.connectTimer);
    if (session.watchdog !== null) this.#clock.clearTimeout(session.watchdog);
    if (session.probe) this.#clock.clearTimeout(session.probe.timer);
    session.connectTimer = session.watchdog = session.probe = null;
    session.transport?.close(1000, requestError.code === ClientErrorCodes.CLOSED ? 'client closed' : 'client reconnecting');
    for (const [id, entry] of this.#pending) {
      if (entry.session !== session) continue;
      this.#pending.delete(id);
      if (entry.timer !== null) this.#clock.clearTimeout(entry.timer);
      entry.onError(requestError);
    }
    for (const sub of [...this.#subs.values()]) sub[kSessionEnded]();
    return session.live;
  }

  #scheduleReconnect(session, end) {
    if (!this.#wanted) return;
    if (this.#env.onLine === false) {
      this.#goOffline({ reason: `${end.reason}; the device reports no network connection`, resume: 'online', code: end.code ?? null, error: end.error ?? null });
      return;
    }
    let delay;
    let delaySource;
    if (end.retryMs != null && end.retryMs > 0) {
      delay = end.retryMs; // the server spread its clients' delays already
      delaySource = 'server';
    } else if (end.code === CloseCodes.TOO_MANY_CONNECTIONS) {
      delay = Math.floor(this.#backoff.cap * (0.5 + this.#random() / 2)); // "long backoff"
      delaySource = 'backoff';
    } else {
      delay = this.#backoff.delay(this.#attempt);
      delaySource = 'backoff';
    }
    this.#attempt++;
    // The timer exists before listeners hear of it, so that a listener calling connect()
    // (which clears it) cannot leave a second attempt behind.
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = null;
      this.#startAttempt(`retry ${this.#attempt} after ${delay} ms`);
    }, delay);
    this.#setState({
      state: 'reconnecting',
      transport: session.transportName,
      transportReason: session.transportReason,
      reason: end.reason,
      code: end.code ?? null,
      error: end.error ?? null,
      delayMs: delay,
      delaySource,
      attempt: this.#attempt,
      retryAt: this.#clock.now() + delay,
    });
  }

  /** Stops for good (terminal close code, no transport): wait for the application's connect(). */
  #stop({ reason, code, error }) {
    this.#wanted = false;
    this.#stopError = error;
    this.#clearRetry();
    this.#rejectQueue(error);
    for (const w of this.#readyWaiters.splice(0)) w.reject(error);
    this.#goOffline({ reason, code, error, resume: 'connect' });
  }

  /**
   * Goes offline on purpose while the application still wants a connection (page frozen, in
   * the back-forward cache, hidden for long, no network); `resume` names the event that
   * brings it back.
   */
  #pause(reason, resume) {
    this.#clearRetry();
    if (this.#session) this.#teardown(this.#session, new HeraldError(ClientErrorCodes.CONNECTION_LOST, `connection closed: ${reason}`));
    this.#goOffline({ reason, resume });
  }

  #goOffline({ reason, resume, code = null, error = null }) {
    this.#clearRetry();
    this.#setState({ state: 'offline', transport: null, transportReason: null, reason, resume, code, error });
  }

  #setState(next) {
    this.#info = Object.freeze({ code: null, error: null, ...next, previous: this.#info.state, at: this.#clock.now() });
    this.#emit('state', this.#info);
  }

  #clearRetry() {
    if (this.#retryTimer !== null) {
      this.#clock.clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
  }

  // =================================================================== requests

  /**
   * Sends a request on a given connection. Exactly one of the callbacks is called, at the
   * moment its reply is read (or with connection_lost when the connection ends first).
   */
  #sessionRequest(session, msg, onResult, onError) {
    const id = this.#nextId++;
    this.#pending.set(id, { session, onResult, onError, channel: msg.channel, timer: null });
    this.#send(session, { type: msg.type, id, ...msg });
  }

  /** A request on the live connection (used by subscriptions); fails at once if there is none. */
  #requestSync(msg, onResult, onError) {
    const session = this.#session;
    if (!session?.live) {
      onError(new HeraldError(ClientErrorCodes.CONNECTION_LOST, 'not connected'));
      return;
    }
    this.#sessionRequest(session, msg, onResult, onError);
  }

  /**
   * An application request: sent now if live, else queued until the connection is; either way
   * it settles within requestTimeout.
   */
  #call(msg, onResult) {
    if (!this.#wanted) {
      return Promise.reject(this.#stopError ?? new HeraldError(ClientErrorCodes.OFFLINE, 'not connected: call connect() first'));
    }
    return new Promise((resolve, reject) => {
      const item = { msg, settled: false, sent: false, timer: null, resolve: null, reject: null };
      const settle = (fn) => (value) => {
        if (item.settled) return;
        item.settled = true;
        this.#clock.clearTimeout(item.timer);
        fn(value);
      };
      item.resolve = settle((result) => {
        onResult?.(result); // synchronously with the reply, like subscription requests
        resolve(result);
      });
      item.reject = settle(reject);
      item.timer = this.#clock.setTimeout(() => {
        this.#queue = this.#queue.filter((q) => q !== item);
        const what = item.sent ? `no reply to ${msg.type} within ${this.#requestTimeout} ms` : `no connection within ${this.#requestTimeout} ms to send ${msg.type} (state: ${this.#info.state}, ${this.#info.reason})`;
        item.reject(new HeraldError(ClientErrorCodes.TIMEOUT, what, msg.channel ? { channel: msg.channel } : {}));
      }, this.#requestTimeout);
      if (this.#session?.live) this.#dispatch(item);
      else this.#queue.push(item);
    });
  }

  #dispatch(item) {
    if (item.settled) return;
    item.sent = true;
    this.#sessionRequest(this.#session, item.msg, item.resolve, item.reject);
  }

  #rejectQueue(error) {
    for (const item of this.#queue.splice(0)) item.reject(error);
  }

  /**
   * Queues a message for the connection. Messages queued in the same task leave together in
   * one frame, LF-separated (protocol section 1), each frame within the server's size limit.
   */
  #send(session, msg) {
    session.outbox.push(JSON.stringify(msg));
    if (!session.flushQueued) {
      session.flushQueued = true;
      queueMicrotask(() => this.#flush(session));
    }
  }

  #flush(session) {
    session.flushQueued = false;
    const lines = session.outbox.splice(0);
    if (this.#session !== session || !session.transport) return;
    let frame = '';
    let bytes = 0;
    for (const line of lines) {
      const n = utf8Length(line);
      if (frame !== '' && bytes + 1 + n > session.maxBytes) {
        session.transport.send(frame);
        frame = '';
        bytes = 0;
      }
      frame = frame === '' ? line : `${frame}\n${line}`;
      bytes += frame === line ? n : n + 1;
    }
    if (frame !== '') session.transport.send(frame);
  }

  // =================================================================== liveness

  /**
   * One timer per connection checks, at most every `checkInterval` ms, that something arrived
   * from the server within ping_ms + pong_ms (protocol section 6). Because it compares clock
   * readings instead of trusting the timer, a timer that fires late (throttled hidden tab)
   * cannot cause a false alarm; one that fires much later than planned means the device
   * probably slept, and triggers a quick liveness probe instead.
   */
  #armWatchdog(session) {
    if (session.watchdog !== null) this.#clock.clearTimeout(session.watchdog);
    session.watchdog = null;
    const limit = session.pingMs + session.pongMs;
    const now = this.#clock.now();
    const dueIn = session.pingMs > 0 ? Math.max(0, session.lastInboundAt + limit - now) : this.#checkInterval;
    const wait = Math.max(1, Math.min(this.#checkInterval, dueIn));
    session.watchdogDue = now + wait;
    session.watchdog = this.#clock.setTimeout(() => this.#onWatchdog(session), wait);
  }

  #onWatchdog(session) {
    session.watchdog = null;
    if (this.#session !== session) return;
    const now = this.#clock.now();
    const late = now - session.watchdogDue;
    // Chrome runs the timers of a tab hidden for 5 minutes about once a minute: that much
    // lateness is normal there, sleep makes timers minutes or hours late.
    const threshold = this.#env.visibilityState === 'hidden' ? Math.max(this.#wakeThreshold, HIDDEN_TIMER_SLACK_MS) : this.#wakeThreshold;
    if (late > threshold) {
      this.#probe(session, `timers ran ${late} ms late, the device was probably asleep`);
    } else if (!session.probe && session.pingMs > 0) {
      const silent = now - session.lastInboundAt;
      const limit = session.pingMs + session.pongMs;
      if (silent >= limit) {
        this.#endSession(session, { code: null, reason: `no message from the server for ${silent} ms (ping_ms + pong_ms = ${limit} ms)` });
        return;
      }
    }
    this.#armWatchdog(session);
  }

  /** Sends a ping; if nothing at all arrives within probeTimeout, the connection is dead. */
  #probe(session, why) {
    if (!session?.live || session.probe || this.#session !== session) return;
    this.#counters.probes++;
    const timer = this.#clock.setTimeout(() => {
      if (this.#session !== session || !session.probe) return;
      session.probe = null;
      this.#endSession(session, { code: null, reason: `no answer to a liveness check within ${this.#probeTimeout} ms (${why})` });
    }, this.#probeTimeout);
    session.probe = { why, timer };
    this.#send(session, { type: 'ping' });
  }

  // =================================================================== page lifecycle

  #attachEnv() {
    if (this.#envAttached) return;
    this.#envAttached = true;
    const env = this.#env;
    env.addEventListener('online', this.#onOnline);
    env.addEventListener('offline', this.#onOffline);
    env.addEventListener('visibilitychange', this.#onVisibility);
    env.addEventListener('pagehide', this.#onPageHide);
    env.addEventListener('pageshow', this.#onPageShow);
    env.addEventListener('freeze', this.#onFreeze);
    env.addEventListener('resume', this.#onResume);
    if (this.#idleAfter > 0) {
      for (const type of INPUT_EVENTS) env.addEventListener(type, this.#onInput);
      this.#lastInputAt = this.#clock.now();
      this.#armIdle();
    }
    if (env.visibilityState === 'hidden') this.#armHidden();
  }

  #detachEnv() {
    if (!this.#envAttached) return;
    this.#envAttached = false;
    const env = this.#env;
    env.removeEventListener('online', this.#onOnline);
    env.removeEventListener('offline', this.#onOffline);
    env.removeEventListener('visibilitychange', this.#onVisibility);
    env.removeEventListener('pagehide', this.#onPageHide);
    env.removeEventListener('pageshow', this.#onPageShow);
    env.removeEventListener('freeze', this.#onFreeze);
    env.removeEventListener('resume', this.#onResume);
    for (const type of INPUT_EVENTS) env.removeEventListener(type, this.#onInput);
    if (this.#idleTimer !== null) this.#clock.clearTimeout(this.#idleTimer);
    if (this.#hiddenTimer !== null) this.#clock.clearTimeout(this.#hiddenTimer);
    this.#idleTimer = this.#hiddenTimer = null;
  }

  /** `online`: reconnect at once if waiting; if live, check the connection survived the change. */
  #onOnline = () => {
    if (!this.#wanted) return;
    const { state, resume } = this.#info;
    if (state === 'live') {
      this.#probe(this.#session, 'the network changed (online event)');
    } else if (state === 'reconnecting' || (state === 'offline' && resume === 'online')) {
      this.#attempt = 0;
      this.#startAttempt('the network is back (online event)');
    }
  };

  /**
   * `offline`: stop retrying and report. A live connection is probed rather than dropped: the
   * browser's flag can be wrong (e.g. a server on localhost or reached over a VPN), and if the
   * probe fails the reconnect path sees onLine === false and goes offline until `online`.
   */
  #onOffline = () => {
    if (!this.#wanted) return;
    const { state } = this.#info;
    if (state === 'live') this.#probe(this.#session, 'the device went offline (offline event)');
    else if (state === 'reconnecting') this.#goOffline({ reason: 'the device reports no network connection', resume: 'online' });
  };

  #onVisibility = () => {
    if (this.#env.visibilityState === 'hidden') {
      this.#armHidden();
      return;
    }
    if (this.#hiddenTimer !== null) {
      this.#clock.clearTimeout(this.#hiddenTimer);
      this.#hiddenTimer = null;
    }
    this.#onInput(); // coming back to the tab is activity
    if (!this.#wanted) return;
    const { state, resume } = this.#info;
    if (state === 'live') {
      // Timers were throttled while hidden: verify quickly rather than wait for the watchdog.
      const session = this.#session;
      if (this.#clock.now() - session.lastInboundAt > 1000) this.#probe(session, 'the page became visible');
    } else if (state === 'reconnecting' || (state === 'offline' && (resume === 'visible' || (resume === 'online' && this.#env.onLine !== false)))) {
      this.#startAttempt('the page became visible');
    }
  };

  /** Hidden tabs keep their connection unless `hiddenTimeout` is set (see docs: lifecycle). */
  #armHidden() {
    if (this.#hiddenTimeout <= 0 || this.#hiddenTimer !== null) return;
    this.#hiddenTimer = this.#clock.setTimeout(() => {
      this.#hiddenTimer = null;
      if (!this.#wanted || this.#env.visibilityState !== 'hidden' || this.#info.state === 'offline') return;
      this.#pause(`the page was hidden for ${this.#hiddenTimeout} ms (hiddenTimeout)`, 'visible');
    }, this.#hiddenTimeout);
  }

  /**
   * `pagehide`: close cleanly so that the page can enter the back-forward cache (an open
   * WebSocket keeps it out) and others see this client leave at once. `pageshow` with
   * `persisted` brings it back with recovery.
   */
  #onPageHide = (event) => {
    if (!this.#wanted) return;
    this.#pause(event?.persisted ? 'the page entered the back-forward cache' : 'the page is being unloaded', 'pageshow');
  };

  #onPageShow = (event) => {
    if (!this.#wanted || !event?.persisted) return;
    const { state, resume } = this.#info;
    if (state === 'offline' && resume === 'pageshow') this.#startAttempt('the page was restored from the back-forward cache');
  };

  /** `freeze` (Page Lifecycle API): a frozen page runs no code, so it cannot answer pings. */
  #onFreeze = () => {
    if (this.#wanted) this.#pause('the page was frozen by the browser', 'resume');
  };

  #onResume = () => {
    if (!this.#wanted) return;
    const { state, resume } = this.#info;
    if (state === 'offline' && resume === 'resume') this.#startAttempt('the page was resumed');
  };

  // =================================================================== idle

  #onInput = () => {
    this.#lastInputAt = this.#clock.now();
    if (this.#idle) this.#setIdle(false);
  };

  #armIdle() {
    if (this.#idleAfter <= 0 || !this.#envAttached) return;
    if (this.#idleTimer !== null) this.#clock.clearTimeout(this.#idleTimer);
    const due = this.#lastInputAt + this.#idleAfter - this.#clock.now();
    this.#idleTimer = this.#clock.setTimeout(() => {
      this.#idleTimer = null;
      // Input only moves the timestamp (pointermove fires a lot); the timer re-checks it.
      if (this.#clock.now() - this.#lastInputAt >= this.#idleAfter) this.#setIdle(true);
      else this.#armIdle();
    }, Math.max(0, due));
  }

  #setIdle(idle) {
    if (this.#idle === idle) return;
    this.#idle = idle;
    if (!idle) this.#armIdle();
    for (const sub of [...this.#subs.values()]) sub[kIdleChanged]();
    this.#emit('idle', idle);
  }

  // =================================================================== lag, events, errors

  #measureLag(msg, recovered) {
    if (!Number.isFinite(msg.ts)) return null;
    const lag = this.#clock.now() - msg.ts;
    // Recovered publications waited for the reconnect: that is outage, not delivery lag.
    if (recovered) this.#counters.recoveredPublications++;
    else this.#lag.add(lag);
    return lag;
  }

  #armLagReports() {
    if (this.#lagTimer !== null || this.#lagReportInterval <= 0 || !this.#wanted || !this.#listeners.get('lag')?.size) return;
    this.#lagTimer = this.#clock.setTimeout(() => {
      this.#lagTimer = null;
      const snapshot = this.#lag.snapshot();
      if (snapshot.total > this.#lagReported) {
        this.#lagReported = snapshot.total;
        this.#emit('lag', snapshot);
      }
      this.#armLagReports();
    }, this.#lagReportInterval);
  }

  #stopLagReports() {
    if (this.#lagTimer !== null) this.#clock.clearTimeout(this.#lagTimer);
    this.#lagTimer = null;
  }

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

function positive(v, name) {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a positive number of ms, got ${v}`);
  return v;
}

function nonNegative(v, name) {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must be a number >= 0, got ${v}`);
  return v;
}
