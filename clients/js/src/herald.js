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
// page-lifecycle policy, and runs transport negotiation (fallbacks, background re-probes, the
// switch-over between transports) with the decisions and memory kept in negotiation.js;
// Subscription (subscription.js) owns per-channel ordering, recovery and presence. Time,
// randomness, the WebSocket/EventSource/fetch functions, storage and the page lifecycle are
// injected, so all of it runs on fake time in tests.

import { Backoff } from './backoff.js';
import { defaultEnvironment, INPUT_EVENTS, systemClock } from './environment.js';
import { ClientErrorCodes, CloseCodes, ErrorCodes, HeraldError, closeAction, parseCloseReason } from './errors.js';
import { LagStats } from './lag.js';
import { isObject } from './presence.js';
import { DEFAULT_TRANSPORTS, NEGOTIATION_DEFAULTS, Negotiator, defaultStorage, resolveTransports } from './negotiation.js';
import { Subscription, kHandoverPending, kIdleChanged, kPresenceEvent, kPub, kRevoked, kSessionEnded, kStart } from './subscription.js';
import { resolveEndpoints, utf8Length } from './transport.js';

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
export const VERSION = '0.1.0-SNAPSHOT';
/** The protocol version it speaks. */
export const PROTOCOL_VERSION = 1;

const LIBRARY = `herald-js/${VERSION}`;
const DEFAULT_MAX_MESSAGE_BYTES = 65_536;
/** Room for `{"type":"publish","id":...,"channel":"...","data":}` around the data. */
const PUBLISH_ENVELOPE_BYTES = 64;
/** How late timers of a hidden tab may run before it counts as a wake-up (Chrome: 1/min). */
const HIDDEN_TIMER_SLACK_MS = 75_000;
/** After starting from a remembered transport, the better ones are re-probed this soon (at most). */
const REMEMBERED_REPROBE_MS = 30_000;
/** The shortest heartbeat interval a server grants (docs/protocol.md, connect `ping_ms`). */
const MIN_PING_MS = 1000;
/**
 * An abnormal close after this much silence, when no heartbeat was due yet, looks like a proxy's
 * idle timeout. Two such cuts within IDLE_CUT_TOLERANCE of each other make the client ask for
 * heartbeats at half the observed silence.
 */
