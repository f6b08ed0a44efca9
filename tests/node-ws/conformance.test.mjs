// Black-box conformance test for the Herald wire protocol v1.
//
// Written only from docs/protocol.md (section numbers below refer to it), without
// reading the server source. See README.md for configuration and how to run it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

const env = process.env;
const HTTP_URL = (env.HERALD_URL ?? '').replace(/\/+$/, '');
const TOKEN_A = env.HERALD_TOKEN_A;
const TOKEN_B = env.HERALD_TOKEN_B;
const USER_A = env.HERALD_USER_A;
const USER_B = env.HERALD_USER_B;
const API_KEY = env.HERALD_API_KEY;
/** Every wait in this file is bounded by this many milliseconds. */
const TIMEOUT_MS = Number(env.HERALD_TIMEOUT_MS ?? 10_000);
/** Upper bound for one whole test (it contains many bounded waits). */
const TEST_TIMEOUT_MS = Number(env.HERALD_TEST_TIMEOUT_MS ?? 60_000);

const REQUIRED = [
  'HERALD_URL',
  'HERALD_TOKEN_A',
  'HERALD_TOKEN_B',
  'HERALD_USER_A',
  'HERALD_USER_B',
  'HERALD_API_KEY',
];
const missingConfig = REQUIRED.filter((name) => !env[name]);

const SUBPROTOCOL = 'herald.v1.json';
const WS_URL = HTTP_URL.replace(/^http(s?):\/\//, 'ws$1://') + '/connection/websocket';
const CLIENT_NAME = 'herald-node-conformance/0.1.0';

/** A fresh channel in the `test` namespace, unique per test and per run. */
function uniqueChannel(label) {
  return `test:node-${label}-${randomBytes(6).toString('hex')}`;
}

/**
 * Wraps node:test's `test`: checks configuration first and gives the test body a
 * `track(conn)` function that closes the connection when the test ends (pass or fail),
 * so that no socket keeps the process alive.
 */
function heraldTest(name, body) {
  test(name, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (missingConfig.length > 0) {
      assert.fail(`missing environment variables: ${missingConfig.join(', ')} (see README.md)`);
    }
    const open = [];
    t.after(() => {
      for (const conn of open) conn.terminate();
    });
    const track = (conn) => {
      open.push(conn);
      return conn;
    };
    await body({ t, track });
  });
}

// ---------------------------------------------------------------------------
// Helpers: timeouts
// ---------------------------------------------------------------------------

