// sync(): a local copy of server state that a channel keeps current (docs/live-data.md).
//
// The app gives three functions: `snapshot()` (the state and the sequence number it is current
// to, read first), `changes(since)` (the events after a sequence number, as herald-outbox's
// ChangePage answers) and `apply(state, event)`. The helper subscribes, holds events until the
// snapshot is in, applies them in sequence order, drops repeats, notices gaps and lost history
// and fetches what is missing (or a new snapshot) by itself, across reconnects and transport
// switches. Events are objects with a numeric `seq` that counts 1, 2, 3, ... per channel.

const DEFAULTS = Object.freeze({ readyTimeout: 2_000, retryMin: 1_000, retryMax: 30_000 });
const OPTIONS = new Set(['snapshot', 'changes', 'apply', 'init', 'subscribe', 'readyTimeout', 'retryMin', 'retryMax', 'clock']);
const RESERVED_SUBSCRIBE = new Set(['onPublication', 'onStateLost', 'onSubscribed']);
const EVENTS = new Set(['change', 'status']);

/**
 * Keeps a copy of a channel's state. Create it with `sync(herald, channel, options)`.
 *
 * `status` is `loading` (no snapshot yet), `live` (the state is current and events arrive as
 * they happen), `stale` (the connection is down, or missed events are being fetched, or a fetch
 * failed and is retried: what is shown may be behind), `failed` (the subscription was refused or
 * ended by the server, e.g. access lost) or `closed`.
 */
export class ChannelSync {
  #herald;
  #channel;
  #options;
  #clock;
  #listeners = new Map();
  #subscription;
  #offState;

  #state = undefined;
  #seq = 0;
  #loaded = false;
  #status = 'loading';
  #error = null;
  #closed = false;

  /** Live events not applied yet (before the snapshot, during a fetch, after a gap), by seq. */
  #held = new Map();
  #needSnapshot = true;
  #needChanges = false;
  #running = false;
  #retryTimer = null;
  #retryDelay = 0;
  #confirmed = false;
  #snapshotBeforeConfirmed = false;
  #readyWaiters = [];

