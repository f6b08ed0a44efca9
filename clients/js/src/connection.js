// connection.js: the connection behind a Herald client (docs/client-js.md): one transport at a
// time, its state machine (connecting -> live -> reconnecting ... / offline), the hello, token
// refresh, liveness (checks in liveness.js), the page-lifecycle policy, and transport negotiation
// (fallbacks, background re-probes, the switch-over between transports) with the decisions and
// memory kept in negotiation.js. Internal: applications use the Herald facade (herald.js), which
// passes in its side (subscriptions, events, error reports) as a small `host` object.

import { ClientErrorCodes, CloseCodes, ErrorCodes, HeraldError, closeAction, parseCloseReason } from './errors.js';
import { LagReporter } from './lag-reporter.js';
import { Liveness } from './liveness.js';
import { Negotiator } from './negotiation.js';
import { PageLifecycle } from './page-lifecycle.js';
import { isObject } from './presence.js';
import { Requests } from './requests.js';
import { kHandoverPending, kIdleChanged, kPresenceEvent, kPub, kRevoked, kSessionEnded, kStart } from './subscription.js';

/** The protocol version it speaks. */
export const PROTOCOL_VERSION = 1;

const DEFAULT_MAX_MESSAGE_BYTES = 65_536;
/** After starting from a remembered transport, the better ones are re-probed this soon (at most). */
const REMEMBERED_REPROBE_MS = 30_000;
/** The connection of one Herald client, and everything about it. */
export class Connection {
  // ---- configuration (fixed at construction, options.js) ----
  #o;
  /** The context every transport gets (URLs, WebSocket/EventSource/fetch, clock, server info). */
  #ctx;
  /** Transport order, failures, memory and reports (negotiation.js). */
  #nego;
  #clock;
  #env;

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
  #lastUser = null;
  #maxBytes = DEFAULT_MAX_MESSAGE_BYTES;
  /** Requests and replies, application requests waiting for a connection (requests.js). */
  #requests;
  /** Heartbeat watchdog, liveness probes, sleep detection, learned heartbeat (liveness.js). */
  #liveness;
  #readyWaiters = [];

  /** The facade's side: subscriptions, events and error reports. */
  #host;
  /** Page events and idle detection (page-lifecycle.js). */
  #page;

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
  /** Delivery lag statistics and reports (lag-reporter.js). */
  #lag;

