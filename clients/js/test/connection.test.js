// The connection state machine on fake time and fake sockets: connect, state events, reconnect
// with backoff, server-suggested delays, terminal codes, heartbeats, requests and framing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, HeraldError } from '../src/herald.js';
import { flush, setup, FakeClock, FakeEnv } from './helpers/fakes.js';

test('connect: offers herald.v1.json, sends the token, reports connecting then live with the transport and why', async () => {
  const h = setup();
  assert.equal(h.herald.state.state, 'offline');
  assert.equal(h.herald.state.reason, 'not connected yet');
  h.herald.connect();
  assert.deepEqual(h.stateNames(), ['connecting']);
  assert.equal(h.last().transport, 'websocket');
  assert.equal(h.last().transportReason, 'first choice');
  await flush();
  const s = h.socket;
  assert.equal(s.url, 'wss://herald.test/connection/websocket');
  assert.deepEqual(s.protocols, ['herald.v1.json']);
  s.accept();
  const connect = await s.connected({ user: 'alice', client: 'c-77', node: 'n-1' });
  assert.equal(connect.token, 'token-1');
  assert.equal(connect.protocol, 1);
  assert.match(connect.client, /^herald-js\/\d+\.\d+\.\d+/);
  assert.ok(Number.isInteger(connect.id) && connect.id > 0);
  assert.deepEqual(h.stateNames(), ['connecting', 'live']);
  const live = h.last();
  assert.equal(live.transport, 'websocket');
  assert.equal(live.transportReason, 'first choice');
  assert.equal(live.reason, 'connected');
  assert.equal(live.user, 'alice');
  assert.equal(live.client, 'c-77');
  assert.equal(live.previous, 'connecting');
  assert.ok(Object.isFrozen(live));
  assert.equal(await h.herald.ready(), live);
  h.herald.close();
});

test('connect: without a token (cookie session) the connect message has no token field', async () => {
  const h = setup({ token: undefined });
  const s = await h.live();
  assert.equal('token' in s.sent[0], false);
  h.herald.close();
});

test('reconnect: the token callback runs again for every attempt', async () => {
  const h = setup();
  const first = await h.live();
  first.drop();
  assert.equal(h.last().state, 'reconnecting');
  await h.clock.advance(h.last().delayMs);
  await flush();
  const second = h.socket;
  assert.notEqual(second, first);
  second.accept();
  const connect = await second.connected();
  assert.equal(connect.token, 'token-2');
  assert.equal(h.tokenCalls, 2);
  assert.equal(h.last().reason, 'reconnected');
  h.herald.close();
});

test('reconnect: full-jitter delays grow to the cap, and the client never gives up', async () => {
  const h = setup({ backoff: { base: 500, cap: 30_000 } });
  h.env.visibilityState = 'hidden'; // a visible page retries sooner (next test)
  h.random = 0.9999999; // the top of each window
  h.herald.connect();
  const delays = [];
  for (let i = 0; i < 25; i++) {
    await flush();
    h.socket.refuse();
    const s = h.last();
    assert.equal(s.state, 'reconnecting');
    assert.equal(s.attempt, i + 1);
    assert.equal(s.delaySource, 'backoff');
    assert.equal(s.transport, 'websocket');
    assert.match(s.reason, /could not connect to wss:\/\/herald\.test\/connection\/websocket/);
    delays.push(s.delayMs);
    await h.clock.advance(s.delayMs);
  }
  assert.deepEqual(delays.slice(0, 8), [499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999]);
  assert.ok(delays.every((d) => d <= 30_000));
  assert.equal(h.sockets.length, 26, 'still trying after 25 failures (the CMS we replace gave up after 8)');
  assert.equal(h.herald.stats().failedAttempts, 25);

  h.random = 0; // the bottom of the window: retry at once
  await flush();
  h.socket.refuse();
  assert.equal(h.last().delayMs, 0);
  h.herald.close();
});