/** Rejects with a clear message if `promise` does not settle within `ms`. */
function withTimeout(promise, what, ms = TIMEOUT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------
// Helpers: HTTP publish API (section 9)
// ---------------------------------------------------------------------------

/** POST /api/v1/publish; returns the publication's position {epoch, offset}. */
async function httpPublish(channel, data) {
  let res;
  try {
    res = await fetch(`${HTTP_URL}/api/v1/publish`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${API_KEY}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ channel, data }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new Error(`HTTP publish to ${HTTP_URL}/api/v1/publish failed: ${err.cause?.message ?? err.message}`);
  }
  const text = await res.text();
  assert.equal(res.status, 200, `HTTP publish to '${channel}' answered ${res.status}: ${text}`);
  const body = JSON.parse(text);
  assert.equal(typeof body.epoch, 'string', `HTTP publish result has no string epoch: ${text}`);
  assert.ok(Number.isInteger(body.offset), `HTTP publish result has no integer offset: ${text}`);
  return { epoch: body.epoch, offset: body.offset };
}

/** Publishes `count` messages one after another (each response awaited). */
async function httpPublishMany(channel, count, makeData) {
  const positions = [];
  for (let i = 0; i < count; i++) {
    positions.push(await httpPublish(channel, makeData(i)));
  }
  return positions;
}

// ---------------------------------------------------------------------------
// Helpers: WebSocket connection
// ---------------------------------------------------------------------------

/**
 * One protocol connection. Incoming frames are split on LF (section 1), parsed and put in
 * an inbox in arrival order; `waitFor` takes the first inbox message matching a predicate,
 * so unrelated messages (joins, pubs of other channels, ...) never get in the way and the
 * relative order of the messages a test cares about is preserved.
 */
class Conn {
  constructor(ws) {
    this.ws = ws;
    this.inbox = [];
    this.waiters = [];
    this.nextId = 1;
    this.closed = null; // {code, reason} once closed
    this.framesWithSeveralMessages = 0;

    ws.on('message', (raw, isBinary) => {
      if (isBinary) {
        this.failAll(new Error('server sent a binary frame; v1 is text only (section 1)'));
        return;
      }
      const lines = raw.toString('utf8').split('\n').filter((line) => line.length > 0);
      if (lines.length > 1) this.framesWithSeveralMessages++;
      for (const line of lines) {
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          this.failAll(new Error(`server sent a line that is not JSON: ${line.slice(0, 200)}`));
          continue;
        }
        if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.type !== 'string') {
          this.failAll(new Error(`server sent a message that is not an object with a string type: ${line.slice(0, 200)}`));
          continue;
        }
        this.deliver(msg);
      }
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.failAll(new Error(`connection closed (code ${code}, reason '${this.closed.reason}')`));
    });
    ws.on('error', () => {
      // A 'close' event always follows; waiters are failed there.
    });
  }

  /** Opens a WebSocket offering the v1 subprotocol; resolves once the handshake succeeded. */
  static async open({ headers, origin } = {}) {
    const ws = new WebSocket(WS_URL, [SUBPROTOCOL], {
      handshakeTimeout: TIMEOUT_MS,
      headers,
      origin,
    });
    const conn = new Conn(ws);
    try {
      await withTimeout(
        new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', (err) => reject(new Error(`WebSocket handshake with ${WS_URL} failed: ${err.message}`)));
        }),
        `the WebSocket handshake with ${WS_URL}`,
      );
    } catch (err) {
      conn.terminate();
      throw err;
    }
    assert.equal(ws.protocol, SUBPROTOCOL, 'server must select the subprotocol herald.v1.json (section 1)');
    return conn;
  }

  /** Opens a connection and sends `connect`; returns [conn, connectResult]. */
  static async connect(token, track) {
    const conn = track(await Conn.open());
    const result = await conn.call({ type: 'connect', token, client: CLIENT_NAME, protocol: 1 });
    return [conn, result];
  }

  deliver(msg) {
    if (msg.type === 'ping' && msg.id === undefined) {
      // Server heartbeat (section 6): answer it, keep it out of the inbox.
      this.sendRaw(JSON.stringify({ type: 'pong' }));
      return;
    }
    const i = this.waiters.findIndex((w) => w.predicate(msg));
    if (i >= 0) {
      const [waiter] = this.waiters.splice(i, 1);
      waiter.resolve(msg);
    } else {
      this.inbox.push(msg);
    }
  }

  failAll(err) {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error(`${err.message} while waiting for ${w.what}`));
  }

  /** Takes the first message (already received or still to come) matching `predicate`. */
  waitFor(predicate, what, ms = TIMEOUT_MS) {
    const i = this.inbox.findIndex(predicate);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    if (this.closed) {
      return Promise.reject(
        new Error(`connection closed (code ${this.closed.code}, reason '${this.closed.reason}') while waiting for ${what}`),
      );
    }
    let waiter;
    const p = new Promise((resolve, reject) => {
      waiter = { predicate, what, resolve, reject };
      this.waiters.push(waiter);
    });
    return withTimeout(p, what, ms).catch((err) => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      throw err;
    });
  }

  /** Messages of a given type on a given channel that arrived but were not taken yet. */
  pending(type, channel) {
    return this.inbox.filter((m) => m.type === type && m.channel === channel);
  }

  sendRaw(text) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  send(msg) {
    this.sendRaw(JSON.stringify(msg));
  }

  /** Sends a request with a fresh id; resolves with the whole `reply` message. */
  async request(msg) {
    const id = this.nextId++;
    this.send({ ...msg, id });
    const reply = await this.waitFor(
      (m) => m.type === 'reply' && m.id === id,
      `the reply to ${msg.type} (id ${id})`,
    );
    assert.ok(
      ('result' in reply) !== ('error' in reply),
      `a reply has exactly one of result and error (section 4): ${JSON.stringify(reply)}`,
    );
    return reply;
  }

  /** Sends a request that must succeed; returns its result. */
  async call(msg) {
    const reply = await this.request(msg);
    assert.ok(reply.result, `${msg.type} should succeed but got error ${JSON.stringify(reply.error)}`);
    return reply.result;
  }

  /** Sends a request that must fail; returns its error object. */
  async callError(msg) {
    const reply = await this.request(msg);
    assert.ok(reply.error, `${msg.type} should fail but got result ${JSON.stringify(reply.result)}`);
    assert.ok(Number.isInteger(reply.error.code), `error has an integer code: ${JSON.stringify(reply.error)}`);
    assert.equal(typeof reply.error.message, 'string', `error has a string message: ${JSON.stringify(reply.error)}`);
    return reply.error;
  }

  /** Next `pub` on `channel`, in arrival order. */
  nextPub(channel, what = `a pub on ${channel}`) {
    return this.waitFor((m) => m.type === 'pub' && m.channel === channel, what);
  }

  /** Closes the socket and waits for the close to complete. */
  async close() {
    if (this.closed) return;
    const closed = new Promise((resolve) => this.ws.once('close', resolve));
    this.ws.close(1000);
    await withTimeout(closed, 'the WebSocket close handshake');
  }

  terminate() {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}

