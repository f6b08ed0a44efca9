// Unit tests of the pure building blocks: backoff, close codes, errors, lag statistics,
// presence grouping, URL resolution.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../src/backoff.js';
import { closeAction, parseCloseReason, HeraldError, ErrorCodes, ClientErrorCodes } from '../src/errors.js';
import { LagStats } from '../src/lag.js';
import { groupByUser } from '../src/presence.js';
import { resolveEndpoints, utf8Length } from '../src/transport.js';

test('backoff: the ceiling doubles from base and stops at cap', () => {
  const b = new Backoff({ base: 500, cap: 30_000 });
  const ceilings = Array.from({ length: 10 }, (_, i) => b.ceiling(i));
  assert.deepEqual(ceilings, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  assert.equal(b.ceiling(5000), 30_000, 'huge attempts stay at cap (no Infinity, no NaN)');
});

test('backoff: full jitter draws from [0, ceiling) and is bounded at both ends', () => {
  let r = 0;
  const b = new Backoff({ base: 100, cap: 1000, random: () => r });
  assert.equal(b.delay(3), 0, 'random 0 gives no delay');
  r = 0.5;
  assert.equal(b.delay(3), 400, 'random 0.5 gives half the ceiling (800)');
  r = 0.9999999;
  assert.equal(b.delay(3), 799, 'never reaches the ceiling');
  r = 1; // a broken random source cannot push it over
  assert.equal(b.delay(20), 999);
});

test('backoff: with Math.random delays spread over the whole window', () => {
  const b = new Backoff({ base: 500, cap: 30_000 });
  const samples = Array.from({ length: 2000 }, () => b.delay(3)); // window [0, 4000)
  assert.ok(samples.every((d) => d >= 0 && d < 4000 && Number.isInteger(d)));
  const mean = samples.reduce((a, v) => a + v, 0) / samples.length;
  assert.ok(mean > 1700 && mean < 2300, `mean ${mean} near 2000`);
  assert.ok(Math.min(...samples) < 200, 'some retries come almost at once');
  assert.ok(Math.max(...samples) > 3800, 'some wait almost the whole window');
});

test('backoff: invalid settings are refused', () => {
  assert.throws(() => new Backoff({ base: 0 }), RangeError);
  assert.throws(() => new Backoff({ base: 1000, cap: 10 }), RangeError);
});

test('close codes: decided by range (protocol section 8)', () => {
  for (const code of [1001, 1002, 1003, 1005, 1006, 1007, 1009, 1011, 1015, 4000, 4001, 4002, 4003, 4004, 4005, 4006, 4007, 4008, 4499, 3000, null, undefined]) {
    assert.equal(closeAction(code), 'reconnect', `code ${code}`);
  }
  for (const code of [1000, 4500, 4501, 4502, 4777, 4999]) {
    assert.equal(closeAction(code), 'stop', `code ${code}`);
  }
});

test('close reasons: retry_ms is read from "<text>; retry_ms=<n>"', () => {
  assert.deepEqual(parseCloseReason('server restart; retry_ms=2300'), { text: 'server restart', retryMs: 2300 });
  assert.deepEqual(parseCloseReason('a; b;retry_ms=5'), { text: 'a; b', retryMs: 5 });
  assert.deepEqual(parseCloseReason('heartbeat timeout'), { text: 'heartbeat timeout', retryMs: null });
  assert.deepEqual(parseCloseReason(undefined), { text: '', retryMs: null });
});

test('errors: protocol codes are named, unknown codes count as internal and retryable', () => {
  const denied = HeraldError.fromProtocol({ code: 103, message: 'permission denied' }, { channel: 'x:1' });
  assert.ok(denied instanceof Error);
  assert.equal(denied.name, 'HeraldError');
  assert.equal(denied.code, ErrorCodes.PERMISSION_DENIED);
  assert.equal(denied.codeName, 'permission_denied');
  assert.equal(denied.channel, 'x:1');
  assert.equal(denied.retryable, false);
  const future = HeraldError.fromProtocol({ code: 177, message: 'new' });
  assert.equal(future.codeName, 'internal');
  assert.equal(future.retryable, true);
  assert.equal(new HeraldError(ClientErrorCodes.TIMEOUT, 't').retryable, true);
  assert.equal(new HeraldError(ClientErrorCodes.CLOSED, 'c').retryable, false);
});

test('lag stats: nearest-rank percentiles over the window', () => {
  const lag = new LagStats(1000);
  assert.deepEqual(lag.snapshot(), { count: 0, total: 0, window: 1000, min: null, max: null, mean: null, p50: null, p90: null, p99: null, last: null });
  for (let i = 100; i >= 1; i--) lag.add(i); // order must not matter
  const s = lag.snapshot();
  assert.equal(s.count, 100);
  assert.equal(s.p50, 50);
  assert.equal(s.p90, 90);
  assert.equal(s.p99, 99);
  assert.equal(s.min, 1);
  assert.equal(s.max, 100);
  assert.equal(s.mean, 50.5);
  assert.equal(s.last, 1);
});

test('lag stats: the window slides; totals keep counting; negative samples (clock skew) are kept', () => {
  const lag = new LagStats(10);
  for (let i = 1; i <= 25; i++) lag.add(i);
  lag.add(Number.NaN); // ignored
  let s = lag.snapshot();
  assert.equal(s.count, 10);
  assert.equal(s.total, 25);
  assert.equal(s.min, 16);
  assert.equal(s.max, 25);
  lag.add(-40);
  s = lag.snapshot();
  assert.equal(s.min, -40, 'a client clock behind the server gives negative lag; it is reported, not hidden');
});

test('presence: several tabs of one user count once; idle only when every tab is', () => {
  const users = groupByUser(
    [
      { client: 'c-3', user: 'bob', info: { name: 'Bob' }, state: { viewing: 'item:7' } },
      { client: 'c-2', user: 'alice', info: { name: 'Alice' }, state: { editing: 'item:7', idle: true } },
      { client: 'c-1', user: 'alice', info: { name: 'Alice' }, state: { editing: ['item:9', 'item:7'] } },
      { client: 'c-4', user: 'carol', info: {}, state: { idle: true } },
      { client: 'c-5', user: 'carol', info: {}, state: { idle: true, viewing: 'item:1' } },
    ],
    'alice',
  );
  assert.deepEqual(users.map((u) => u.user), ['alice', 'bob', 'carol']);
  const [alice, bob, carol] = users;
  assert.equal(alice.connections, 2);
  assert.equal(alice.self, true);
  assert.equal(alice.idle, false, 'one active tab makes the person active');
  assert.deepEqual(alice.editing, ['item:7', 'item:9']);
  assert.deepEqual(alice.clients.map((c) => c.client), ['c-1', 'c-2']);
  assert.deepEqual(alice.info, { name: 'Alice' });
  assert.equal(bob.self, false);
  assert.equal(bob.idle, false, 'a connection that does not report idleness counts as active');
  assert.deepEqual(bob.viewing, ['item:7']);
  assert.equal(carol.idle, true);
  assert.deepEqual(carol.viewing, ['item:1']);
});

test('URLs: base URLs get the endpoint path, ws: URLs are used as they are', () => {
  assert.deepEqual(resolveEndpoints('https://h.example'), { url: 'https://h.example', websocketUrl: 'wss://h.example/connection/websocket' });
  assert.deepEqual(resolveEndpoints('http://127.0.0.1:8080/'), { url: 'http://127.0.0.1:8080', websocketUrl: 'ws://127.0.0.1:8080/connection/websocket' });
  assert.deepEqual(resolveEndpoints('https://h.example/rt/?x=1#y'), { url: 'https://h.example/rt', websocketUrl: 'wss://h.example/rt/connection/websocket' });
  assert.deepEqual(resolveEndpoints('wss://h.example/connection/websocket'), { url: 'https://h.example', websocketUrl: 'wss://h.example/connection/websocket' });
  assert.deepEqual(resolveEndpoints('https://h.example', '/ws'), { url: 'https://h.example', websocketUrl: 'wss://h.example/ws' });
  assert.throws(() => resolveEndpoints('/relative'), /absolute URL/);
  assert.throws(() => resolveEndpoints('ftp://h.example'), /expected http/);
});

test('utf8Length counts bytes like the server does', () => {
  for (const s of ['', 'abc', 'grüße', '日本語', '😀 emoji', 'line\nbreak']) {
    assert.equal(utf8Length(s), Buffer.byteLength(s, 'utf8'), s);
  }
});