test('reconnect: a visible page retries within backoff.visibleCap (1.5 s by default), a hidden one backs off fully', async () => {
  const h = setup({ backoff: { base: 500, cap: 30_000 } });
  h.random = 0.9999999;
  h.herald.connect();
  const visible = [];
  for (let i = 0; i < 10; i++) {
    await flush();
    h.socket.refuse();
    visible.push(h.last().delayMs);
    await h.clock.advance(h.last().delayMs);
  }
  assert.deepEqual(visible, [499, 999, 1499, 1499, 1499, 1499, 1499, 1499, 1499, 1499]);
  h.env.visibilityState = 'hidden';
  await flush();
  h.socket.refuse();
  assert.equal(h.last().delayMs, 29_999, 'hidden: the full backoff (the exponent kept growing)');
  // Shown again while waiting: it retries at once and is live when the server answers.
  h.env.show();
  assert.equal(h.last().state, 'connecting');
  await flush();
  h.socket.accept();
  await h.socket.connected();
  assert.equal(h.last().state, 'live');
  assert.throws(() => setup({ backoff: { visibleCap: 0 } }), /backoff.visibleCap/);
  h.herald.close();
});

test('reconnect: backoff resets after a connection stayed live for resetAfter, not after a short-lived one', async () => {
  const h = setup({ backoff: { base: 1000, cap: 60_000, resetAfter: 10_000, visibleCap: 60_000 } });
  h.random = 0.9999999;
  await h.live();
  // Two refused attempts: the exponent grows.
  h.socket.drop();
  assert.equal(h.last().delayMs, 999);
  await h.clock.advance(999);
  h.socket.refuse();
  assert.equal(h.last().delayMs, 1999);
  await h.clock.advance(1999);
  // Live briefly, then dropped: keeps backing off.
  h.socket.accept();
  await h.socket.connected();
  await h.clock.advance(2000);
  h.socket.drop();
  assert.equal(h.last().delayMs, 3999, 'a connection dropped right after going live does not reset the backoff');
  await h.clock.advance(3999);
  h.socket.accept();
  await h.socket.connected();
  // Server pings keep it alive past resetAfter.
  for (let i = 0; i < 3; i++) {
    await h.clock.advance(5000);
    h.socket.receive({ type: 'ping' });
  }
  h.socket.drop();
  assert.equal(h.last().delayMs, 999, 'a stable connection resets the backoff');
  h.herald.close();
});

test('reconnect: connect() from a state listener retries at once and leaves no second attempt behind', async () => {
  const h = setup();
  const s = await h.live();
  const off = h.herald.on('state', (st) => {
    if (st.state === 'reconnecting') h.herald.connect();
  });
  s.drop();
  off();
  assert.deepEqual(h.stateNames().slice(-2), ['reconnecting', 'connecting']);
  await h.clock.advance(5000); // well past any backoff delay, before the connect timeout
  assert.equal(h.sockets.length, 2, 'exactly one new attempt');
  h.herald.close();
});

test('server restart: retry_ms from the disconnect message is honoured exactly', async () => {
  const h = setup();
  const s = await h.live();
  s.receive({ type: 'disconnect', code: 4001, reason: 'server restart', reconnect: true, retry_ms: 2300 });
  const r = h.last();
  assert.equal(r.state, 'reconnecting');
  assert.equal(r.code, 4001);
  assert.equal(r.reason, 'server restart');
  assert.equal(r.delayMs, 2300);
  assert.equal(r.delaySource, 'server');
  assert.equal(s.closedByClient?.code, 1000, 'the client closes its side at once');
  s.serverClose(4001, 'server restart; retry_ms=2300'); // the close that follows changes nothing
  assert.equal(h.states.filter((x) => x.state === 'reconnecting').length, 1);
  await h.clock.advance(2299);
  assert.equal(h.sockets.length, 1);
  await h.clock.advance(1);
  assert.equal(h.sockets.length, 2);
  h.herald.close();
});

test('server restart: retry_ms from the close reason is honoured when no disconnect message came', async () => {
  const h = setup();
  const s = await h.live();
  s.serverClose(4001, 'server restart; retry_ms=1234');
  assert.equal(h.last().delayMs, 1234);
  assert.equal(h.last().reason, 'server restart');
  assert.equal(h.last().code, 4001);
  await h.clock.advance(1233);
  assert.equal(h.sockets.length, 1);
  await h.clock.advance(1);
  assert.equal(h.sockets.length, 2);
  h.herald.close();
});