  constructor(herald, channel, options = {}) {
    if (!herald || typeof herald.subscribe !== 'function') throw new TypeError('sync(herald, channel, options): herald must be a Herald instance');
    if (typeof channel !== 'string' || !channel) throw new TypeError('sync(herald, channel, options): channel must be a non-empty string');
    for (const key of Object.keys(options)) {
      if (!OPTIONS.has(key)) throw new TypeError(`unknown sync option '${key}'; expected one of ${[...OPTIONS].join(', ')}`);
    }
    for (const fn of ['snapshot', 'changes', 'apply']) {
      if (typeof options[fn] !== 'function') throw new TypeError(`sync option ${fn} must be a function`);
    }
    if (options.init !== undefined && typeof options.init !== 'function') throw new TypeError('sync option init must be a function');
    const extra = options.subscribe ?? {};
    for (const key of Object.keys(extra)) {
      if (RESERVED_SUBSCRIBE.has(key)) throw new TypeError(`sync option subscribe.${key} is handled by sync itself; use on('change') instead`);
    }
    this.#herald = herald;
    this.#channel = channel;
    this.#options = { ...DEFAULTS, ...options };
    this.#clock = options.clock ?? globalThis;
    this.#offState = herald.on('state', () => this.#updateStatus());
    this.#subscription = herald.subscribe(channel, {
      ...extra,
      onPublication: (pub) => this.#onEvent(pub.data),
      onStateLost: () => this.#want('changes'),
      onSubscribed: (info) => this.#onSubscribed(info),
    });
    this.#start();
  }

  /** The channel. */
  get channel() {
    return this.#channel;
  }

  /** The current state (what `init(snapshot)` made, then `apply` kept current); undefined while loading. */
  get state() {
    return this.#state;
  }

  /** The sequence number the state is current to (0 before the snapshot). */
  get seq() {
    return this.#seq;
  }

  /** `loading`, `live`, `stale`, `failed` or `closed`. */
  get status() {
    return this.#status;
  }

  /** The last error of a snapshot or changes fetch (retried), or of the subscription; null when none. */
  get error() {
    return this.#error;
  }

  /** The underlying subscription (presence, position). */
  get subscription() {
    return this.#subscription;
  }

  /**
   * Listens to `change` ({state, events, reset}: after events were applied, or with `reset: true`
   * after a snapshot replaced the state) or `status` ({status, error}). Returns a function that
   * removes the listener.
   */
  on(type, listener) {
    if (!EVENTS.has(type)) throw new TypeError(`unknown event '${type}'; expected one of ${[...EVENTS].join(', ')}`);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Resolves with the state once the first snapshot is in; rejects if closed before. */
  ready() {
    if (this.#loaded) return Promise.resolve(this.#state);
    if (this.#closed) return Promise.reject(new Error(`sync of '${this.#channel}' was closed`));
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /** Fetches the changes since the current seq now (e.g. after the app wrote something out of band). */
  resync() {
    this.#want('changes');
  }

  /** Loads a new snapshot now and replaces the state. */
  refresh() {
    this.#want('snapshot');
  }

  /** Unsubscribes and stops; no listener is called after this. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#retryTimer);
    this.#offState?.();
    this.#subscription.unsubscribe().catch(() => {});
    this.#held.clear();
    for (const w of this.#readyWaiters.splice(0)) w.reject(new Error(`sync of '${this.#channel}' was closed`));
    this.#setStatus('closed');
    this.#listeners.clear();
  }

  // ---------------------------------------------------------------- internals

  async #start() {
    // Subscribe first, snapshot second: an event committed after the snapshot's seq was read is
    // then either in the snapshot or held. If the subscription is not confirmed in time (the
    // connection is down), load anyway and fetch what came between once it is.
    let timer = null;
    const timeout = new Promise((resolve) => {
      timer = this.#clock.setTimeout(resolve, this.#options.readyTimeout);
    });
    await Promise.race([this.#subscription.ready().catch(() => {}), timeout]);
    this.#clock.clearTimeout(timer);
    this.#kick();
  }

  #onSubscribed() {
    const first = !this.#confirmed;
    this.#confirmed = true;
    if (first && this.#snapshotBeforeConfirmed) this.#want('changes');
    this.#updateStatus();
  }

  #onEvent(event) {
    if (this.#closed) return;
    if (!event || typeof event !== 'object' || !Number.isSafeInteger(event.seq)) {
      this.#fail(new TypeError(`sync of '${this.#channel}': a publication without a numeric seq was ignored`), false);
      return;
    }
    if (!this.#loaded || this.#running) {
      if (event.seq > this.#seq) this.#held.set(event.seq, event);
      return;
    }
    if (event.seq <= this.#seq) return; // a repeat (at least once delivery)
    if (event.seq === this.#seq + 1 && this.#held.size === 0) {
      this.#applyEvents([event], false);
      return;
    }
    this.#held.set(event.seq, event);
    this.#drain();
  }

  /** Applies held events that continue the seq; a gap left means events are missing: fetch them. */
  #drain() {
    const ready = [];
    for (const seq of [...this.#held.keys()].sort((a, b) => a - b)) {
      if (seq <= this.#seq + ready.length) {
        this.#held.delete(seq);
      } else if (seq === this.#seq + ready.length + 1) {
        ready.push(this.#held.get(seq));
        this.#held.delete(seq);
      } else {
        break;
      }
    }
    if (ready.length) this.#applyEvents(ready, false);
    if (this.#held.size > 0) this.#want('changes');
    return this.#held.size === 0;
  }

  #want(what) {
    if (this.#closed) return;
    if (what === 'snapshot') this.#needSnapshot = true;
    else if (this.#loaded || !this.#needSnapshot) this.#needChanges = true;
    this.#updateStatus();
    this.#kick();
  }

  #kick() {
    if (this.#running || this.#closed || this.#retryTimer !== null) return;
    if (!this.#needSnapshot && !this.#needChanges) return;
    this.#running = true;
    this.#updateStatus();
    this.#work().finally(() => {
      this.#running = false;
      if (!this.#closed) {
        if (this.#retryTimer === null) this.#drain(); // a gap left fetches again
        this.#updateStatus();
        if (this.#loaded) for (const w of this.#readyWaiters.splice(0)) w.resolve(this.#state);
      }
    });
  }

  async #work() {
    try {
      while (!this.#closed && (this.#needSnapshot || this.#needChanges)) {
        if (this.#needSnapshot) {
          this.#needSnapshot = false;
          this.#needChanges = false;
          this.#snapshotBeforeConfirmed = !this.#confirmed;
          const snap = await this.#options.snapshot();
          if (this.#closed) return;
          if (!snap || typeof snap !== 'object' || !Number.isSafeInteger(snap.seq) || snap.seq < 0) {
            throw new TypeError(`sync of '${this.#channel}': snapshot() must resolve to an object with a numeric seq`);
          }
          this.#state = this.#options.init ? this.#options.init(snap) : snap;
          this.#seq = snap.seq;
          this.#loaded = true;
          this.#emit('change', { state: this.#state, events: [], reset: true });
        } else {
          this.#needChanges = false;
          const before = this.#seq;
          let more = true;
          while (more && !this.#closed) {
            const page = await this.#options.changes(this.#seq);
            if (this.#closed) return;
            if (!page || typeof page !== 'object' || !Number.isSafeInteger(page.seq) || (!page.snapshotRequired && !Array.isArray(page.changes))) {
              throw new TypeError(`sync of '${this.#channel}': changes(since) must resolve to {seq, more, changes} (herald-outbox's ChangePage)`);
            }
            if (page.snapshotRequired) {
              this.#needSnapshot = true;
              break;
            }
            // Compacted: seqs have gaps by design. Apply what is newer than ours, then jump.
            const fresh = page.changes.filter((e) => Number.isSafeInteger(e?.seq) && e.seq > this.#seq);
            for (const e of fresh) this.#held.delete(e.seq);
            this.#seq = Math.max(this.#seq, page.seq);
            this.#applyEvents(fresh, false, false);
            more = page.more === true;
          }
          if (!this.#needSnapshot && this.#seq === before && this.#gapAhead()) {
            // The hub showed an event the database does not have yet (a lagging replica?):
            // ask again later rather than at once.
            throw new Error(`sync of '${this.#channel}': event ${Math.min(...this.#held.keys())} is not in the changes after ${this.#seq} yet`);
          }
        }
        this.#drain();
      }
      this.#error = null;
      this.#retryDelay = 0;
    } catch (e) {
      if (this.#closed) return;
      this.#fail(e, true);
    }
  }

  #gapAhead() {
    return this.#held.size > 0 && Math.min(...this.#held.keys()) > this.#seq + 1;
  }

  /** Reports an error; with `retry`, tries the pending fetches again after a growing delay. */
  #fail(error, retry) {
    this.#error = error;
    if (retry) {
      if (!this.#loaded) this.#needSnapshot = true;
      else this.#needChanges = this.#needChanges || !this.#needSnapshot;
      this.#retryDelay = Math.min(this.#options.retryMax, this.#retryDelay ? this.#retryDelay * 2 : this.#options.retryMin);
      this.#retryTimer = this.#clock.setTimeout(() => {
        this.#retryTimer = null;
        this.#kick();
      }, this.#retryDelay);
    }
    this.#updateStatus(true);
  }

  #applyEvents(events, reset, emitEmpty = true) {
    if (!events.length && !emitEmpty) return;
    for (const e of events) {
      const next = this.#options.apply(this.#state, e);
      if (next !== undefined) this.#state = next;
      this.#seq = Math.max(this.#seq, e.seq);
    }
    if (events.length) this.#emit('change', { state: this.#state, events, reset });
  }

  #updateStatus(force = false) {
    if (this.#closed) return;
    let status;
    const sub = this.#subscription?.state;
    if (sub === 'failed' || sub === 'unsubscribed') {
      status = 'failed';
      this.#error = this.#error ?? this.#subscription.error;
    } else if (!this.#loaded) {
      status = 'loading';
    } else if (sub !== 'live' || this.#running || this.#needSnapshot || this.#needChanges || this.#retryTimer !== null || this.#held.size > 0) {
      status = 'stale';
    } else {
      status = 'live';
    }
    this.#setStatus(status, force);
  }

  #setStatus(status, force = false) {
    if (status === this.#status && !force) return;
    this.#status = status;
    this.#emit('status', { status, error: this.#error });
  }

  #emit(type, event) {
    for (const fn of [...(this.#listeners.get(type) ?? [])]) {
      try {
        fn(event);
      } catch (e) {
        console.error(`herald sync '${this.#channel}': a ${type} listener threw`, e);
      }
    }
  }
}

/** Creates a {@link ChannelSync}: subscribes to `channel` on `herald` and keeps its state current. */
export function sync(herald, channel, options) {
  return new ChannelSync(herald, channel, options);
}

/**
 * A ready-made `apply` step for maps of entities: sets `event.data` under `key` unless the map
 * already holds a version at least as new (`version` fields), or deletes it for a `deleted`
 * event. Returns whether the map changed.
 */
export function applyEntity(map, event, key = event.id) {
  if (event.action === 'deleted') return map.delete(key);
  const old = map.get(key);
  if (old && Number.isFinite(old.version) && Number.isFinite(event.version) && old.version >= event.version) return false;
  map.set(key, event.data);
  return true;
}
