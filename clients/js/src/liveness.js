// liveness.js: whether a live connection still works (docs/client-js.md, "Reconnecting" and
// "Proxies that cut idle connections"): the watchdog that compares the silence since the last
// message with the heartbeat interval, liveness probes (a ping that must be answered), sleep
// detection from late timers, and the heartbeat interval learned from a proxy's idle cuts.
// Connections (sessions) are Herald's (connection.js); this module keeps its timers on them.

import { MIN_PING_MS } from './options.js';

/** How late timers of a hidden tab may run before it counts as a wake-up (Chrome: 1/min). */
const HIDDEN_TIMER_SLACK_MS = 75_000;
/**
 * An abnormal close after this much silence, when no heartbeat was due yet, looks like a proxy's
 * idle timeout. Two such cuts within IDLE_CUT_TOLERANCE of each other make the client ask for
 * heartbeats at half the observed silence.
 */
const MIN_IDLE_CUT_MS = 2 * MIN_PING_MS;
const IDLE_CUT_TOLERANCE = 0.25;

export class Liveness {
  #o;
  #clock;
  #env;
  #nego;
  /** The current session, or null. */
  #current;
  /** Ends the current session: `end(session, {code, reason, failure?})`. */
  #end;
  /** Queues a message on a session. */
  #post;
  /** Adds one to a counter of `stats()`. */
  #count;
  /** The silence (ms) before the last abnormal close that looked like a proxy's idle cut. */
  #lastIdleCut = null;

  /**
   * @param {object} p `options` (read by options.js), `nego` (the Negotiator), and the callbacks
   *   `current()`, `end(session, end)`, `post(session, msg)` and `count(name)`
   */
  constructor(p) {
    this.#o = p.options;
    this.#clock = p.options.clock;
    this.#env = p.options.env;
    this.#nego = p.nego;
    this.#current = p.current;
    this.#end = p.end;
    this.#post = p.post;
    this.#count = p.count;
  }

  /** Whether a timer due at `due` ran so late that the device probably slept. */
  ranLate(due) {
    // Chrome runs the timers of a tab hidden for 5 minutes about once a minute: that much
    // lateness is normal there, sleep makes timers minutes or hours late.
    const threshold = this.#env.visibilityState === 'hidden' ? Math.max(this.#o.wakeThreshold, HIDDEN_TIMER_SLACK_MS) : this.#o.wakeThreshold;
    return this.#clock.now() - due > threshold;
  }

  /**
   * One timer per connection checks, at most every `checkInterval` ms, that something arrived
   * from the server within ping_ms + pong_ms (protocol section 6). Because it compares clock
   * readings instead of trusting the timer, a timer that fires late (throttled hidden tab)
   * cannot cause a false alarm; one that fires much later than planned means the device
   * probably slept, and triggers a quick liveness probe instead.
   */
  watch(session) {
    if (session.watchdog !== null) this.#clock.clearTimeout(session.watchdog);
    session.watchdog = null;
    const limit = this.silenceLimit(session);
    const now = this.#clock.now();
    const dueIn = session.pingMs > 0 ? Math.max(0, session.lastInboundAt + limit - now) : this.#o.checkInterval;
    const wait = Math.max(1, Math.min(this.#o.checkInterval, dueIn));
    session.watchdogDue = now + wait;
    session.watchdog = this.#clock.setTimeout(() => this.#onWatchdog(session), wait);
  }

  #onWatchdog(session) {
    session.watchdog = null;
    if (this.#current() !== session) return;
    const now = this.#clock.now();
    if (this.ranLate(session.watchdogDue)) {
      this.probe(session, `timers ran ${now - session.watchdogDue} ms late, the device was probably asleep`);
    } else if (!session.probe && session.pingMs > 0) {
      const silent = now - session.lastInboundAt;
      const limit = this.silenceLimit(session);
      if (silent >= limit) {
        const end = { code: null, reason: `no message from the server for ${silent} ms (a heartbeat every ${session.pingMs} ms was due, plus ${limit - session.pingMs} ms of grace)` };
        if (this.#nego.active && session.framesAfterHello === 0) {
          end.failure = { symptom: 'no-data', detail: `connected, then no message within ${silent} ms (not even a heartbeat)`, ambiguous: false };
        }
        this.#end(session, end);
        return;
      }
    }
    this.watch(session);
  }

  /**
   * How long the connection may stay silent before it counts as dead: the heartbeat interval
   * plus `liveness.grace` (at most the server's pong_ms). With the defaults (heartbeats every
   * 5 s, 4 s of grace) a page leaves "live" at most 9 s after the last sign of life.
   */
  silenceLimit(session) {
    const grace = session.pongMs > 0 ? Math.min(session.pongMs, this.#o.grace) : this.#o.grace;
    return session.pingMs + grace;
  }

  /** The heartbeat interval to ask for: the configured one, or less once an idle cut was learned. */
  wantedPing() {
    const learned = this.#nego.learnedPing;
    if (learned === null) return this.#o.pingInterval;
    return this.#o.pingInterval > 0 ? Math.min(this.#o.pingInterval, learned) : learned;
  }

  /**
   * Whether an abnormal close (no close frame) of a live connection looks like a proxy's idle
   * timeout rather than a broken transport: it came after at least MIN_IDLE_CUT_MS without a
   * message, before the next heartbeat was due (with a second of slack). Such a cut says nothing
   * against the transport. When two cuts in a row came after about the same silence, the client
   * asks the server for heartbeats at half that silence from then on (remembered for the origin
   * like the transport). Returns the reason to report, or null.
   */
  idleCut(session, end) {
    if (!session.live || !end.abnormal || end.failure) return null;
    const silence = this.#clock.now() - session.lastInboundAt;
    if (silence < MIN_IDLE_CUT_MS || (session.pingMs > 0 && silence >= session.pingMs + MIN_PING_MS)) {
      this.#lastIdleCut = null;
      return null;
    }
    this.#count('idleCuts');
    const previous = this.#lastIdleCut;
    this.#lastIdleCut = silence;
    const what = `the connection was cut after ${silence} ms without traffic (a proxy's idle timeout?)`;
    if (previous === null || Math.abs(silence - previous) > Math.max(MIN_PING_MS, previous * IDLE_CUT_TOLERANCE)) return what;
    const ping = Math.max(MIN_PING_MS, Math.floor(Math.min(silence, previous) / 2));
    const current = this.wantedPing();
    if (current > 0 && ping >= current && session.pingMs <= ping) return what;
    this.#nego.learnPing(ping);
    this.#lastIdleCut = null;
    return `${what}; asking for heartbeats every ${ping} ms`;
  }

  /** Sends a ping; if nothing at all arrives within probeTimeout, the connection is dead. */
  probe(session, why) {
    if (!session?.live || session.probe || this.#current() !== session) return;
    this.#count('probes');
    const timer = this.#clock.setTimeout(() => {
      if (this.#current() !== session || !session.probe) return;
      session.probe = null;
      this.#end(session, { code: null, reason: `no answer to a liveness check within ${this.#o.probeTimeout} ms (${why})` });
    }, this.#o.probeTimeout);
    session.probe = { why, timer };
    this.#post(session, { type: 'ping' });
  }
}