test('too many connections (4008): long backoff', async () => {
  const h = setup({ backoff: { base: 500, cap: 30_000 } });
  h.random = 0;
  const s = await h.live();
  s.serverClose(4008, 'too many connections');
  assert.ok(h.last().delayMs >= 15_000, `delay ${h.last().delayMs} is at least cap/2`);
  h.herald.close();
});

for (const [code, reason] of [
  [4500, 'authentication failed'],
  [4501, 'connection refused for this user'],
  [4502, 'unsupported protocol version'],
  [4999, 'some future terminal code'],
  [1000, 'closed'],
]) {
  test(`terminal close ${code}: offline with the reason, no retries until connect()`, async () => {
    const h = setup();
    const s = await h.live();
    s.serverClose(code, reason);
    const off = h.last();
    assert.equal(off.state, 'offline');
    assert.equal(off.code, code);
    assert.equal(off.reason, reason);
    assert.equal(off.resume, 'connect');
    assert.ok(off.error instanceof HeraldError);
    assert.equal(off.error.closeCode, code);
    await assert.rejects(h.herald.ready(), (e) => e.closeCode === code);
    await assert.rejects(h.herald.publish('test:x', 1), (e) => e.closeCode === code);
    await h.clock.advance(60 * 60_000);
    h.env.goOnline(); // lifecycle events do not bring it back either
    h.env.show();
    await flush();
    assert.equal(h.sockets.length, 1, 'no reconnect attempt');
    h.herald.connect();
    await flush();
    assert.equal(h.sockets.length, 2, 'connect() starts again');
    h.herald.close();
  });
}

test('connect refused with 101: offline at once with the error (close 4500 semantics)', async () => {
  const h = setup();
  h.herald.connect();
  await flush();
  const s = h.socket;
  s.accept();
  await flush();
  s.replyError(s.take('connect'), 101, 'invalid token');
  await flush();
  const off = h.last();
  assert.equal(off.state, 'offline');
  assert.equal(off.code, 4500);
  assert.match(off.reason, /authentication failed: invalid token/);
  assert.equal(off.error.code, 101);
  assert.equal(off.error.codeName, 'unauthorized');
  h.herald.close();
});

test('connect refused with 109 (token expired): reconnects and fetches a fresh token', async () => {
  const h = setup();
  h.herald.connect();
  await flush();
  h.socket.accept();
  await flush();
  h.socket.replyError(h.socket.take('connect'), 109, 'token expired');
  await flush();
  assert.equal(h.last().state, 'reconnecting');
  assert.equal(h.last().code, 4005);
  await h.clock.advance(h.last().delayMs);
  h.socket.accept();
  const c = await h.socket.connected();
  assert.equal(c.token, 'token-2');
  h.herald.close();
});

test('token callback failure: reported and retried with backoff', async () => {
  let calls = 0;
  const h = setup({
    token: async () => {
      if (++calls === 1) throw new Error('session service down');
      return 'tok';
    },
  });
  h.herald.connect();
  await flush();
  assert.equal(h.last().state, 'reconnecting');
  assert.match(h.last().reason, /token callback failed: session service down/);
  assert.equal(h.errors[0].code, 'token');
  assert.equal(h.sockets.length, 0, 'no socket is opened without a token');
  await h.clock.advance(h.last().delayMs);
  h.socket.accept();
  const c = await h.socket.connected();
  assert.equal(c.token, 'tok');
  h.herald.close();
});

test('connect timeout: a handshake that never completes is abandoned and retried', async () => {
  const h = setup({ connectTimeout: 5000 });
  h.herald.connect();
  await h.clock.advance(4999);
  assert.equal(h.last().state, 'connecting');
  await h.clock.advance(1);
  assert.equal(h.last().state, 'reconnecting');
  assert.match(h.last().reason, /not connected within 5000 ms/);
  assert.equal(h.sockets[0].closedByClient?.code, 1000);
  h.herald.close();
});

test('handshake errors carry the implementation message when there is one (Node ws)', async () => {
  const h = setup();
  h.herald.connect();
  await flush();
  h.socket.refuse('Unexpected server response: 403');
  assert.match(h.last().reason, /Unexpected server response: 403/);
  h.herald.close();
});