const MIN_IDLE_CUT_MS = 2 * MIN_PING_MS;
const IDLE_CUT_TOLERANCE = 0.25;
/** Most lag samples sent in one report (the server's limit). */
const LAG_REPORT_MAX = 100;
const EVENTS = new Set(['state', 'error', 'lag', 'idle']);
const OPTIONS = new Set([
  'token', 'WebSocket', 'EventSource', 'fetch', 'websocketPath', 'client', 'backoff', 'connectTimeout',
  'requestTimeout', 'liveness', 'idleAfter', 'hiddenTimeout', 'lag', 'transports', 'negotiation',
  'storage', 'clock', 'random', 'env',
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
  #clientName;
  /** The context every transport gets (URLs, WebSocket/EventSource/fetch, clock, server info). */
  #ctx;
  /** Transport order, failures, memory and reports (negotiation.js). */
  #nego;
  #openTimeout;
  #helloTimeout;
  #noDataTimeout;
  #reprobeInterval;
  #clock;
  #random;
  #env;
  #backoff;
  #resetAfter;
  #connectTimeout;
  #requestTimeout;
  #probeTimeout;
  #checkInterval;
  /** The heartbeat interval asked of the server (connect `ping_ms`; 0 leaves the server's). */
  #pingInterval;
  /** How long past a due heartbeat the client waits before it counts the connection as dead. */
  #grace;
  #visibleCap;
  #wakeThreshold;
  #idleAfter;
  #hiddenTimeout;
  #lagReportInterval;
  #lagServerReport;
  #lagServerInterval;

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
  /** A background re-probe of a better transport (a second connection), if one is under way. */
  #probeSession = null;
  /** Previous connections after a transport switch, until the new one took over. */
  #draining = new Set();
  #reprobeTimer = null;
  /** A pending GET /connection/info that decides whether a failure is the transport's fault. */
  #check = null;
  #retryTimer = null;
  #everLive = false;
  /** The silence (ms) before the last abnormal close that looked like a proxy's idle cut. */
  #lastIdleCut = null;
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
    fallbacks: 0,
    reprobes: 0,
    idleCuts: 0,
    transportSwitches: 0,
    transportReports: 0,
  };
  #lastGap = null;
  #lag;
  #lagTimer = null;
  #lagReported = 0;
  /** Live lag samples (ms) not yet sent to the server (POST /connection/lag), at most 100. */
  #lagPending = [];
  #lagServerTimer = null;

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
    const factories = resolveTransports(options.transports ?? DEFAULT_TRANSPORTS);
    this.#clientName = options.client ? `${LIBRARY} ${options.client}` : LIBRARY;

    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#env = options.env ?? defaultEnvironment();

    const backoff = options.backoff ?? {};
    this.#backoff = new Backoff({ base: backoff.base ?? 500, cap: backoff.cap ?? 30_000, random: this.#random });
    this.#resetAfter = nonNegative(backoff.resetAfter ?? 10_000, 'backoff.resetAfter');
    this.#visibleCap = positive(backoff.visibleCap ?? 1_500, 'backoff.visibleCap');
    this.#connectTimeout = positive(options.connectTimeout ?? 10_000, 'connectTimeout');
    this.#requestTimeout = positive(options.requestTimeout ?? 10_000, 'requestTimeout');
    const liveness = options.liveness ?? {};
    this.#probeTimeout = positive(liveness.probeTimeout ?? 5_000, 'liveness.probeTimeout');
    this.#checkInterval = positive(liveness.checkInterval ?? 10_000, 'liveness.checkInterval');
    this.#wakeThreshold = positive(liveness.wakeThreshold ?? 15_000, 'liveness.wakeThreshold');
    this.#pingInterval = nonNegative(liveness.pingInterval ?? 5_000, 'liveness.pingInterval');
    if (this.#pingInterval > 0 && this.#pingInterval < MIN_PING_MS) throw new RangeError(`liveness.pingInterval must be 0 or at least ${MIN_PING_MS} ms, got ${this.#pingInterval}`);
    this.#grace = positive(liveness.grace ?? 4_000, 'liveness.grace');
    this.#idleAfter = nonNegative(options.idleAfter ?? 5 * 60_000, 'idleAfter');
    this.#hiddenTimeout = nonNegative(options.hiddenTimeout ?? 0, 'hiddenTimeout');
    const lag = options.lag ?? {};
    this.#lag = new LagStats(lag.window ?? 1000);
    this.#lagReportInterval = nonNegative(lag.reportInterval ?? 60_000, 'lag.reportInterval');
    this.#lagServerReport = lag.serverReport ?? true;
    if (typeof this.#lagServerReport !== 'boolean') throw new TypeError('lag.serverReport must be a boolean');
    this.#lagServerInterval = positive(lag.serverReportInterval ?? 30_000, 'lag.serverReportInterval');

    const negotiation = negotiationOptions(options.negotiation);
    this.#openTimeout = negotiation.openTimeout;
    this.#helloTimeout = negotiation.helloTimeout;
    this.#noDataTimeout = negotiation.noDataTimeout;
    this.#reprobeInterval = negotiation.reprobeInterval;
    const globalFetch = typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined;
    this.#ctx = {
      url: this.#url,
      websocketUrl: this.#websocketUrl,
      WebSocket: 'WebSocket' in options ? options.WebSocket : globalThis.WebSocket,
      EventSource: 'EventSource' in options ? options.EventSource : globalThis.EventSource,
      fetch: 'fetch' in options ? options.fetch : globalFetch,
      clock: this.#clock,
    };
    const storage = 'storage' in options ? options.storage : defaultStorage();
    this.#nego = new Negotiator({ factories, ctx: this.#ctx, clock: this.#clock, storage, options: negotiation });

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
    this.#armLagServerReports();
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
    this.#abandonExtras();
    if (this.#session) this.#teardown(this.#session, error);
    this.#rejectQueue(error);
    for (const w of this.#readyWaiters.splice(0)) w.reject(error);
    this.#detachEnv();
    this.#stopLagReports();
    if (this.#lagServerTimer !== null) this.#clock.clearTimeout(this.#lagServerTimer);
    this.#lagServerTimer = null;
    this.#lagPending = [];
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
      negotiation: this.#nego.snapshot(),
    };
  }

  // =================================================================== connection

  /**
   * A connection (attempt) and everything about it. `role`: `current` (the connection the
   * client uses, or the attempt to get one), `probe` (a background re-probe of a better
   * transport) or `draining` (the previous connection after a switch, until the new one has
   * taken over every subscription).
   */
  #newSession(factory, transportReason, role) {
    return {
      role,
      factory,
      transportName: factory.name,
      transportReason,
      transport: null,
      openStartedAt: 0,
      opened: false,
      openedAt: 0,
      helloAt: null,
      live: false,
      liveSince: 0,
      user: null,
      client: null,
      node: null,
      pingMs: 0,
      pongMs: 0,
      maxBytes: this.#maxBytes,
      lastInboundAt: this.#clock.now(),
      framesAfterHello: 0,
      connectTimer: null,
      openTimer: null,
      helloTimer: null,
      dataTimer: null,
      qualifyTimer: null,
      drainTimer: null,
      refreshTimer: null,
      watchdog: null,
      watchdogDue: 0,
      probe: null,
      awaitingData: false,
      probeIndex: 0,
      outbox: [],
      flushQueued: false,
    };
  }

  /** Whether frames and callbacks of this session still matter. */
  #isActive(session) {
    return session === this.#session || session === this.#probeSession || this.#draining.has(session);
  }

  #startAttempt(why) {
    if (!this.#wanted) return;
    this.#clearRetry();
    this.#abandonExtras();
    if (this.#session) this.#teardown(this.#session, new HeraldError(ClientErrorCodes.CONNECTION_LOST, `connection replaced: ${why}`));
    if (this.#env.onLine === false) {
      this.#goOffline({ reason: 'the device reports no network connection', resume: 'online' });
      return;
    }
    let choice = this.#nego.choose();
    if (choice.exhausted) {
      this.#nego.resetDemotions();
      choice = this.#nego.choose();
    }
    if (typeof choice === 'string') {
      this.#stop({ reason: choice, code: null, error: new HeraldError(ClientErrorCodes.TRANSPORT, choice) });
      return;
    }
    const session = this.#newSession(choice.factory, choice.reason, 'current');
    this.#session = session;
    this.#counters.attempts++;
    this.#setState({ state: 'connecting', transport: session.transportName, transportReason: session.transportReason, reason: why, attempt: this.#attempt });
    if (this.#session !== session) return; // a listener called close()
    this.#failAfter(session, 'connectTimer', this.#connectTimeout, () => this.#connectTimeoutEnd(session));
    this.#open(session);
  }

  /**
   * Arms a timer that fails the session. If it fires far later than planned, the device
   * probably slept (or the tab was throttled hard): that proves nothing about the transport,
   * so the failure is not blamed on it.
   */
  #failAfter(session, key, ms, makeEnd) {
    const due = this.#clock.now() + ms;
    session[key] = this.#clock.setTimeout(() => {
      session[key] = null;
      const end = makeEnd();
      if (end.failure && this.#ranLate(due)) {
        delete end.failure;
        end.reason += ' (timers ran late: the device was probably asleep)';
      }
      this.#fail(session, end);
    }, ms);
  }

  /** Whether a timer due at `due` ran so late that the device probably slept. */
  #ranLate(due) {
    const threshold = this.#env.visibilityState === 'hidden' ? Math.max(this.#wakeThreshold, HIDDEN_TIMER_SLACK_MS) : this.#wakeThreshold;
    return this.#clock.now() - due > threshold;
  }

  /** Gets a token (and, when negotiating, what the server offers), then opens the transport. */
  async #open(session) {
    const info = session.role === 'current' && this.#nego.wantsInfo() ? this.#nego.reachable() : null;
    let token;
    try {
      token = typeof this.#token === 'function' ? await this.#token() : this.#token;
    } catch (err) {
      if (!this.#isActive(session)) return;
      const error = new HeraldError(ClientErrorCodes.TOKEN, `the token callback failed: ${err?.message ?? err}`, { cause: err });
      this.#report(error);
      this.#fail(session, { code: null, reason: error.message, error });
      return;
    }
    if (!this.#isActive(session)) return;
    if (token != null && typeof token !== 'string') {
      const error = new HeraldError(ClientErrorCodes.TOKEN, `the token callback returned ${typeof token}, expected a string (or null for cookie sessions)`);
      this.#report(error);
      this.#fail(session, { code: null, reason: error.message, error });
      return;
    }
    if (info) {
      await info;
      if (!this.#isActive(session)) return;
      if (session.role === 'current' && this.#stopIfOriginRefused()) return;
      // The server may not offer the transport chosen before it was asked.
      const choice = this.#nego.choose();
      if (typeof choice === 'string') {
        this.#stop({ reason: choice, code: null, error: new HeraldError(ClientErrorCodes.TRANSPORT, choice) });
        return;
      }
      if (choice.factory && choice.factory !== session.factory) {
        session.factory = choice.factory;
        session.transportName = choice.factory.name;
        session.transportReason = choice.reason;
        this.#setState({ state: 'connecting', transport: session.transportName, transportReason: session.transportReason, reason: this.#info.reason, attempt: this.#attempt });
        if (this.#session !== session) return;
      }
    }
    session.openStartedAt = this.#clock.now();
    session.transport = session.factory.open(this.#ctx, {
      onOpen: () => this.#onOpen(session, token),
      onMessage: (text) => this.#onFrame(session, text),
      onClose: (info) => this.#onTransportClosed(session, info),
    });
    if (this.#nego.active && !session.opened && this.#isActive(session)) {
      const ms = this.#openTimeout;
      this.#failAfter(session, 'openTimer', ms, () => {
        const failure = this.#openFailure(session, ms);
        return { code: null, reason: `${session.transportName}: ${failure.detail}`, failure };
      });
    }
  }

  /** How a transport that did not open within `ms` failed. */
  #openFailure(session, ms) {
    return session.factory.timeoutFailure?.(session.transport, ms) ?? { symptom: 'handshake-failed', detail: `no open within ${ms} ms`, ambiguous: true };
  }

  /** The end of an attempt that hit connectTimeout, with the stage it got stuck in. */
  #connectTimeoutEnd(session) {
    const end = { code: null, reason: `not connected within ${this.#connectTimeout} ms (connectTimeout)` };
    if (this.#nego.active && session.transport) {
      const now = this.#clock.now();
      if (!session.opened) end.failure = this.#openFailure(session, now - session.openStartedAt);
      else if (session.helloAt === null) end.failure = { symptom: 'no-hello', detail: `no reply to connect within ${now - session.openedAt} ms of opening`, ambiguous: false };
    }
    return end;
  }

  #onOpen(session, token) {
    if (!this.#isActive(session) || session.opened) return;
    if (session.openTimer !== null) this.#clock.clearTimeout(session.openTimer);
    session.openTimer = null;
    session.opened = true;
    session.openedAt = this.#clock.now();
    if (this.#nego.active) {
      const ms = this.#helloTimeout;
      this.#failAfter(session, 'helloTimer', ms, () => {
        const failure = { symptom: 'no-hello', detail: `no reply to connect within ${ms} ms of opening`, ambiguous: false };
        return { code: null, reason: `${session.transportName}: ${failure.detail}`, failure };
      });
    }
    const msg = { type: 'connect' };
    if (token != null) msg.token = token;
    msg.client = this.#clientName;
    msg.protocol = PROTOCOL_VERSION;
    const ping = this.#wantedPing();
    if (ping > 0) msg.ping_ms = ping;
    this.#sessionRequest(session, msg, (result) => this.#onConnected(session, result), (err) => this.#onConnectRefused(session, err));
  }

  /** Records the connect result ("server hello") on the session. */
  #applyHello(session, result) {
    for (const key of ['connectTimer', 'openTimer', 'helloTimer']) {
      if (session[key] !== null) this.#clock.clearTimeout(session[key]);
      session[key] = null;
    }
    session.helloAt = this.#clock.now();
    session.user = typeof result?.user === 'string' ? result.user : null;
    session.client = typeof result?.client === 'string' ? result.client : null;
    session.node = typeof result?.node === 'string' ? result.node : null;
    session.pingMs = Number.isFinite(result?.ping_ms) ? result.ping_ms : 0;
    session.pongMs = Number.isFinite(result?.pong_ms) ? result.pong_ms : 0;
    if (Number.isFinite(result?.max_message_bytes) && result.max_message_bytes > 0) session.maxBytes = result.max_message_bytes;
  }

  #onConnected(session, result) {
    if (session === this.#probeSession) {
      this.#probeConnected(session, result);
      return;
    }
    if (this.#session !== session) return;
    this.#applyHello(session, result);
    session.live = true;
    session.liveSince = this.#clock.now();
    this.#maxBytes = session.maxBytes;
    this.#lastUser = session.user;
    const reconnected = this.#everLive;
    this.#everLive = true;
    this.#counters.connects++;
    if (reconnected) this.#counters.reconnects++;
    if (this.#nego.active) this.#nego.succeeded(session.transportName);
    this.#armWatchdog(session);
    this.#armDataCheck(session);
    this.#armRefresh(session, result?.expires_ms);
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
    if (this.#session === session) this.#armReprobe();
  }

  /**
   * Refreshes the connection's credential before the server closes it at `expires_ms` (protocol
   * `refresh`): a minute ahead, or a tenth of the time left when that is less, with a token from
   * the `token` function. A refused refresh is reported (`error` event) and tried again halfway to
   * the expiry, except for another user's token (117). A fixed token cannot be refreshed: the
   * server closes with 4005 at expiry and the client reconnects.
   */
  #armRefresh(session, expiresMs) {
    if (session.refreshTimer !== null) this.#clock.clearTimeout(session.refreshTimer);
    session.refreshTimer = null;
    if (typeof this.#token !== 'function' || !Number.isFinite(expiresMs) || expiresMs <= 0) return;
    const left = expiresMs - this.#clock.now();
    if (left <= 1000) return;
    const delay = left - Math.min(60_000, Math.floor(left / 10));
    session.refreshTimer = this.#clock.setTimeout(() => this.#refresh(session, expiresMs), delay);
  }

  async #refresh(session, expiresMs) {
    session.refreshTimer = null;
    if (this.#session !== session || !session.live) return;
    let token;
    try {
      token = await this.#token();
    } catch (err) {
      this.#report(new HeraldError(ClientErrorCodes.TOKEN, `the token callback failed (refresh): ${err?.message ?? err}`, { cause: err }));
      this.#retryRefresh(session, expiresMs);
      return;
    }
    if (this.#session !== session || !session.live) return;
    if (typeof token !== 'string') return; // nothing to refresh with (a cookie session)
    this.#sessionRequest(
      session,
      { type: 'refresh', token },
      (result) => this.#armRefresh(session, result?.expires_ms),
      (err) => {
        this.#report(err);
        if (err.code !== ErrorCodes.USER_MISMATCH) this.#retryRefresh(session, expiresMs);
      },
    );
  }

  #retryRefresh(session, expiresMs) {
    const left = expiresMs - this.#clock.now();
    if (left > 2000 && this.#session === session) {
      session.refreshTimer = this.#clock.setTimeout(() => this.#refresh(session, expiresMs), Math.floor(left / 2));
    }
  }

  #onConnectRefused(session, err) {
    if (session === this.#probeSession) {
      this.#fail(session, { code: null, reason: `connect refused: ${err.message} (${err.code})` });
      return;
    }
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
    if (!this.#isActive(session)) return;
    session.lastInboundAt = this.#clock.now();
    if (session.helloAt !== null) {
      session.framesAfterHello++;
      if (session.dataTimer !== null) {
        this.#clock.clearTimeout(session.dataTimer);
        session.dataTimer = null;
      }
    }
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
      if (!this.#isActive(session)) return; // the message ended the connection
    }
    if (session.awaitingData && session.framesAfterHello > 0 && session === this.#probeSession) this.#switchTo(session);
    this.#checkDrains();
  }

  #onMessage(session, msg) {
    const current = session === this.#session;
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
        // Section 10: ignore channels not subscribed. A draining connection still delivers to
        // subscriptions whose renewal on the new connection has not been confirmed yet.
        if (current) {
          this.#counters.publications++;
          this.#subs.get(msg.channel)?.[kPub](msg);
        } else if (this.#draining.has(session)) {
          this.#counters.publications++;
          this.#subs.get(msg.channel)?.[kPub](msg, true);
        }
        return;
      }
      case 'join':
      case 'leave':
      case 'presence_update':
        if (current) this.#subs.get(msg.channel)?.[kPresenceEvent](msg);
        return;
      case 'unsubscribed':
        // The server ended a subscription: a stream reset (116) is resubscribed from the last
        // position; anything else (access revoked) is final, with onError.
        if (current) this.#subs.get(msg.channel)?.[kRevoked](msg);
        return;
      case 'disconnect': {
        // Sent just before the server closes: act on it now, with its code, reason and delay.
        const retryMs = Number.isFinite(msg.retry_ms) && msg.retry_ms > 0 ? msg.retry_ms : null;
        this.#fail(session, { code: Number.isInteger(msg.code) ? msg.code : null, reason: typeof msg.reason === 'string' ? msg.reason : 'disconnected by the server', retryMs });
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
    if (!this.#isActive(session)) return;
    const { text, retryMs } = parseCloseReason(info.reason);
    let reason;
    let failure = null;
    if (!session.opened) {
      const where = session.factory.endpoint?.(this.#ctx) ?? this.#websocketUrl;
      reason = `could not connect to ${where}` + (info.error ? `: ${info.error}` : ' (the server is unreachable, or refused the handshake: see "Troubleshooting" in docs/client-js.md)');
      if (this.#nego.active && info.symptom !== null) {
        failure = { symptom: info.symptom ?? 'closed-before-open', detail: info.error ?? `closed before open${info.code != null ? ` (code ${info.code})` : ''}`, ambiguous: info.ambiguous ?? true };
      }
    } else if (text) {
      reason = text;
    } else {
      reason = info.error ?? (info.code != null ? `connection closed (code ${info.code})` : 'connection lost');
    }
    if (info.terminal && session === this.#session) {
      // A refusal no retry can change (the server does not accept this page's origin).
      this.#stop({ reason: info.error, code: null, error: new HeraldError(info.terminal, info.error) });
      return;
    }
    // Closed without a word from the server (no disconnect message, no close frame).
    const abnormal = session.opened && (info.code == null || info.code === 1005 || info.code === 1006);
    this.#fail(session, { code: info.code ?? null, reason, retryMs: retryMs ?? info.retryMs ?? null, failure, abnormal });
  }

  /** A session failed or ended: what that means depends on its role. */
  #fail(session, end) {
    if (session === this.#session) this.#endSession(session, end);
    else if (session === this.#probeSession) this.#probeFailed(session, end);
    else if (this.#draining.has(session)) this.#closeDraining(session);
  }

  /**
   * The connection ended unexpectedly (or was refused): clean up, then fall back to another
   * transport, reconnect or stop, depending on why (protocol section 8).
   */
  #endSession(session, end) {
    if (this.#session !== session) return;
    this.#abandonExtras();
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
    const cut = this.#idleCut(session, end);
    if (cut !== null) {
      // The connection worked: reconnect as usual (a visible page within visibleCap), and do
      // not blame the transport.
      this.#scheduleReconnect(session, { ...end, reason: cut });
      return;
    }
    if (this.#nego.active) {
      let failure = end.failure ?? null;
      if (!failure && session.opened) failure = this.#nego.ended(session.transportName, { lived: this.#clock.now() - session.openedAt, abnormal: Boolean(end.abnormal) });
      if (failure) {
        this.#transportFailed(session, end, failure);
        return;
      }
    }
    this.#scheduleReconnect(session, end);
  }

  /**
   * A transport failed in a way that may be the network's fault. If the failure could also
   * mean "the server is down", GET /connection/info decides: when that answers, the transport
   * is blamed (reported, demoted) and the next one is tried at once; when it does not, this is
   * an ordinary outage and the client reconnects with backoff on the same transport.
   */
  #transportFailed(session, end, failure) {
    const name = session.transportName;
    const decide = (reachable) => {
      if (!this.#wanted) return;
      if (this.#stopIfOriginRefused()) return;
      if (!reachable) {
        this.#scheduleReconnect(session, { ...end, reason: `${end.reason} (GET /connection/info failed too: the server or the network is down, ${name} is not to blame)` });
        return;
      }
      if (this.#nego.report(name, failure.symptom, failure.detail)) this.#counters.transportReports++;
      this.#nego.demote(name, failure.symptom, failure.detail);
      const next = this.#nego.choose();
      if (next.factory) {
        this.#counters.fallbacks++;
        this.#startAttempt(`${name} failed (${failure.symptom}: ${failure.detail}); trying ${next.factory.name}`);
        return;
      }
      this.#nego.resetDemotions();
      this.#scheduleReconnect(session, { ...end, reason: `${end.reason}; every transport failed, starting over` });
    };
    if (failure.ambiguous && this.#nego.canCheck) {
      const check = {};
      this.#check = check;
      this.#nego.reachable().then((ok) => {
        if (this.#check !== check) return; // close(), connect() or a page event came first
        this.#check = null;
        decide(ok);
      });
    } else {
      decide(true);
    }
  }

  /** Clears a session's timers. */
  #clearTimers(session) {
    for (const key of ['connectTimer', 'openTimer', 'helloTimer', 'dataTimer', 'qualifyTimer', 'drainTimer', 'refreshTimer', 'watchdog']) {
      if (session[key] !== null) this.#clock.clearTimeout(session[key]);
      session[key] = null;
    }
    if (session.probe) this.#clock.clearTimeout(session.probe.timer);
    session.probe = null;
  }

  /** Closes a session's transport and fails its requests. */
  #closeSession(session, requestError) {
    this.#clearTimers(session);
    session.transport?.close(1000, requestError.code === ClientErrorCodes.CLOSED ? 'client closed' : 'client reconnecting');
    for (const [id, entry] of this.#pending) {
      if (entry.session !== session) continue;
      this.#pending.delete(id);
      if (entry.timer !== null) this.#clock.clearTimeout(entry.timer);
      entry.onError(requestError);
    }
  }

  /** Detaches and closes the current session; rejects its requests. Returns whether it was live. */
  #teardown(session, requestError) {
    if (this.#session === session) this.#session = null;
    this.#closeSession(session, requestError);
    for (const sub of [...this.#subs.values()]) sub[kSessionEnded]();
    return session.live;
  }

  /** Stops a background re-probe and closes draining connections. */
  #abandonExtras() {
    if (this.#reprobeTimer !== null) this.#clock.clearTimeout(this.#reprobeTimer);
    this.#reprobeTimer = null;
    const probe = this.#probeSession;
    if (probe) {
      this.#probeSession = null;
      this.#closeSession(probe, new HeraldError(ClientErrorCodes.CONNECTION_LOST, 're-probe abandoned'));
    }
    for (const d of [...this.#draining]) this.#closeDraining(d);
  }

  // =================================================================== fallback checks and re-probes

  /**
   * A transport that connects but then carries nothing (a proxy that passes the first bytes,
   * then holds the rest) is useless: after the hello, the server's first heartbeat must arrive
   * within `negotiation.noDataTimeout` (default ping_ms + pong_ms).
   */
  #armDataCheck(session) {
    if (!this.#nego.active || session.framesAfterHello > 0) return;
    const ms = this.#noDataTimeout ?? (session.pingMs > 0 ? this.#silenceLimit(session) : 0);
    if (!(ms > 0)) return;
    const due = this.#clock.now() + ms;
    session.dataTimer = this.#clock.setTimeout(() => {
      session.dataTimer = null;
      // After a sleep, the watchdog's liveness check decides instead.
      if (session.framesAfterHello > 0 || this.#ranLate(due)) return;
      const failure = { symptom: 'no-data', detail: `connected, then no message within ${ms} ms (not even a heartbeat)`, ambiguous: false };
      this.#fail(session, { code: null, reason: `${session.transportName}: ${failure.detail}`, failure });
    }, ms);
  }

  /**
   * While live on a transport other than the best, re-probes the better ones every
   * `negotiation.reprobeInterval` (jittered by ±25 %; sooner after starting from a remembered
   * transport), in the background, without interrupting delivery.
   */
  #armReprobe() {
    if (!this.#nego.active || this.#reprobeInterval <= 0 || this.#reprobeTimer !== null || this.#probeSession) return;
    const s = this.#session;
    if (!s?.live || this.#nego.better(s.transportName).length === 0) return;
    const base = this.#nego.onlyRememberedSkips ? Math.min(this.#reprobeInterval, REMEMBERED_REPROBE_MS) : this.#reprobeInterval;
    const delay = Math.round(base * (0.75 + 0.5 * this.#random()));
    this.#reprobeTimer = this.#clock.setTimeout(() => {
      this.#reprobeTimer = null;
      this.#reprobe(0);
    }, delay);
  }

  /** Probes the `index`th better transport: opens it and completes a connect beside the live one. */
  async #reprobe(index) {
    const current = this.#session;
    if (!this.#wanted || !current?.live || this.#probeSession) return;
    if (this.#nego.wantsInfo()) {
      await this.#nego.reachable();
      if (this.#session !== current || !current.live || this.#probeSession || this.#reprobeTimer !== null) return;
    }
    const better = this.#nego.better(current.transportName);
    if (index >= better.length) {
      this.#armReprobe();
      return;
    }
    const factory = better[index];
    const probe = this.#newSession(factory, `re-probe: ${factory.name} works (was ${current.transportName})`, 'probe');
    probe.probeIndex = index;
    this.#probeSession = probe;
    this.#counters.reprobes++;
    this.#failAfter(probe, 'connectTimer', this.#connectTimeout, () => this.#connectTimeoutEnd(probe));
    this.#open(probe);
  }

  /**
   * The probe completed a connect. A transport demoted for carrying no data must also deliver
   * the server's first heartbeat, and one demoted for short-lived connections must stay up for
   * `shortLivedMs`, before the client switches to it.
   */
  #probeConnected(probe, result) {
    this.#applyHello(probe, result);
    const demotion = this.#nego.demotion(probe.transportName);
    if (demotion === 'no-data' && probe.framesAfterHello === 0) {
      const ms = this.#noDataTimeout ?? (probe.pingMs > 0 ? this.#silenceLimit(probe) : 0);
      if (ms > 0) {
        probe.awaitingData = true;
        this.#failAfter(probe, 'qualifyTimer', ms, () => {
          const failure = { symptom: 'no-data', detail: `re-probe connected, then no message within ${ms} ms`, ambiguous: false };
          return { code: null, reason: failure.detail, failure };
        });
        return;
      }
    }
    if (demotion === 'short-lived') {
      const wait = this.#nego.options.shortLivedMs - (this.#clock.now() - probe.openedAt);
      if (wait > 0) {
        probe.qualifyTimer = this.#clock.setTimeout(() => {
          probe.qualifyTimer = null;
          this.#switchTo(probe);
        }, wait);
        return;
      }
    }
    this.#switchTo(probe);
  }

  #probeFailed(probe, end) {
    this.#probeSession = null;
    this.#closeSession(probe, new HeraldError(ClientErrorCodes.CONNECTION_LOST, `re-probe failed: ${end.reason}`));
    let failure = end.failure ?? null;
    if (!failure && probe.opened && end.abnormal) {
      failure = { symptom: 'short-lived', detail: `a re-probe closed ${this.#clock.now() - probe.openedAt} ms after opening`, ambiguous: false };
    }
    if (!failure) {
      // Not the transport's fault (token, refused connect, server restart): try next round.
      this.#armReprobe();
      return;
    }
    const name = probe.transportName;
    // The live connection proves the server reachable: every failure counts.
    if (this.#nego.report(name, failure.symptom, failure.detail)) this.#counters.transportReports++;
    this.#nego.demote(name, failure.symptom, failure.detail);
    this.#reprobe(probe.probeIndex + 1);
  }

  /**
   * Switches to the probed connection without interrupting delivery: it becomes the current
   * one and renews every subscription from its current position (with recovery); the old one
   * keeps delivering each channel until the new subscription is confirmed, then closes.
   * Publications both deliver are passed on once (subscription.js, handover).
   */
  #switchTo(probe) {
    if (this.#probeSession !== probe) return;
    this.#probeSession = null;
    this.#clearTimers(probe);
    probe.awaitingData = false;
    const old = this.#session;
    if (!this.#wanted || !old?.live) {
      this.#closeSession(probe, new HeraldError(ClientErrorCodes.CONNECTION_LOST, 're-probe abandoned'));
      return;
    }
    for (const key of ['watchdog', 'dataTimer']) {
      if (old[key] !== null) this.#clock.clearTimeout(old[key]);
      old[key] = null;
    }
    if (old.probe) this.#clock.clearTimeout(old.probe.timer);
    old.probe = null;
    old.role = 'draining';
    this.#draining.add(old);
    old.drainTimer = this.#clock.setTimeout(() => {
      old.drainTimer = null;
      this.#closeDraining(old);
    }, this.#requestTimeout);

    probe.role = 'current';
    probe.live = true;
    probe.liveSince = this.#clock.now();
    this.#session = probe;
    this.#maxBytes = probe.maxBytes;
    this.#lastUser = probe.user;
    this.#nego.succeeded(probe.transportName);
    this.#counters.transportSwitches++;
    this.#armWatchdog(probe);
    this.#armDataCheck(probe);
    for (const sub of [...this.#subs.values()]) sub[kStart](true);
    this.#setState({
      state: 'live',
      transport: probe.transportName,
      transportReason: probe.transportReason,
      reason: `switched from ${old.transportName} to ${probe.transportName}`,
      user: probe.user,
      client: probe.client,
      node: probe.node,
    });
    if (this.#session !== probe) return;
    this.#checkDrains();
    this.#armReprobe();
  }

  /** Closes draining connections once every subscription moved and their requests are answered. */
  #checkDrains() {
    if (this.#draining.size === 0) return;
    for (const sub of this.#subs.values()) if (sub[kHandoverPending]) return;
    for (const d of [...this.#draining]) {
      let waiting = false;
      for (const entry of this.#pending.values()) {
        if (entry.session === d) {
          waiting = true;
          break;
        }
      }
      if (!waiting) this.#closeDraining(d);
    }
  }

  #closeDraining(session) {
    if (!this.#draining.delete(session)) return;
    this.#closeSession(session, new HeraldError(ClientErrorCodes.CONNECTION_LOST, 'the connection closed after a transport switch'));
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
      // A page someone looks at retries at least every visibleCap ms, so it is live again soon
      // after the server is back; hidden pages back off fully.
      const visible = this.#env.visibilityState !== 'hidden';
      delay = this.#backoff.delay(this.#attempt, visible ? this.#visibleCap : Infinity);
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

  /**
   * GET /connection/info answered 403 origin-not-allowed: the server does not accept this page's
   * origin, so no transport and no retry can work. Stops with `origin_refused`.
   */
  #stopIfOriginRefused() {
    const refused = this.#nego.originRefused;
    if (refused === null) return false;
    this.#stop({ reason: refused, code: null, error: new HeraldError(ClientErrorCodes.ORIGIN, refused) });
    return true;
  }

  /** Stops for good (terminal close code, no transport): wait for the application's connect(). */
  #stop({ reason, code, error }) {
    this.#wanted = false;
    this.#stopError = error;
    this.#clearRetry();
    this.#abandonExtras();
    if (this.#session) this.#teardown(this.#session, error);
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
    this.#abandonExtras();
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
    this.#check = null; // a pending reachability check no longer decides anything
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
    if (!this.#isActive(session) || !session.transport) return;
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
    const limit = this.#silenceLimit(session);
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
      const limit = this.#silenceLimit(session);
      if (silent >= limit) {
        const end = { code: null, reason: `no message from the server for ${silent} ms (a heartbeat every ${session.pingMs} ms was due, plus ${limit - session.pingMs} ms of grace)` };
        if (this.#nego.active && session.framesAfterHello === 0) {
          end.failure = { symptom: 'no-data', detail: `connected, then no message within ${silent} ms (not even a heartbeat)`, ambiguous: false };
        }
        this.#endSession(session, end);
        return;
      }
    }
    this.#armWatchdog(session);
  }

  /**
   * How long the connection may stay silent before it counts as dead: the heartbeat interval
   * plus `liveness.grace` (at most the server's pong_ms). With the defaults (heartbeats every
   * 5 s, 4 s of grace) a page leaves "live" at most 9 s after the last sign of life.
   */
  #silenceLimit(session) {
    const grace = session.pongMs > 0 ? Math.min(session.pongMs, this.#grace) : this.#grace;
    return session.pingMs + grace;
  }

  /** The heartbeat interval to ask for: the configured one, or less once an idle cut was learned. */
  #wantedPing() {
    const learned = this.#nego.learnedPing;
    if (learned === null) return this.#pingInterval;
    return this.#pingInterval > 0 ? Math.min(this.#pingInterval, learned) : learned;
  }

  /**
   * Whether an abnormal close (no close frame) of a live connection looks like a proxy's idle
   * timeout rather than a broken transport: it came after at least MIN_IDLE_CUT_MS without a
   * message, before the next heartbeat was due (with a second of slack). Such a cut says nothing
   * against the transport. When two cuts in a row came after about the same silence, the client
   * asks the server for heartbeats at half that silence from then on (remembered for the origin
   * like the transport). Returns the reason to report, or null.
   */
  #idleCut(session, end) {
    if (!session.live || !end.abnormal || end.failure) return null;
    const silence = this.#clock.now() - session.lastInboundAt;
    if (silence < MIN_IDLE_CUT_MS || (session.pingMs > 0 && silence >= session.pingMs + MIN_PING_MS)) {
      this.#lastIdleCut = null;
      return null;
    }
    this.#counters.idleCuts++;
    const previous = this.#lastIdleCut;
    this.#lastIdleCut = silence;
    const what = `the connection was cut after ${silence} ms without traffic (a proxy's idle timeout?)`;
    if (previous === null || Math.abs(silence - previous) > Math.max(MIN_PING_MS, previous * IDLE_CUT_TOLERANCE)) return what;
    const ping = Math.max(MIN_PING_MS, Math.floor(Math.min(silence, previous) / 2));
    const current = this.#wantedPing();
    if (current > 0 && ping >= current && session.pingMs <= ping) return what;
    this.#nego.learnPing(ping);
    this.#lastIdleCut = null;
    return `${what}; asking for heartbeats every ${ping} ms`;
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
    else {
      this.#lag.add(lag);
      if (this.#lagServerReport && this.#lagPending.length < LAG_REPORT_MAX) this.#lagPending.push(lag);
    }
    return lag;
  }

  /**
   * Sends the lag samples gathered since the last report to the server (POST /connection/lag,
   * feeding its herald_client_delivery_lag_seconds histogram) every `lag.serverReportInterval`:
   * best effort, failures are ignored, nothing is sent when there are no new samples.
   */
  #armLagServerReports() {
    if (this.#lagServerTimer !== null || !this.#lagServerReport || !this.#wanted) return;
    this.#lagServerTimer = this.#clock.setTimeout(() => {
      this.#lagServerTimer = null;
      this.#sendLagReport();
      this.#armLagServerReports();
    }, this.#lagServerInterval);
  }

  #sendLagReport() {
    const fetchFn = this.#ctx.fetch;
    if (this.#lagPending.length === 0 || typeof fetchFn !== 'function') return;
    const samples = this.#lagPending.map((ms) => Math.max(0, Math.round(ms)));
    this.#lagPending = [];
    try {
      Promise.resolve(fetchFn(`${this.#ctx.url}/connection/lag`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ samples }),
        credentials: 'include',
        cache: 'no-store',
        keepalive: true,
      })).catch(() => {});
    } catch {
      // best effort
    }
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

/** Validates `options.negotiation` and fills in the defaults. */
function negotiationOptions(given = {}) {
  if (!isObject(given)) throw new TypeError('options.negotiation must be an object');
  for (const key of Object.keys(given)) {
    if (!(key in NEGOTIATION_DEFAULTS)) throw new TypeError(`unknown negotiation option '${key}'; expected one of ${Object.keys(NEGOTIATION_DEFAULTS).join(', ')}`);
  }
  const o = { ...NEGOTIATION_DEFAULTS, ...given };
  positive(o.openTimeout, 'negotiation.openTimeout');
  positive(o.helloTimeout, 'negotiation.helloTimeout');
  if (o.noDataTimeout !== null) positive(o.noDataTimeout, 'negotiation.noDataTimeout');
  nonNegative(o.shortLivedMs, 'negotiation.shortLivedMs');
  if (!(Number.isInteger(o.shortLivedCount) && o.shortLivedCount >= 1)) throw new RangeError(`negotiation.shortLivedCount must be an integer >= 1, got ${o.shortLivedCount}`);
  nonNegative(o.reprobeInterval, 'negotiation.reprobeInterval');
  nonNegative(o.rememberFor, 'negotiation.rememberFor');
  nonNegative(o.reportInterval, 'negotiation.reportInterval');
  for (const key of ['info', 'remember', 'report']) {
    if (typeof o[key] !== 'boolean') throw new TypeError(`negotiation.${key} must be true or false`);
  }
  return Object.freeze(o);
}

function positive(v, name) {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a positive number of ms, got ${v}`);
  return v;
}

function nonNegative(v, name) {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must be a number >= 0, got ${v}`);
  return v;
}
