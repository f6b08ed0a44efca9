// The HTTP transports on fake time and a fake server behind `fetch`: SSE (fetch streaming and
// EventSource), long-polling with acknowledged batches, commands POSTed in order one at a time,
// and the same protocol semantics as over WebSocket (connect, recovery, heartbeats).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Herald } from '../src/herald.js';
import { SseParser } from '../src/http-transports.js';
import { FakeClock, FakeEnv } from './helpers/fakes.js';
import { fakeEventSource, fakeHttp, settle } from './helpers/fake-http.js';

function client(transports, extra = {}, server = fakeHttp()) {
  const clock = new FakeClock();
  const env = new FakeEnv();
  const states = [];
  const herald = new Herald('https://herald.test', {
    transports,
    fetch: (url, init) => server.fetch(url, init),
    EventSource: undefined,
    storage: null,
    clock,
    env,
    random: () => 0.5,
    token: 'tok',
    ...extra,
  });
  herald.on('state', (s) => states.push(s));
  const errors = [];
  herald.on('error', (e) => errors.push(e));
  return { herald, clock, env, server, states, errors, last: () => states.at(-1) };
}

// ------------------------------------------------------------------ SSE parser

test('SSE parser: fields, comments, multi-line data, CRLF and CR, chunks split anywhere', () => {
  const events = [];
  const p = new SseParser((type, data) => events.push([type, data]));
  const text = ':padding\r\n\r\nevent: session\r\ndata: {"session":"s1"}\r\n\r\ndata: one\rdata:two\r\rdata: x\n\nevent: custom\ndata\n\n: only a comment\n\n';
  for (const ch of text) p.push(ch); // one character at a time: every split point
  assert.deepEqual(events, [
    ['session', '{"session":"s1"}'],
    ['message', 'one\ntwo'],
    ['message', 'x'],
    ['custom', ''],
  ]);
  const whole = [];
  const q = new SseParser((type, data) => whole.push([type, data]));
  q.push(text);
  assert.deepEqual(whole, events);
});

// ------------------------------------------------------------------ SSE over fetch streaming

test('sse: opens a stream, POSTs connect, goes live; protocol messages arrive as events; pings answered', async () => {
  const c = client(['sse']);
  c.herald.connect();
  assert.equal(c.last().transport, 'sse');
  assert.equal(c.last().transportReason, 'first choice');
  await settle();
  const stream = c.server.streams[0];
  assert.equal(stream.request.init.headers.Accept, 'text/event-stream');
  assert.equal(stream.request.init.credentials, 'include');
  const connect = await stream.connected({ user: 'alice' });
  assert.equal(connect.token, 'tok');
  assert.equal(connect.protocol, 1);
  assert.equal(c.last().state, 'live');
  assert.equal(c.last().transport, 'sse');
  assert.equal(c.server.requests.filter((r) => r.path === '/connection/info').length, 0, 'a single transport needs no negotiation');

  const pubs = [];
  const sub = c.herald.subscribe('test:a', { onPublication: (p) => pubs.push(p.offset) });
  await stream.subscribed('test:a', { epoch: 'E1', offset: 3 });
  stream.receive({ type: 'pub', channel: 'test:a', epoch: 'E1', offset: 4, ts: 0, data: 1 }, { type: 'ping' }, { type: 'pub', channel: 'test:a', epoch: 'E1', offset: 5, ts: 0, data: 2 });
  await settle();
  assert.deepEqual(pubs, [4, 5]);
  assert.equal(stream.sentOf('pong').length, 1);
  assert.equal(sub.state, 'live');
  c.herald.close();
  await settle();
  assert.equal(stream.closedByClient, true);
});