test('no WebSocket in the environment: offline with a transport error that says what to do', { skip: typeof globalThis.WebSocket === 'function' && 'this runtime has a global WebSocket' }, async () => {
  const herald = new Herald('https://h.test', { transports: ['websocket'], clock: new FakeClock(), env: new FakeEnv() });
  herald.connect();
  assert.equal(herald.state.state, 'offline');
  assert.equal(herald.state.resume, 'connect');
  assert.equal(herald.state.error.code, 'transport');
  assert.match(herald.state.reason, /options\.WebSocket/);
  await assert.rejects(herald.ready(), (e) => e.code === 'transport');
  herald.close();

  // With every transport configured, the reason names each one and what it lacks.
  const bare = new Herald('https://h.test', { fetch: undefined, EventSource: undefined, storage: null, clock: new FakeClock(), env: new FakeEnv() });
  bare.connect();
  assert.equal(bare.state.state, 'offline');
  assert.match(bare.state.reason, /^no usable transport: websocket unavailable \(.*options\.WebSocket.*\); sse unavailable \(.*fetch.*\); long-polling unavailable \(.*options\.fetch\)$/);
  bare.close();
});

test('options: unknown keys and invalid values are refused at construction', () => {
  assert.throws(() => new Herald('https://h.test', { backOff: { base: 1 } }), /unknown Herald option 'backOff'/);
  assert.throws(() => new Herald('https://h.test', { token: 42 }), TypeError);
  assert.throws(() => new Herald('https://h.test', { backoff: { base: 0 } }), RangeError);
  assert.throws(() => new Herald('https://h.test', { idleAfter: -1 }), RangeError);
  assert.throws(() => new Herald('/relative/without/page'), /absolute URL/);
});

test('heartbeat: server pings are answered with pong', async () => {
  const h = setup();
  const s = await h.live();
  s.receive({ type: 'ping' }, { type: 'ping' });
  await flush();
  assert.equal(s.sentOf('pong').length, 2);
  h.herald.close();
});

test('heartbeat: the connect asks for heartbeats every liveness.pingInterval (5 s by default), 0 leaves the server default', async () => {
  const h = setup();
  const s = await h.live();
  assert.equal(s.sent[0].ping_ms, 5000);
  h.herald.close();
  const old = setup({ liveness: { pingInterval: 0 } });
  const s2 = await old.live();
  assert.equal('ping_ms' in s2.sent[0], false);
  old.herald.close();
  assert.throws(() => setup({ liveness: { pingInterval: 500 } }), /liveness.pingInterval must be 0 or at least 1000 ms/);
});

test('heartbeat: with default settings a silent stall leaves live within 10 s of the last message', async () => {
  const h = setup();
  const s = await h.live({ ping_ms: 5000, pong_ms: 10_000 }); // what the server grants
  for (let i = 0; i < 4; i++) {
    await h.clock.advance(5000);
    s.receive({ type: 'ping' });
  }
  assert.equal(h.last().state, 'live');
  // The network stalls silently: no FIN, no RST, nothing arrives.
  await h.clock.advance(8999);
  assert.equal(h.last().state, 'live');
  await h.clock.advance(1);
  assert.equal(h.last().state, 'reconnecting', 'left live 9 s after the last message');
  assert.match(h.last().reason, /no message from the server for 9000 ms \(a heartbeat every 5000 ms was due, plus 4000 ms of grace\)/);
  h.herald.close();
});

test('heartbeat: nothing from the server for ping_ms + grace (at most pong_ms) means dead; reconnect', async () => {
  const h = setup();
  const s = await h.live({ ping_ms: 25_000, pong_ms: 10_000 }); // a server that keeps its interval
  await h.clock.advance(26_000);
  s.receive({ type: 'ping' }); // alive: the deadline moves
  await h.clock.advance(28_999);
  assert.equal(h.last().state, 'live');
  await h.clock.advance(1);
  assert.equal(h.last().state, 'reconnecting');
  assert.match(h.last().reason, /no message from the server for 29000 ms/);
  assert.equal(h.last().code, null);
  assert.equal(s.closedByClient?.code, 1000);
  h.herald.close();
});