/** Asserts that `pubs` are exactly the publications at `positions` with `expectedData`. */
function assertPubs(pubs, positions, expectedData, label) {
  assert.equal(pubs.length, positions.length, `${label}: number of pubs`);
  for (let i = 0; i < pubs.length; i++) {
    const pub = pubs[i];
    assert.equal(pub.epoch, positions[i].epoch, `${label}: pub #${i + 1} epoch`);
    assert.equal(pub.offset, positions[i].offset, `${label}: pub #${i + 1} offset (in order, no gaps, no duplicates)`);
    if (i > 0) assert.equal(pub.offset, pubs[i - 1].offset + 1, `${label}: offsets grow by exactly 1 (section 4)`);
    assert.ok(Number.isInteger(pub.ts), `${label}: pub #${i + 1} has an integer ts`);
    assert.equal(pub.user, undefined, `${label}: pub #${i + 1} published over HTTP carries no user`);
    assert.deepEqual(pub.data, expectedData(i), `${label}: pub #${i + 1} data is verbatim`);
  }
}

/** Data of the i-th test publication; one includes a line feed and non-ASCII text on purpose. */
function sampleData(i) {
  return i === 3
    ? { i, text: 'line one\nline two, grüße, 日本語' }
    : { i, text: `message ${i}`, list: [i, null, true] };
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

heraldTest('1. connect with subprotocol herald.v1.json returns the session parameters', async ({ track }) => {
  const [conn, result] = await Conn.connect(TOKEN_A, track);
  assert.equal(conn.ws.protocol, SUBPROTOCOL);
  assert.equal(typeof result.client, 'string', 'result.client is a string');
  assert.ok(result.client.length > 0, 'result.client is not empty');
  assert.equal(result.user, USER_A, 'result.user is the authenticated user');
  assert.equal(result.protocol, 1, 'result.protocol');
  assert.ok(Number.isInteger(result.ping_ms), `result.ping_ms is an integer: ${result.ping_ms}`);
  assert.ok(Number.isInteger(result.pong_ms), `result.pong_ms is an integer: ${result.pong_ms}`);
  assert.ok(Number.isInteger(result.max_message_bytes), `result.max_message_bytes is an integer: ${result.max_message_bytes}`);
});

heraldTest('2. 50 HTTP publications arrive in order with consecutive offsets', async ({ track }) => {
  const channel = uniqueChannel('order');
  const [conn] = await Conn.connect(TOKEN_A, track);
  const sub = await conn.call({ type: 'subscribe', channel });
  assert.equal(typeof sub.epoch, 'string', 'subscribe result has an epoch');
  assert.ok(Number.isInteger(sub.offset), 'subscribe result has an integer offset');
  assert.equal(sub.recoverable, true, "the 'test' namespace keeps history, so the subscription is recoverable");

  const positions = await httpPublishMany(channel, 50, sampleData);
  const pubs = [];
  for (let i = 0; i < 50; i++) pubs.push(await conn.nextPub(channel, `pub #${i + 1} of 50 on ${channel}`));

  assert.equal(pubs[0].epoch, sub.epoch, 'first pub continues the epoch of the subscribe result');
  assert.equal(pubs[0].offset, sub.offset + 1, 'first pub follows the offset of the subscribe result');
  assertPubs(pubs, positions, sampleData, 'live delivery');

  // A sentinel publication must be the very next pub: nothing was duplicated or extra.
  const sentinel = await httpPublish(channel, { sentinel: true });
  const next = await conn.nextPub(channel, 'the sentinel pub');
  assert.equal(next.offset, sentinel.offset, 'the pub after the 50 is the sentinel (no duplicates)');
  assert.equal(next.offset, pubs[49].offset + 1);
});

heraldTest('3. recovery after a disconnect delivers exactly the 100 missed publications', async ({ track }) => {
  const channel = uniqueChannel('recovery');
  const [first] = await Conn.connect(TOKEN_A, track);
  await first.call({ type: 'subscribe', channel });
  await httpPublish(channel, { before: true });
  const seen = await first.nextPub(channel, 'the pub before the disconnect');
  const since = { epoch: seen.epoch, offset: seen.offset };
  await first.close();

  const positions = await httpPublishMany(channel, 100, sampleData);

  const [second] = await Conn.connect(TOKEN_A, track);
  const sub = await second.call({ type: 'subscribe', channel, since });
  assert.equal(sub.recovered, true, `subscribe with since ${JSON.stringify(since)} recovers: ${JSON.stringify(sub)}`);
  assert.equal(sub.missed, 100, 'missed counts the publications made while disconnected');
  assert.equal(sub.epoch, since.epoch, 'epoch unchanged');
  assert.equal(sub.offset, positions[99].offset, 'subscribe result is the position at which the subscription went live');

  const pubs = [];
  for (let i = 0; i < 100; i++) pubs.push(await second.nextPub(channel, `recovered pub #${i + 1} of 100`));
  assert.equal(pubs[0].offset, since.offset + 1, 'recovery starts right after since.offset');
  assertPubs(pubs, positions, sampleData, 'recovery');

  const sentinel = await httpPublish(channel, { sentinel: true });
  const next = await second.nextPub(channel, 'the live pub after recovery');
  assert.equal(next.offset, sentinel.offset, 'the first live pub follows the recovered ones (no duplicates)');
  assert.equal(next.offset, since.offset + 101);
});

heraldTest('4. subscribe with a wrong epoch is not recovered', async ({ track }) => {
  const channel = uniqueChannel('epoch');
  const before = await httpPublish(channel, { before: true });
  const [conn] = await Conn.connect(TOKEN_A, track);
  const sub = await conn.call({ type: 'subscribe', channel, since: { epoch: 'nope', offset: 1 } });
  assert.equal(sub.recovered, false, `a wrong epoch cannot be recovered: ${JSON.stringify(sub)}`);
  assert.equal(sub.epoch, before.epoch, 'the result carries the current epoch to continue from');
  assert.equal(sub.offset, before.offset, 'the result carries the current offset to continue from');

  // "Only publications after that position follow" (section 5, rule 4).
  const live = await httpPublish(channel, { after: true });
  const next = await conn.nextPub(channel, 'the live pub after a non-recovered subscribe');
  assert.equal(next.offset, live.offset, 'no history is replayed after recovered=false');
  assert.equal(next.offset, sub.offset + 1);
  assert.deepEqual(next.data, { after: true });
});

heraldTest('5. client publish reaches other subscribers with the publisher user id', async ({ track }) => {
  const channel = uniqueChannel('clientpub');
  const [b] = await Conn.connect(TOKEN_B, track);
  await b.call({ type: 'subscribe', channel });

  const [a] = await Conn.connect(TOKEN_A, track);
  const data = { text: 'hello from A', n: 42 };
  const result = await a.call({ type: 'publish', channel, data });
  assert.equal(typeof result.epoch, 'string', 'publish result has an epoch');
  assert.ok(Number.isInteger(result.offset), 'publish result has an integer offset');

  const pub = await b.nextPub(channel, "A's publication at B");
  assert.equal(pub.user, USER_A, 'pub.user is the publishing client user id');
  assert.equal(pub.epoch, result.epoch);
  assert.equal(pub.offset, result.offset);
  assert.deepEqual(pub.data, data);
});

heraldTest('6. presence: join, presence list, presence_update and leave', async ({ track }) => {
  const channel = uniqueChannel('presence');
  const [a, aInfo] = await Conn.connect(TOKEN_A, track);
  await a.call({ type: 'subscribe', channel });
  await a.waitFor(
    (m) => m.type === 'join' && m.channel === channel && m.client === aInfo.client,
    "A's own join (joins are sent including to the connection that joined)",
  );

  const [b, bInfo] = await Conn.connect(TOKEN_B, track);
  await b.call({ type: 'subscribe', channel });

  const join = await a.waitFor(
    (m) => m.type === 'join' && m.channel === channel && m.client === bInfo.client,
    `the join of B (${bInfo.client}) at A`,
  );
  assert.equal(join.user, USER_B, 'join.user');
  assert.deepEqual(join.state ?? {}, {}, 'state is empty before presence_set');

  const presence = await a.call({ type: 'presence', channel });
  assert.ok(Array.isArray(presence.clients), `presence result has a clients array: ${JSON.stringify(presence)}`);
  const byClient = new Map(presence.clients.map((c) => [c.client, c]));
  assert.equal(byClient.size, 2, `one entry per connection: ${JSON.stringify(presence.clients)}`);
  assert.equal(byClient.get(aInfo.client)?.user, USER_A, 'presence lists A');
  assert.equal(byClient.get(bInfo.client)?.user, USER_B, 'presence lists B');
  assert.deepEqual(byClient.get(bInfo.client).state, {}, 'state is an empty object by default');

  const state = { editing: 'item:7', idle: false };
  assert.deepEqual(await b.call({ type: 'presence_set', channel, state }), {}, 'presence_set result is {}');
  const update = await a.waitFor(
    (m) => m.type === 'presence_update' && m.channel === channel && m.client === bInfo.client,
    "B's presence_update at A",
  );
  assert.equal(update.user, USER_B);
  assert.deepEqual(update.state, state, 'presence_update carries the new state');

  await b.close();
  const leave = await a.waitFor(
    (m) => m.type === 'leave' && m.channel === channel && m.client === bInfo.client,
    "B's leave at A after B closed its socket",
  );
  assert.equal(leave.user, USER_B);

  const after = await a.call({ type: 'presence', channel });
  assert.deepEqual(after.clients.map((c) => c.client), [aInfo.client], 'only A is present after B left');
});

heraldTest('7. errors: 107, 104, 103, 102 and 112', async ({ track }) => {
  const [a] = await Conn.connect(TOKEN_A, track);

  // Malformed JSON: an `error` message (no id could be read); the connection stays open.
  a.sendRaw('{"type":"ping", this is not json');
  const err = await a.waitFor((m) => m.type === 'error', 'the error message for a malformed line');
  assert.equal(err.error?.code, 107, `malformed JSON gives code 107: ${JSON.stringify(err)}`);
  a.send({ type: 'ping' });
  await a.waitFor((m) => m.type === 'pong', 'a pong after the malformed line (connection must stay usable)');

  // Unknown type with an id: a reply carrying that id.
  assert.equal((await a.callError({ type: 'no_such_command' })).code, 104, 'unknown type gives 104');

  // Personal namespace: A may use its own channel but not B's.
  await a.call({ type: 'subscribe', channel: `user:${USER_A}:notifications` });
  assert.equal(
    (await a.callError({ type: 'subscribe', channel: `user:${USER_B}:notifications` })).code,
    103,
    "subscribing to another user's personal channel gives 103",
  );

  // Namespace not configured.
  assert.equal((await a.callError({ type: 'subscribe', channel: 'nope:1' })).code, 102, 'unknown namespace gives 102');

  // Still alive after all of this.
  a.send({ type: 'ping' });
  await a.waitFor((m) => m.type === 'pong', 'a pong at the end of the error checks');

  // A request before connect.
  const fresh = track(await Conn.open());
  const early = await fresh.callError({ type: 'subscribe', channel: uniqueChannel('early') });
  assert.equal(early.code, 112, 'a request before connect gives 112');
});

heraldTest('8. ping is answered with pong (also when batched in one frame)', async ({ track }) => {
  const [a] = await Conn.connect(TOKEN_A, track);
  a.send({ type: 'ping' });
  const pong = await a.waitFor((m) => m.type === 'pong', 'the pong');
  assert.equal(pong.type, 'pong');

  // Clients MAY batch several LF-separated messages in one frame (section 1).
  a.sendRaw('{"type":"ping"}\n{"type":"ping"}\n');
  await a.waitFor((m) => m.type === 'pong', 'the first pong of a batched frame');
  await a.waitFor((m) => m.type === 'pong', 'the second pong of a batched frame');
});

heraldTest('9. a handshake from a foreign Origin is refused with 403', async () => {
  const ws = new WebSocket(WS_URL, [SUBPROTOCOL], {
    handshakeTimeout: TIMEOUT_MS,
    origin: 'http://evil.example',
  });
  ws.on('error', () => {}); // ws reports the aborted handshake as an error; we look at the response.
  try {
    const outcome = await withTimeout(
      new Promise((resolve) => {
        ws.once('unexpected-response', (req, res) => {
          res.resume();
          resolve({ status: res.statusCode });
        });
        ws.once('open', () => resolve({ opened: true }));
        ws.once('error', (e) => resolve({ error: e.message }));
      }),
      'the answer to a handshake with Origin: http://evil.example',
    );
    assert.ok(!outcome.opened, 'the handshake with a foreign Origin must not succeed');
    assert.ok(!outcome.error, `expected an HTTP 403 answer, got an error: ${outcome.error}`);
    assert.equal(outcome.status, 403, 'a foreign Origin is answered 403');
  } finally {
    ws.terminate();
  }
});