test('sse: commands are POSTed in order, one request in flight at a time', async () => {
  const server = fakeHttp();
  // Holds every send POST until the test lets it answer.
  const held = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetchFn = (url, init) => {
    if (!String(url).includes('/connection/send/')) return server.fetch(url, init);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((resolve) => held.push(() => resolve(server.fetch(url, init).finally(() => inFlight--))));
  };
  const c = client(['sse'], { fetch: fetchFn }, server);
  c.herald.connect();
  await settle();
  const stream = server.streams[0];
  assert.equal(held.length, 1);
  held.shift()(); // the connect POST
  await settle();
  stream.reply(stream.take('connect'), { user: 'alice', ping_ms: 25_000, pong_ms: 10_000 });
  await settle();
  assert.equal(c.last().state, 'live');
  const results = [];
  for (let i = 0; i < 3; i++) {
    c.herald.publish('test:p', { i }).then((r) => results.push(r.offset));
    await settle(); // separate tasks: separate frames
  }
  assert.equal(held.length, 1, 'the second POST waits for the first');
  while (held.length) {
    held.shift()();
    await settle();
  }
  assert.deepEqual(stream.sentOf('publish').map((m) => m.data.i), [0, 1, 2]);
  assert.equal(stream.posts.length, 4, 'connect and three publishes, one POST each');
  assert.equal(maxInFlight, 1);
  for (const [n, m] of stream.sentOf('publish').entries()) stream.reply(m, { epoch: 'E', offset: n + 1 });
  await settle();
  assert.deepEqual(results, [1, 2, 3]);
  c.herald.close();
});

test('sse: a broken stream reconnects with backoff (never by itself) and recovers from the last position', async () => {
  const c = client(['sse']);
  c.herald.connect();
  await settle();
  const first = c.server.streams[0];
  await first.connected();
  const pubs = [];
  c.herald.subscribe('test:r', { onPublication: (p) => pubs.push([p.offset, p.recovered]) });
  await first.subscribed('test:r', { epoch: 'E1', offset: 10 });
  first.pub('test:r', 11);
  await settle();
  first.drop();
  await settle();
  assert.equal(c.last().state, 'reconnecting');
  assert.equal(c.last().transport, 'sse');
  assert.match(c.last().reason, /the event stream broke/);
  assert.equal(c.server.streams.length, 1, 'no stream until the backoff delay passed');
  await c.clock.advance(c.last().delayMs);
  await settle();
  const second = c.server.streams[1];
  await second.connected();
  const sub = await second.subscribed('test:r', { epoch: 'E1', offset: 13, recovered: true, missed: 2 });
  assert.deepEqual(sub.since, { epoch: 'E1', offset: 11 });
  second.pub('test:r', 12);
  second.pub('test:r', 13);
  await settle();
  assert.deepEqual(pubs, [[11, false], [12, true], [13, true]]);
  assert.equal(c.last().reason, 'reconnected');
  c.herald.close();
});

test('sse: a refused stream reports the status and the server\'s reason; 503 shutting-down honours Retry-After', async () => {
  const c = client(['sse']);
  c.server.sseMode = 'disabled';
  c.herald.connect();
  await settle();
  assert.equal(c.last().state, 'reconnecting');
  assert.match(c.last().reason, /^could not connect to https:\/\/herald\.test\/connection\/sse: GET \/connection\/sse answered 404 \(sse-disabled\)$/);
  c.herald.close();

  const d = client(['sse'], {
    fetch: async (url) => (String(url).endsWith('/connection/sse') ? new Response('draining', { status: 503, headers: { 'X-Herald-Error': 'shutting-down', 'Retry-After': '2' } }) : new Response(null, { status: 404 })),
  });
  d.herald.connect();
  await settle();
  assert.equal(d.last().state, 'reconnecting');
  assert.equal(d.last().delayMs, 2000);
  assert.equal(d.last().delaySource, 'server');
  d.herald.close();
});

for (const [kind, error] of [['sse', 'too-many-sessions'], ['long-polling', 'too-many-connections']]) {
  test(`${kind}: 429 ${error} is the server being full, not a broken transport: Retry-After is honoured, nothing demoted or reported`, async () => {
    const posts = [];
    const c = client([kind], {
      fetch: async (url, init) => {
        posts.push(String(url));
        return String(url).includes('/connection/report') || String(url).includes('/connection/lag')
          ? new Response(null, { status: 204 })
          : new Response('full', { status: 429, headers: { 'X-Herald-Error': error, 'Retry-After': '7' } });
      },
    });
    c.herald.connect();
    await settle();
    assert.equal(c.last().state, 'reconnecting');
    assert.equal(c.last().delayMs, 7000);
    assert.equal(c.last().delaySource, 'server');
    assert.match(c.last().reason, new RegExp(`server is full \\(${error}\\)`));
    assert.deepEqual(posts.filter((u) => u.includes('/connection/report')), [], 'no diagnostics report');
    assert.equal(c.herald.stats().transportReports, 0);
    c.herald.close();
  });
}