test('requests: publish resolves with the position; replies are matched by id', async () => {
  const h = setup();
  const s = await h.live();
  const p1 = h.herald.publish('test:a', { text: 'one' });
  const p2 = h.herald.publish('test:a', { text: 'two' });
  await flush();
  const [r1, r2] = [s.take('publish'), s.take('publish')];
  assert.deepEqual(r1.data, { text: 'one' });
  assert.notEqual(r1.id, r2.id);
  s.reply(r2, { epoch: 'E', offset: 2 });
  s.reply(r1, { epoch: 'E', offset: 1 });
  assert.deepEqual(await p1, { epoch: 'E', offset: 1 });
  assert.deepEqual(await p2, { epoch: 'E', offset: 2 });
  h.herald.close();
});

test('requests: a publish made while connecting waits for the connection', async () => {
  const h = setup();
  h.herald.connect();
  const p = h.herald.publish('test:a', 42);
  await flush();
  h.socket.accept();
  await h.socket.connected();
  h.socket.reply(h.socket.take('publish'), { epoch: 'E', offset: 9 });
  assert.deepEqual(await p, { epoch: 'E', offset: 9 });
  h.herald.close();
});

test('requests: errors are HeraldErrors with the protocol code and the channel', async () => {
  const h = setup();
  const s = await h.live();
  const p = h.herald.publish('test:a', 1);
  await flush();
  s.replyError(s.take('publish'), 108, 'clients may not publish');
  await assert.rejects(p, (e) => e instanceof HeraldError && e.code === 108 && e.codeName === 'not_available' && e.channel === 'test:a');
  h.herald.close();
});

test('requests: time out without a connection, or without a reply', async () => {
  const h = setup({ requestTimeout: 3000 });
  h.herald.connect();
  const waiting = assert.rejects(h.herald.publish('test:a', 1), (e) => e.code === 'timeout' && /no connection within 3000 ms/.test(e.message));
  await h.clock.advance(3000);
  await waiting;
  await flush();
  h.socket.accept();
  await h.socket.connected();
  assert.equal(h.socket.sentOf('publish').length, 0, 'a timed-out publish is not sent later');
  const unanswered = assert.rejects(h.herald.publish('test:a', 2), (e) => e.code === 'timeout' && /no reply to publish/.test(e.message));
  await h.clock.advance(3000);
  await unanswered;
  h.herald.close();
});

test('requests: a publish in flight when the connection drops rejects with connection_lost', async () => {
  const h = setup();
  const s = await h.live();
  const p = h.herald.publish('test:a', 1);
  await flush();
  s.drop();
  await assert.rejects(p, (e) => e.code === 'connection_lost' && e.retryable === true);
  h.herald.close();
});

test('requests: a publication over max_message_bytes is refused locally (it would close the connection with 1009)', async () => {
  const h = setup();
  const s = await h.live({ max_message_bytes: 1000 });
  await assert.rejects(h.herald.publish('test:a', 'x'.repeat(1000)), (e) => e.code === 114);
  await assert.rejects(h.herald.publish('test:a', undefined), TypeError);
  await flush();
  assert.equal(s.sentOf('publish').length, 0);
  h.herald.close();
});

test('framing: messages sent together share one LF-separated frame; received frames are split on LF', async () => {
  const h = setup();
  const s = await h.live();
  const before = s.frames.length;
  for (const c of ['test:1', 'test:2', 'test:3']) h.herald.subscribe(c, {});
  await flush();
  assert.equal(s.frames.length, before + 1, 'three subscribes, one frame');
  assert.equal(s.frames.at(-1).split('\n').length, 3);
  const got = [];
  const subs = h.herald.subscriptions();
  for (const sub of subs) sub.ready();
  const reqs = s.sentOf('subscribe');
  s.receive(...reqs.map((r) => ({ type: 'reply', id: r.id, result: { epoch: 'E1', offset: 0, recoverable: true, recovered: false, missed: 0 } })), '', { type: 'some_future_type' });
  await flush();
  assert.deepEqual(subs.map((x) => x.state), ['live', 'live', 'live']);
  h.herald.subscription('test:1').unsubscribe();
  h.herald.subscribe('test:9', { onPublication: (p) => got.push(p) });
  await flush();
  assert.deepEqual(h.errors, [], 'empty lines and unknown types are ignored silently');
  s.receive('not json');
  assert.equal(h.errors.at(-1).code, 'protocol');
  h.herald.close();
});

