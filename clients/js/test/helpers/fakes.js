// Test doubles for the unit tests: fake time, a fake page lifecycle and a fake WebSocket whose
// server side the test scripts message by message. No real timers or sockets are involved.

import { Herald } from '../../src/herald.js';

/** Lets every pending promise callback run (real macrotask turn; fake timers are unaffected). */
export function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A manual clock. `advance(ms)` runs due timers in order, letting promise callbacks run between
 * them; `jump(ms)` moves the wall clock without running timers, like a device that slept
 * (the overdue timers then run on the next `advance`, late, as browsers do after a wake-up).
 */
export class FakeClock {
  nowMs;
  #timers = new Map();
  #seq = 0;

  constructor(start = 1_700_000_000_000) {
    this.nowMs = start;
  }

  now = () => this.nowMs;

  setTimeout = (fn, ms) => {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.nowMs + Math.max(0, Number(ms) || 0), fn, id });
    return id;
  };

  clearTimeout = (id) => {
    this.#timers.delete(id);
  };

  async advance(ms) {
    const end = this.nowMs + ms;
    for (;;) {
      await flush();
      let next = null;
      for (const t of this.#timers.values()) {
        if (t.at <= end && (next === null || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      }
      if (next === null) break;
      this.#timers.delete(next.id);
      this.nowMs = Math.max(this.nowMs, next.at);
      next.fn();
    }
    this.nowMs = Math.max(this.nowMs, end);
    await flush();
  }

  jump(ms) {
    this.nowMs += ms;
  }

  /** Number of timers scheduled. */
  get pending() {
    return this.#timers.size;
  }
}

/** A page lifecycle the test drives: visibility, network, bfcache, freeze, input. */
export class FakeEnv {
  visibilityState = 'visible';
  onLine = true;
  #listeners = new Map();

  addEventListener(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(fn);
  }

  removeEventListener(type, fn) {
    this.#listeners.get(type)?.delete(fn);
  }

  fire(type, props = {}) {
    for (const fn of [...(this.#listeners.get(type) ?? [])]) fn({ type, ...props });
  }

  listenerCount() {
    let n = 0;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }

  hide() {
    this.visibilityState = 'hidden';
    this.fire('visibilitychange');
  }

  show() {
    this.visibilityState = 'visible';
    this.fire('visibilitychange');
  }

  goOffline() {
    this.onLine = false;
    this.fire('offline');
  }

  goOnline() {
    this.onLine = true;
    this.fire('online');
  }
}

/** A WebSocket class (plus the list of its instances) whose server side the test plays. */
export function fakeWebSocket() {
  const sockets = [];

  class FakeWebSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;

    readyState = 0;
    protocol = '';
    binaryType = 'blob';
    /** Frames the client sent, as text. */
    frames = [];
    /** The client's own close() call, if any: {code, reason}. */
    closedByClient = null;
    #listeners = new Map();
    #taken = new Set();

    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      sockets.push(this);
    }

    addEventListener(type, fn) {
      if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
      this.#listeners.get(type).add(fn);
    }

    removeEventListener(type, fn) {
      this.#listeners.get(type)?.delete(fn);
    }

    #dispatch(type, event) {
      for (const fn of [...(this.#listeners.get(type) ?? [])]) fn({ type, ...event });
    }

    send(text) {
      if (this.readyState !== 1) throw new Error('InvalidStateError: not open');
      if (typeof text !== 'string') throw new Error('the client must send text frames');
      this.frames.push(text);
    }

    close(code = 1000, reason = '') {
      if (this.readyState >= 2) return;
      this.readyState = 2;
      this.closedByClient = { code, reason };
      queueMicrotask(() => {
        this.readyState = 3;
        this.#dispatch('close', { code, reason, wasClean: true });
      });
    }

    // ---- the server side, played by the test ----

    /** Completes the handshake. */
    accept(protocol = 'herald.v1.json') {
      this.readyState = 1;
      this.protocol = protocol;
      this.#dispatch('open', {});
    }

    /** Fails the handshake (as a browser reports it: an error, then close 1006). */
    refuse(message) {
      this.readyState = 3;
      this.#dispatch('error', message ? { message } : {});
      this.#dispatch('close', { code: 1006, reason: '', wasClean: false });
    }

    /** Sends one frame holding the given messages, LF-separated. */
    receive(...messages) {
      const text = messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join('\n');
      this.#dispatch('message', { data: text });
    }

    /** The server closes the connection with a close frame. */
    serverClose(code, reason = '') {
      this.readyState = 3;
      this.#dispatch('close', { code, reason, wasClean: true });
    }

    /** The network drops (no close frame). */
    drop() {
      this.readyState = 3;
      this.#dispatch('close', { code: 1006, reason: '', wasClean: false });
    }

    /** Every message the client sent, parsed, in order. */
    get sent() {
      return this.frames.flatMap((f) => f.split('\n')).map((line) => JSON.parse(line));
    }

    /** Sent messages of one type (all of them). */
    sentOf(type) {
      return this.sent.filter((m) => m.type === type);
    }

    /** The first sent message of `type` (matching `pred`) not taken before; throws if none. */
    take(type, pred = () => true) {
      const all = this.sent;
      for (let i = 0; i < all.length; i++) {
        if (!this.#taken.has(i) && all[i].type === type && pred(all[i])) {
          this.#taken.add(i);
          return all[i];
        }
      }
      throw new Error(`the client sent no (further) '${type}' message; sent: ${JSON.stringify(all)}`);
    }

    /** Like take, but returns undefined instead of throwing. */
    tryTake(type, pred = () => true) {
      try {
        return this.take(type, pred);
      } catch {
        return undefined;
      }
    }

    reply(request, result = {}) {
      this.receive({ type: 'reply', id: request.id, result });
    }

    replyError(request, code, message = `error ${code}`) {
      this.receive({ type: 'reply', id: request.id, error: { code, message } });
    }

    /** Answers the `connect` request. */
    async connected(result = {}) {
      await flush();
      const req = this.take('connect');
      this.reply(req, { client: `c-${sockets.indexOf(this) + 1}`, user: 'alice', node: 'herald-test', protocol: 1, ping_ms: 25_000, pong_ms: 10_000, max_message_bytes: 65_536, ...result });
      await flush();
      return req;
    }

    /** Answers the next `subscribe` to `channel`. Returns the request. */
    async subscribed(channel, result = {}) {
      await flush();
      const req = this.take('subscribe', (m) => m.channel === channel);
      this.reply(req, { epoch: 'E1', offset: 0, recoverable: true, recovered: false, missed: 0, ...result });
      await flush();
      return req;
    }

    /** Sends a publication. */
    pub(channel, offset, data = { n: offset }, extra = {}) {
      this.receive({ type: 'pub', channel, epoch: 'E1', offset, ts: extra.ts ?? 0, data, ...extra });
    }
  }

  return { FakeWebSocket, sockets };
}

/**
 * A WebSocket-only Herald client on fake time, fake lifecycle and fake sockets, recording its
 * state events and errors. `random` is what the injected random source returns (change it between steps).
 */
export function setup(options = {}) {
  const clock = new FakeClock();
  const env = new FakeEnv();
  const { FakeWebSocket, sockets } = fakeWebSocket();
  let tokens = 0;
  const h = {
    clock,
    env,
    sockets,
    random: 0.5,
    states: [],
    errors: [],
    tokenCalls: 0,
  };
  h.herald = new Herald('https://herald.test', {
    WebSocket: FakeWebSocket,
    // The WebSocket-only client: transport negotiation has its own tests (negotiation.test.js).
    transports: ['websocket'],
    storage: null,
    clock,
    env,
    random: () => h.random,
    token: async () => {
      h.tokenCalls++;
      return `token-${++tokens}`;
    },
    ...options,
  });
  h.herald.on('state', (s) => h.states.push(s));
  h.herald.on('error', (e) => h.errors.push(e));
  /** The most recent socket. */
  Object.defineProperty(h, 'socket', { get: () => sockets.at(-1) });
  /** Connects (if not yet) and plays a successful handshake and connect; returns the socket. */
  h.live = async (result = {}) => {
    if (h.herald.state.state === 'offline') h.herald.connect();
    await flush();
    const s = sockets.at(-1);
    s.accept();
    await s.connected(result);
    return s;
  };
  /** Advances time while the server pings the newest socket every 20 s, as a real one does. */
  h.advanceWithPings = async (ms, every = 20_000) => {
    let left = ms;
    while (left > 0) {
      const step = Math.min(every, left);
      await clock.advance(step);
      left -= step;
      const s = sockets.at(-1);
      if (s && s.readyState === 1) s.receive({ type: 'ping' });
    }
  };
  /** Names of the states seen so far. */
  h.stateNames = () => h.states.map((s) => s.state);
  h.last = () => h.states.at(-1);
  return h;
}