  /**
   * @param {object} o the options, read by options.js
   * @param {object} host `subscriptions()` (all active ones), `channel(name)` (the subscription to
   *   a channel, if any), `emit(type, value)`, `report(err, where)`, `listening(type)`
   */
  constructor(o, host) {
    this.#host = host;
    this.#o = o;
    this.#ctx = o.ctx;
    this.#clock = o.clock;
    this.#env = o.env;
    this.#nego = new Negotiator({ factories: o.factories, ctx: o.ctx, clock: o.clock, storage: o.storage, options: o.negotiation });
    this.#requests = new Requests({
      clock: o.clock,
      requestTimeout: o.requestTimeout,
      current: () => this.#session,
      isActive: (session) => this.#isActive(session),
      refusal: () => (this.#wanted ? null : (this.#stopError ?? new HeraldError(ClientErrorCodes.OFFLINE, 'not connected: call connect() first'))),
      state: () => this.#info,
    });
    this.#liveness = new Liveness({
      options: o,
      nego: this.#nego,
      current: () => this.#session,
      end: (session, end) => this.#endSession(session, end),
      post: (session, msg) => this.#requests.post(session, msg),
      count: (name) => this.count(name),
    });
    this.#page = new PageLifecycle({ env: o.env, clock: o.clock, idleAfter: o.idleAfter, hiddenTimeout: o.hiddenTimeout, on: this.#pageHandlers() });
    this.#lag = new LagReporter({
      stats: o.lagStats,
      clock: o.clock,
      ctx: o.ctx,
      reportInterval: o.lagReportInterval,
      serverReport: o.lagServerReport,
      serverInterval: o.lagServerInterval,
      wanted: () => this.#wanted,
      listening: () => this.#host.listening('lag'),
      emit: (snapshot) => this.#host.emit('lag', snapshot),
    });

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

  }

  // =================================================================== for the facade (herald.js)

  /** The current state event. */
  get info() {
    return this.#info;
  }

  /** Whether the user counts as idle. */
  get idle() {
    return this.#page.idle;
  }

  /** Whether a connection is live. */
  get live() {
    return Boolean(this.#session?.live);
  }

  /** The user of the live (or last) connection. */
  get user() {
    return this.#session?.user ?? this.#lastUser;
  }

  /** The largest message the server accepts (its hello's `max_message_bytes`). */
  get maxBytes() {
    return this.#maxBytes;
  }

  /** Requests and replies (requests.js). */
  get requests() {
    return this.#requests;
  }

  /**
   * Starts connecting, and keeps the connection up until `close()` or a terminal close code.
   * Also resumes after those, and retries at once when waiting to reconnect. 
   */
  connect() {
    this.#wanted = true;
    this.#stopError = null;
    this.#page.attach();
    this.#lag.start();
    const { state } = this.#info;
    if (state === 'live' || state === 'connecting') return;
    if (state === 'offline') this.#attempt = 0;
    this.#startAttempt(state === 'reconnecting' ? 'connect() called while waiting to reconnect' : 'connect() called');
  }

  /**
   * Closes the connection and stops reconnecting. Subscriptions are kept: a later `connect()`
   * renews them from where they were (with recovery). Pending requests reject with `closed`.
   */
  close() {
    this.#halt(new HeraldError(ClientErrorCodes.CLOSED, 'herald.close() was called'));
    this.#page.detach();
    this.#lag.stop();
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

  /** Counts the user as active now. */
  markActive() {
    this.#page.input();
  }

  /** A `lag` listener was added: start the periodic `lag` event. */
  lagListened() {
    this.#lag.armEvents();
  }

  /** The lag (ms) of a publication, counted in the statistics (lag-reporter.js). */
  measure(msg, recovered) {
    const lag = this.#lag.measure(msg, recovered);
    if (lag !== null && recovered) this.#counters.recoveredPublications++;
    return lag;
  }

  /** Adds one to a counter of `stats()`. */
  count(name) {
    this.#counters[name]++;
  }

  /** Records a gap a subscription detected (`stats().lastGap`). */
  gap(channel, detail, position) {
    this.#counters.gaps++;
    this.#lastGap = { channel, detail, position: { ...position }, at: this.#clock.now() };
  }

  /**
   * A snapshot of connection statistics and delivery lag. `lag` summarizes, over the last
   * `lag.window` live publications, receive time minus the server's `ts` (see docs: clock skew).
   */
  stats(subscriptions) {
    const s = this.#session;
    return {
      state: this.#info.state,
      transport: this.#info.transport,
      user: s?.user ?? this.#lastUser,
      client: s?.live ? s.client : null,
      node: s?.live ? s.node : null,
      liveSince: s?.live ? s.liveSince : null,
      subscriptions,
      idle: this.#page.idle,
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
    this.#failAfter(session, 'connectTimer', this.#o.connectTimeout, () => this.#connectTimeoutEnd(session));
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
      if (end.failure && this.#liveness.ranLate(due)) {
        delete end.failure;
        end.reason += ' (timers ran late: the device was probably asleep)';
      }
      this.#fail(session, end);
    }, ms);
  }

  /** Gets a token (and, when negotiating, what the server offers), then opens the transport. */
  async #open(session) {
    const info = session.role === 'current' && this.#nego.wantsInfo() ? this.#nego.reachable() : null;
    let token;
    try {
      token = typeof this.#o.token === 'function' ? await this.#o.token() : this.#o.token;
    } catch (err) {
      if (!this.#isActive(session)) return;
      const error = new HeraldError(ClientErrorCodes.TOKEN, `the token callback failed: ${err?.message ?? err}`, { cause: err });
      this.#host.report(error);
      this.#fail(session, { code: null, reason: error.message, error });
      return;
    }
    if (!this.#isActive(session)) return;
    if (token != null && typeof token !== 'string') {
      const error = new HeraldError(ClientErrorCodes.TOKEN, `the token callback returned ${typeof token}, expected a string (or null for cookie sessions)`);
      this.#host.report(error);
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
      const ms = this.#o.negotiation.openTimeout;
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
    const end = { code: null, reason: `not connected within ${this.#o.connectTimeout} ms (connectTimeout)` };
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
      const ms = this.#o.negotiation.helloTimeout;
      this.#failAfter(session, 'helloTimer', ms, () => {
        const failure = { symptom: 'no-hello', detail: `no reply to connect within ${ms} ms of opening`, ambiguous: false };
        return { code: null, reason: `${session.transportName}: ${failure.detail}`, failure };
      });
    }
    const msg = { type: 'connect' };
    if (token != null) msg.token = token;
    msg.client = this.#o.clientName;
    msg.protocol = PROTOCOL_VERSION;
    const ping = this.#liveness.wantedPing();
    if (ping > 0) msg.ping_ms = ping;
    this.#requests.send(session, msg, (result) => this.#onConnected(session, result), (err) => this.#onConnectRefused(session, err));
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
    this.#liveness.watch(session);
    this.#armDataCheck(session);
    this.#armRefresh(session, result?.expires_ms);
    // Renew every subscription first, then send what waited for the connection: the server
    // handles requests in order, so a queued presence request finds its subscription.
    for (const sub of this.#host.subscriptions()) sub[kStart]();
    this.#requests.sendQueued();
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
    if (typeof this.#o.token !== 'function' || !Number.isFinite(expiresMs) || expiresMs <= 0) return;
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
      token = await this.#o.token();
    } catch (err) {
      this.#host.report(new HeraldError(ClientErrorCodes.TOKEN, `the token callback failed (refresh): ${err?.message ?? err}`, { cause: err }));
      this.#retryRefresh(session, expiresMs);
      return;
    }
    if (this.#session !== session || !session.live) return;
    if (typeof token !== 'string') return; // nothing to refresh with (a cookie session)
    this.#requests.send(
      session,
      { type: 'refresh', token },
      (result) => this.#armRefresh(session, result?.expires_ms),
      (err) => {
        this.#host.report(err);
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
        this.#host.report(new HeraldError(ClientErrorCodes.PROTOCOL, `the server sent a line that is not JSON: ${line.slice(0, 120)}`));
        continue;
      }
      if (!isObject(msg) || typeof msg.type !== 'string') {
        this.#host.report(new HeraldError(ClientErrorCodes.PROTOCOL, `the server sent a message without a string type: ${line.slice(0, 120)}`));
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
      case 'reply':
        this.#requests.reply(session, msg);
        return;
      case 'ping':
        this.#requests.post(session, { type: 'pong' });
        return;
      case 'pub': {
        // Section 10: ignore channels not subscribed. A draining connection still delivers to
        // subscriptions whose renewal on the new connection has not been confirmed yet.
        if (current) {
          this.#counters.publications++;
          this.#host.channel(msg.channel)?.[kPub](msg);
        } else if (this.#draining.has(session)) {
          this.#counters.publications++;
          this.#host.channel(msg.channel)?.[kPub](msg, true);
        }
        return;
      }
      case 'join':
      case 'leave':
      case 'presence_update':
        if (current) this.#host.channel(msg.channel)?.[kPresenceEvent](msg);
        return;
      case 'unsubscribed':
        // The server ended a subscription: a stream reset (116) is resubscribed from the last
        // position; anything else (access revoked) is final, with onError.
        if (current) this.#host.channel(msg.channel)?.[kRevoked](msg);
        return;
      case 'disconnect': {
        // Sent just before the server closes: act on it now, with its code, reason and delay.
        const retryMs = Number.isFinite(msg.retry_ms) && msg.retry_ms > 0 ? msg.retry_ms : null;
        this.#fail(session, { code: Number.isInteger(msg.code) ? msg.code : null, reason: typeof msg.reason === 'string' ? msg.reason : 'disconnected by the server', retryMs });
        return;
      }
      case 'error':
        this.#host.report(HeraldError.fromProtocol(msg.error));
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
      const where = session.factory.endpoint?.(this.#ctx) ?? this.#o.websocketUrl;
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
    if (wasLive && this.#clock.now() - session.liveSince >= this.#o.resetAfter) this.#attempt = 0;
    if (closeAction(end.code) === 'stop') {
      const error = end.error ?? new HeraldError(ClientErrorCodes.OFFLINE, end.reason, { closeCode: end.code });
      if (error.closeCode === undefined && end.code != null) error.closeCode = end.code;
      this.#stop({ reason: end.reason, code: end.code, error });
      return;
    }
    const cut = this.#liveness.idleCut(session, end);
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
    this.#requests.fail(session, requestError);
  }

  /** Detaches and closes the current session; rejects its requests. Returns whether it was live. */
  #teardown(session, requestError) {
    if (this.#session === session) this.#session = null;
    this.#closeSession(session, requestError);
    for (const sub of this.#host.subscriptions()) sub[kSessionEnded]();
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
    const ms = this.#o.negotiation.noDataTimeout ?? (session.pingMs > 0 ? this.#liveness.silenceLimit(session) : 0);
    if (!(ms > 0)) return;
    const due = this.#clock.now() + ms;
    session.dataTimer = this.#clock.setTimeout(() => {
      session.dataTimer = null;
      // After a sleep, the watchdog's liveness check decides instead.
      if (session.framesAfterHello > 0 || this.#liveness.ranLate(due)) return;
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
    if (!this.#nego.active || this.#o.negotiation.reprobeInterval <= 0 || this.#reprobeTimer !== null || this.#probeSession) return;
    const s = this.#session;
    if (!s?.live || this.#nego.better(s.transportName).length === 0) return;
    const base = this.#nego.onlyRememberedSkips ? Math.min(this.#o.negotiation.reprobeInterval, REMEMBERED_REPROBE_MS) : this.#o.negotiation.reprobeInterval;
    const delay = Math.round(base * (0.75 + 0.5 * this.#o.random()));
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
    this.#failAfter(probe, 'connectTimer', this.#o.connectTimeout, () => this.#connectTimeoutEnd(probe));
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
      const ms = this.#o.negotiation.noDataTimeout ?? (probe.pingMs > 0 ? this.#liveness.silenceLimit(probe) : 0);
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
    }, this.#o.requestTimeout);

    probe.role = 'current';
    probe.live = true;
    probe.liveSince = this.#clock.now();
    this.#session = probe;
    this.#maxBytes = probe.maxBytes;
    this.#lastUser = probe.user;
    this.#nego.succeeded(probe.transportName);
    this.#counters.transportSwitches++;
    this.#liveness.watch(probe);
    this.#armDataCheck(probe);
    for (const sub of this.#host.subscriptions()) sub[kStart](true);
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
    for (const sub of this.#host.subscriptions()) if (sub[kHandoverPending]) return;
    for (const d of [...this.#draining]) {
      if (!this.#requests.waiting(d)) this.#closeDraining(d);
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
      delay = Math.floor(this.#o.backoff.cap * (0.5 + this.#o.random() / 2)); // "long backoff"
      delaySource = 'backoff';
    } else {
      // A page someone looks at retries at least every visibleCap ms, so it is live again soon
      // after the server is back; hidden pages back off fully.
      const visible = this.#env.visibilityState !== 'hidden';
      delay = this.#o.backoff.delay(this.#attempt, visible ? this.#o.visibleCap : Infinity);
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
    this.#halt(error);
    this.#goOffline({ reason, code, error, resume: 'connect' });
  }

  /** Stops wanting a connection: closes it, and `error` rejects every call waiting for one. */
  #halt(error) {
    this.#wanted = false;
    this.#stopError = error;
    this.#clearRetry();
    this.#abandonExtras();
    if (this.#session) this.#teardown(this.#session, error);
    this.#requests.rejectQueued(error);
    for (const w of this.#readyWaiters.splice(0)) w.reject(error);
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
    this.#host.emit('state', this.#info);
  }

  #clearRetry() {
    if (this.#retryTimer !== null) {
      this.#clock.clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
    this.#check = null; // a pending reachability check no longer decides anything
  }

  // =================================================================== page lifecycle

  /** What the page's events mean for the connection (docs/client-js.md, "Page lifecycle policy"). */
  #pageHandlers() {
    return {
      // `online`: reconnect at once if waiting; if live, check the connection survived the change.
      online: () => {
        if (!this.#wanted) return;
        const { state, resume } = this.#info;
        if (state === 'live') {
          this.#liveness.probe(this.#session, 'the network changed (online event)');
        } else if (state === 'reconnecting' || (state === 'offline' && resume === 'online')) {
          this.#attempt = 0;
          this.#startAttempt('the network is back (online event)');
        }
      },
      // `offline`: stop retrying and report. A live connection is probed rather than dropped:
      // the browser's flag can be wrong (e.g. a server on localhost or reached over a VPN), and
      // if the probe fails the reconnect path sees onLine === false and goes offline until
      // `online`.
      offline: () => {
        if (!this.#wanted) return;
        const { state } = this.#info;
        if (state === 'live') this.#liveness.probe(this.#session, 'the device went offline (offline event)');
        else if (state === 'reconnecting') this.#goOffline({ reason: 'the device reports no network connection', resume: 'online' });
      },
      visible: () => {
        if (!this.#wanted) return;
        const { state, resume } = this.#info;
        if (state === 'live') {
          // Timers were throttled while hidden: verify quickly rather than wait for the watchdog.
          const session = this.#session;
          if (this.#clock.now() - session.lastInboundAt > 1000) this.#liveness.probe(session, 'the page became visible');
        } else if (state === 'reconnecting' || (state === 'offline' && (resume === 'visible' || (resume === 'online' && this.#env.onLine !== false)))) {
          this.#startAttempt('the page became visible');
        }
      },
      // Hidden tabs keep their connection unless `hiddenTimeout` is set.
      hiddenTooLong: () => {
        if (!this.#wanted || this.#info.state === 'offline') return;
        this.#pause(`the page was hidden for ${this.#o.hiddenTimeout} ms (hiddenTimeout)`, 'visible');
      },
      // `pagehide`: close cleanly so that the page can enter the back-forward cache (an open
      // WebSocket keeps it out) and others see this client leave at once. `pageshow` with
      // `persisted` brings it back with recovery.
      pageHide: (persisted) => {
        if (!this.#wanted) return;
        this.#pause(persisted ? 'the page entered the back-forward cache' : 'the page is being unloaded', 'pageshow');
      },
      pageShow: (persisted) => {
        if (!this.#wanted || !persisted) return;
        const { state, resume } = this.#info;
        if (state === 'offline' && resume === 'pageshow') this.#startAttempt('the page was restored from the back-forward cache');
      },
      // `freeze` (Page Lifecycle API): a frozen page runs no code, so it cannot answer pings.
      freeze: () => {
        if (this.#wanted) this.#pause('the page was frozen by the browser', 'resume');
      },
      resume: () => {
        if (!this.#wanted) return;
        const { state, resume } = this.#info;
        if (state === 'offline' && resume === 'resume') this.#startAttempt('the page was resumed');
      },
      idleChanged: (idle) => {
        for (const sub of this.#host.subscriptions()) sub[kIdleChanged]();
        this.#host.emit('idle', idle);
      },
    };
  }
}