test('sse: the server ending the session (disconnect, then end of stream) is handled like over WebSocket', async () => {
  const c = client(['sse']);
  c.herald.connect();
  await settle();
  const stream = c.server.streams[0];
  await stream.connected();
  stream.receive({ type: 'disconnect', code: 4001, reason: 'server restart', reconnect: true, retry_ms: 1500 });
  stream.end();
  await settle();
  assert.equal(c.last().state, 'reconnecting');
  assert.equal(c.last().code, 4001);
  assert.equal(c.last().delayMs, 1500);
  assert.equal(c.states.filter((s) => s.state === 'reconnecting').length, 1);
  c.herald.close();
});

test('sse: 413 on a command ends the session like close code 1009; 404 session-unknown reconnects', async () => {
  const c = client(['sse']);
  c.herald.connect();
  await settle();
  const stream = c.server.streams[0];
  await stream.connected();
  c.server.forget(stream.session);
  c.herald.subscribe('test:x');
  await settle();
  assert.equal(c.last().state, 'reconnecting');
  assert.match(c.last().reason, /session-unknown/);
  c.herald.close();

  const server = fakeHttp();
  let sends = 0;
  const fetchFn = (url, init) =>
    String(url).includes('/connection/send/') && ++sends > 1
      ? Promise.resolve(new Response('too big', { status: 413, headers: { 'X-Herald-Error': 'message-too-big' } }))
      : server.fetch(url, init);
  const d = client(['sse'], { fetch: fetchFn }, server);
  d.herald.connect();
  await settle();
  await server.streams[0].connected();
  d.herald.subscribe('test:y');
  await settle();
  assert.equal(d.last().state, 'reconnecting');
  assert.equal(d.last().code, 1009);
  assert.equal(d.last().reason, 'message too big');
  d.herald.close();
});

for (const kind of ['sse', 'long-polling']) {
  test(`${kind}: a command answered 503 shutting-down (the node drains) reconnects after Retry-After, nothing demoted or reported`, async () => {
    const server = fakeHttp();
    let sends = 0;
    const posts = [];
    const fetchFn = (url, init) => {
      posts.push(String(url));
      return String(url).includes('/connection/send/') && ++sends > 1
        ? Promise.resolve(new Response('draining', { status: 503, headers: { 'X-Herald-Error': 'shutting-down', 'Retry-After': '3' } }))
        : server.fetch(url, init);
    };
    const c = client([kind], { fetch: fetchFn }, server);
    c.herald.connect();
    await settle();
    if (kind === 'sse') await server.streams[0].connected();
    else await server.polls[0].connected();
    assert.equal(c.last().state, 'live');
    c.herald.subscribe('test:drain');
    await settle();
    assert.equal(c.last().state, 'reconnecting');
    assert.equal(c.last().delayMs, 3000);
    assert.equal(c.last().delaySource, 'server');
    assert.match(c.last().reason, /shutting down/);
    assert.deepEqual(posts.filter((u) => u.includes('/connection/report')), [], 'no diagnostics report');
    assert.equal(c.herald.stats().transportReports, 0);
    c.herald.close();
  });
}

// ------------------------------------------------------------------ SSE over EventSource

test('sse with EventSource: withCredentials, and on error the EventSource is closed: the client reconnects itself', async () => {
  const server = fakeHttp();
  const { FakeEventSource, sources } = fakeEventSource(server);
  const c = client(['sse'], { EventSource: FakeEventSource }, server);
  c.herald.connect();
  await settle();
  assert.equal(sources.length, 1);
  assert.equal(sources[0].withCredentials, true);
  assert.equal(sources[0].url, 'https://herald.test/connection/sse');
  const stream = server.streams[0];
  await stream.connected();
  assert.equal(c.last().state, 'live');
  assert.equal(c.last().transport, 'sse');
  stream.drop(); // the EventSource fires `error` and would reconnect by itself
  await settle();
  assert.equal(sources[0].closedByClient, true, 'the client closed the EventSource instead of letting it reconnect');
  assert.equal(c.last().state, 'reconnecting');
  await c.clock.advance(c.last().delayMs);
  await settle();
  assert.equal(sources.length, 2, 'a new EventSource, opened by the client after its backoff');
  await server.streams[1].connected();
  assert.equal(c.last().reason, 'reconnected');
  c.herald.close();
});