test('framing: outgoing frames stay within max_message_bytes', async () => {
  const h = setup();
  const s = await h.live({ max_message_bytes: 300 });
  for (let i = 0; i < 20; i++) h.herald.subscribe(`test:channel-with-a-long-name-${i}`, {});
  await flush();
  const frames = s.frames.slice(1);
  assert.ok(frames.length > 1);
  for (const f of frames) assert.ok(Buffer.byteLength(f) <= 300, `frame of ${Buffer.byteLength(f)} bytes`);
  assert.equal(s.sentOf('subscribe').length, 20);
  h.herald.close();
});

test('close(): closes with 1000, rejects what is pending, keeps subscriptions for a later connect()', async () => {
  const h = setup();
  const s = await h.live();
  const sub = h.herald.subscribe('test:a', {});
  await s.subscribed('test:a', { epoch: 'E1', offset: 4 });
  const p = h.herald.publish('test:a', 1);
  await flush();
  h.herald.close();
  assert.equal(s.closedByClient?.code, 1000);
  await assert.rejects(p, (e) => e.code === 'closed');
  await assert.rejects(h.herald.publish('test:a', 2), (e) => e.code === 'closed');
  const off = h.last();
  assert.equal(off.state, 'offline');
  assert.equal(off.reason, 'closed by the application');
  assert.equal(h.env.listenerCount(), 0, 'lifecycle listeners are removed');
  await h.clock.advance(600_000);
  assert.equal(h.sockets.length, 1);
  assert.equal(sub.state, 'subscribing');
  const s2 = await h.live();
  const req = await s2.subscribed('test:a', { epoch: 'E1', offset: 4, recovered: true });
  assert.deepEqual(req.since, { epoch: 'E1', offset: 4 });
  assert.equal(sub.state, 'live');
  h.herald.close();
});

test('events: exceptions in listeners and handlers are reported, never break the client', async () => {
  const h = setup();
  h.herald.on('state', () => {
    throw new Error('bad state listener');
  });
  const s = await h.live();
  assert.ok(h.errors.some((e) => /bad state listener/.test(e.message)));
  const got = [];
  h.herald.subscribe('test:a', {
    onPublication: (p) => {
      got.push(p.offset);
      if (p.offset === 1) throw new Error('bad handler');
    },
  });
  await s.subscribed('test:a');
  s.pub('test:a', 1);
  s.pub('test:a', 2);
  assert.deepEqual(got, [1, 2]);
  assert.ok(h.errors.some((e) => /onPublication handler of 'test:a' threw: bad handler/.test(e.message)));
  assert.throws(() => h.herald.on('nope', () => {}), TypeError);
  h.herald.close();
});

test('ready(): resolves when live, rejects on timeout', async () => {
  const h = setup();
  h.herald.connect();
  const timeout = assert.rejects(h.herald.ready({ timeout: 1000 }), (e) => e.code === 'timeout');
  await h.clock.advance(1000);
  await timeout;
  const ready = h.herald.ready();
  await flush();
  h.socket.accept();
  await h.socket.connected();
  assert.equal((await ready).state, 'live');
  h.herald.close();
  await assert.rejects(h.herald.ready(), (e) => e.code === 'closed');
});

test('stats(): counts connects, reconnects and messages', async () => {
  const h = setup();
  const s = await h.live();
  s.receive({ type: 'ping' });
  s.drop();
  await h.clock.advance(h.last().delayMs);
  h.socket.accept();
  await h.socket.connected();
  const st = h.herald.stats();
  assert.equal(st.state, 'live');
  assert.equal(st.transport, 'websocket');
  assert.equal(st.connects, 2);
  assert.equal(st.reconnects, 1);
  assert.equal(st.disconnects, 1);
  assert.equal(st.user, 'alice');
  assert.ok(st.messages >= 3);
  h.herald.close();
});
