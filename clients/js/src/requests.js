// requests.js: requests and replies (protocol section 3) and the outgoing frames of each
// connection. Herald owns the connections; this module numbers requests, matches replies to
// them, queues application requests until a connection is live and fails what a connection
// that ends leaves unanswered.

import { ClientErrorCodes, HeraldError } from './errors.js';
import { utf8Length } from './transport.js';

export class Requests {
  #clock;
  #requestTimeout;
  /** The current session (a connection Herald uses), or null. */
  #current;
  /** Whether frames of a session still matter. */
  #isActive;
  /** Why application requests cannot wait for a connection (an error), or null if they can. */
  #refusal;
  /** The connection state event, for timeout messages. */
  #state;
  #nextId = 1;
  /** Requests sent and waiting for their reply: id -> entry. */
  #pending = new Map();
  /** Application requests (publish, presence) waiting for a live connection. */
  #queue = [];

  /**
   * @param {object} o `clock`, `requestTimeout`, and the callbacks `current()`,
   *   `isActive(session)`, `refusal()` and `state()`
   */
  constructor(o) {
    this.#clock = o.clock;
    this.#requestTimeout = o.requestTimeout;
    this.#current = o.current;
    this.#isActive = o.isActive;
    this.#refusal = o.refusal;
    this.#state = o.state;
  }

  /**
   * Sends a request on a given connection. Exactly one of the callbacks is called, at the
   * moment its reply is read (or with connection_lost when the connection ends first).
   */
  send(session, msg, onResult, onError) {
    const id = this.#nextId++;
    this.#pending.set(id, { session, onResult, onError, channel: msg.channel, timer: null });
    this.post(session, { type: msg.type, id, ...msg });
  }

  /** A request on the live connection (used by subscriptions); fails at once if there is none. */
  sendLive(msg, onResult, onError) {
    const session = this.#current();
    if (!session?.live) {
      onError(new HeraldError(ClientErrorCodes.CONNECTION_LOST, 'not connected'));
      return;
    }
    this.send(session, msg, onResult, onError);
  }

  /**
   * An application request: sent now if live, else queued until the connection is; either way
   * it settles within requestTimeout.
   */
  call(msg, onResult) {
    const refusal = this.#refusal();
    if (refusal) return Promise.reject(refusal);
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
        const state = this.#state();
        const what = item.sent ? `no reply to ${msg.type} within ${this.#requestTimeout} ms` : `no connection within ${this.#requestTimeout} ms to send ${msg.type} (state: ${state.state}, ${state.reason})`;
        item.reject(new HeraldError(ClientErrorCodes.TIMEOUT, what, msg.channel ? { channel: msg.channel } : {}));
      }, this.#requestTimeout);
      if (this.#current()?.live) this.#dispatch(item);
      else this.#queue.push(item);
    });
  }

  /** Sends the application requests that waited for a connection (it is live now). */
  sendQueued() {
    for (const item of this.#queue.splice(0)) this.#dispatch(item);
  }

  #dispatch(item) {
    if (item.settled) return;
    item.sent = true;
    this.send(this.#current(), item.msg, item.resolve, item.reject);
  }

  /** Rejects the application requests waiting for a connection. */
  rejectQueued(error) {
    for (const item of this.#queue.splice(0)) item.reject(error);
  }

  /**
   * A `reply` arrived on `session`: calls its request's callback synchronously, before the next
   * message of the frame (the server sends a subscribe reply and the recovered publications
   * after it in one frame, and they must be seen in that order).
   */
  reply(session, msg) {
    const entry = this.#pending.get(msg.id);
    if (!entry || entry.session !== session) return; // late reply to a timed-out request
    this.#pending.delete(msg.id);
    if (entry.timer !== null) this.#clock.clearTimeout(entry.timer);
    if (msg.error != null) entry.onError(HeraldError.fromProtocol(msg.error, entry.channel ? { channel: entry.channel } : {}));
    else entry.onResult(msg.result ?? {});
  }

  /** Whether requests sent on `session` still wait for their reply. */
  waiting(session) {
    for (const entry of this.#pending.values()) {
      if (entry.session === session) return true;
    }
    return false;
  }

  /** Fails the requests sent on a session that ended with `error`. */
  fail(session, error) {
    for (const [id, entry] of this.#pending) {
      if (entry.session !== session) continue;
      this.#pending.delete(id);
      if (entry.timer !== null) this.#clock.clearTimeout(entry.timer);
      entry.onError(error);
    }
  }

  /**
   * Queues a message for the connection. Messages queued in the same task leave together in
   * one frame, LF-separated (protocol section 1), each frame within the server's size limit.
   */
  post(session, msg) {
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
}