// ------------------------------------------------------------------ long-polling

test('long-polling: opens a session, polls with ack of the last batch, polls again at once; 204 keeps the ack', async () => {
  const c = client(['long-polling']);
  c.herald.connect();
  assert.equal(c.last().transport, 'long-polling');
  await settle();
  const lp = c.server.polls[0];
  assert.deepEqual(lp.acks, [0]);
  await lp.connected();
  assert.equal(c.last().state, 'live');
  assert.deepEqual(lp.acks, [0, 1], 'the reply came as batch 1, acknowledged by the next poll');
  const pubs = [];
  c.herald.subscribe('test:lp', { onPublication: (p) => pubs.push(p.offset) });
  await lp.subscribed('test:lp', { epoch: 'E1', offset: 0 });
  lp.pub('test:lp', 1);
  lp.pub('test:lp', 2);
  await settle();
  lp.timeout(); // 204: nothing within the poll timeout
  await settle();
  lp.pub('test:lp', 3);
  await settle();
  assert.deepEqual(pubs, [1, 2, 3]);
  const acks = lp.acks;
  assert.ok(acks.every((a, i) => i === 0 || a >= acks[i - 1]), `acks never go back: ${acks}`);
  // Batches: 1 connect reply, 2 subscribe reply, 3 pub 1 (answered the parked poll at once),
  // 4 pub 2 (queued meanwhile), 5 pub 3 (after the empty 204).
  assert.equal(acks.at(-1), 5);
  assert.equal(acks.filter((a) => a === 4).length, 2, 'the 204 kept ack 4');
  c.herald.close();
  await settle();
  assert.equal(lp.closedByClient, true);
});

test('long-polling: a lost poll answer is asked again with the same ack: nothing lost, nothing twice', async () => {
  const c = client(['long-polling']);
  c.herald.connect();
  await settle();
  const lp = c.server.polls[0];
  await lp.connected();
  const pubs = [];
  c.herald.subscribe('test:lost', { onPublication: (p) => pubs.push(p.offset) });
  await lp.subscribed('test:lost', { epoch: 'E1', offset: 0 });
  const ackBefore = lp.acks.at(-1);
  lp.failParked(); // the network drops the open poll
  await settle();
  await c.clock.advance(500); // first retry after 0.5 s
  assert.equal(lp.acks.at(-1), ackBefore, 'the retry acknowledges the same batch');
  lp.pub('test:lost', 1);
  await settle();
  assert.deepEqual(pubs, [1]);
  assert.equal(c.last().state, 'live', 'one lost poll does not end the session');
  assert.equal(c.herald.stats().duplicates, 0);
  c.herald.close();
});

test('long-polling: polls failing three times in a row end the session; it reconnects and recovers', async () => {
  const c = client(['long-polling']);
  c.herald.connect();
  await settle();
  const lp = c.server.polls[0];
  await lp.connected();
  c.herald.subscribe('test:f', {});
  await lp.subscribed('test:f', { epoch: 'E1', offset: 7 });
  c.server.down = true;
  lp.failParked();
  await c.clock.advance(500); // retry 1 fails
  await c.clock.advance(1000); // retry 2 fails: the session counts as broken
  await settle();
  assert.equal(c.last().state, 'reconnecting');
  assert.match(c.last().reason, /polling failed 3 times in a row/);
  c.server.down = false;
  await c.clock.advance(c.last().delayMs);
  await settle();
  const again = c.server.polls[1];
  await again.connected();
  const sub = await again.subscribed('test:f', { epoch: 'E1', offset: 7, recovered: true });
  assert.deepEqual(sub.since, { epoch: 'E1', offset: 7 });
  c.herald.close();
});

test('long-polling: a poll answer without X-Herald-Batch (stripped by a proxy) ends the session with that reason', async () => {
  const server = fakeHttp();
  const fetchFn = async (url, init) => {
    const res = await server.fetch(url, init);
    if (!String(url).includes('/connection/poll/') || res.status !== 200) return res;
    return new Response(await res.text(), { status: 200 });
  };
  const c = client(['long-polling'], { fetch: fetchFn }, server);
  c.herald.connect();
  await settle();
  await server.polls[0].connected().catch(() => {});
  await settle();
  assert.equal(c.last().state, 'reconnecting');
  assert.match(c.last().reason, /no X-Herald-Batch header/);
  c.herald.close();
});
