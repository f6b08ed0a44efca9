// Subscriptions on fake sockets: ordering, recovery across reconnects, gap and duplicate
// detection (protocol section 5), errors, unsubscribe, lag measurement.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flush, setup } from './helpers/fakes.js';

/** A live client with a live subscription to `channel` at offset `offset`; collects pubs. */
async function subscribed(channel = 'test:a', offset = 5, extra = {}) {
  const h = setup(extra.options);
  const s = await h.live();
  const pubs = [];
  const lost = [];
  const subscribedInfo = [];
  const errors = [];
  const sub = h.herald.subscribe(channel, {
    onPublication: (p) => pubs.push(p),
    onStateLost: (l) => lost.push(l),
    onSubscribed: (i) => subscribedInfo.push(i),
    onError: (e) => errors.push(e),
    ...extra.handlers,
  });
  await s.subscribed(channel, { epoch: 'E1', offset });
  return { h, s, sub, pubs, lost, subscribedInfo, errors, offsets: () => pubs.map((p) => p.offset) };
}

/** Drops the connection and plays the reconnect up to live; returns the new socket. */
async function reconnect(h) {
  h.socket.drop();
  await h.clock.advance(h.last().delayMs);
  h.socket.accept();
  await h.socket.connected();
  return h.socket;
}

test('subscribe: the first reply sets the position; publications are delivered in order with their metadata', async () => {
  const t = await subscribed('test:a', 5);
  assert.equal(t.sub.state, 'live');
  assert.deepEqual(t.sub.position, { epoch: 'E1', offset: 5 });
  assert.deepEqual(t.subscribedInfo[0], { channel: 'test:a', position: { epoch: 'E1', offset: 5 }, since: null, recovered: false, missed: 0, recoverable: true, top: { epoch: 'E1', offset: 5 } });
  assert.deepEqual(await t.sub.ready(), t.subscribedInfo[0]);
  t.h.clock.nowMs = 1_000_500;
  t.s.pub('test:a', 6, { item: 7 }, { ts: 1_000_000, user: 'bob' });
  t.s.pub('test:a', 7, { item: 8 }, { ts: 1_000_400 });
  assert.deepEqual(t.pubs[0], { channel: 'test:a', data: { item: 7 }, epoch: 'E1', offset: 6, ts: 1_000_000, lagMs: 500, recovered: false, user: 'bob' });
  assert.equal(t.pubs[1].lagMs, 100);
  assert.equal('user' in t.pubs[1], false, 'server-published: no user');
  assert.deepEqual(t.sub.position, { epoch: 'E1', offset: 7 });
  t.h.herald.close();
});

test('recovery: after a reconnect every subscription resumes with since = last position; missed publications arrive once, in order', async () => {
  const t = await subscribed('test:a', 5);
  t.s.pub('test:a', 6);
  t.s.pub('test:a', 7);
  const s2 = await reconnect(t.h);
  assert.equal(t.sub.state, 'subscribing', 'waiting for the server again');
  const req = await s2.subscribed('test:a', { epoch: 'E1', offset: 10, recovered: true, missed: 3 });
  assert.deepEqual(req.since, { epoch: 'E1', offset: 7 });
  for (const o of [8, 9, 10, 11]) s2.pub('test:a', o);
  assert.deepEqual(t.offsets(), [6, 7, 8, 9, 10, 11]);
  assert.deepEqual(t.pubs.map((p) => p.recovered), [false, false, true, true, true, false]);
  assert.equal(t.subscribedInfo[1].recovered, true);
  assert.equal(t.subscribedInfo[1].missed, 3);
  assert.deepEqual(t.subscribedInfo[1].since, { epoch: 'E1', offset: 7 });
  assert.deepEqual(t.lost, []);
  t.h.herald.close();
});

test('recovery: a subscribe reply and the recovered publications in one frame (as the server batches them) are all delivered', async () => {
  const t = await subscribed('test:a', 5);
  const s2 = await reconnect(t.h);
  await flush();
  const req = s2.take('subscribe');
  s2.receive(
    { type: 'reply', id: req.id, result: { epoch: 'E1', offset: 8, recoverable: true, recovered: true, missed: 3 } },
    ...[6, 7, 8].map((offset) => ({ type: 'pub', channel: 'test:a', epoch: 'E1', offset, ts: 0, data: offset })),
    { type: 'join', channel: 'test:a', client: 'c-2', user: 'alice', info: {}, state: {} },
  );
  assert.deepEqual(t.offsets(), [6, 7, 8]);
  assert.ok(t.pubs.every((p) => p.recovered));
  t.h.herald.close();
});

test('recovery: publications the server marks recovered are reported as recovered, live ones are not', async () => {
  const t = await subscribed('test:a', 5);
  const s2 = await reconnect(t.h);
  await flush();
  const req = s2.take('subscribe');
  s2.receive(
    { type: 'reply', id: req.id, result: { epoch: 'E1', offset: 7, recoverable: true, recovered: true, missed: 0 } },
    ...[6, 7].map((offset) => ({ type: 'pub', channel: 'test:a', epoch: 'E1', offset, ts: 0, data: offset, recovered: true })),
    { type: 'pub', channel: 'test:a', epoch: 'E1', offset: 8, ts: 0, data: 8 },
  );
  assert.deepEqual(t.offsets(), [6, 7, 8]);
  assert.deepEqual(t.pubs.map((p) => p.recovered), [true, true, false]);
  t.h.herald.close();
});

test('subscribe: the first reply and publications right behind it in one frame', async () => {
  const h = setup();
  const s = await h.live();
  const got = [];
  h.herald.subscribe('test:a', { onPublication: (p) => got.push(p.offset) });
  await flush();
  const req = s.take('subscribe');
  s.receive({ type: 'reply', id: req.id, result: { epoch: 'E1', offset: 2, recoverable: true, recovered: false, missed: 0 } }, { type: 'pub', channel: 'test:a', epoch: 'E1', offset: 3, ts: 0, data: 3 });
  assert.deepEqual(got, [3]);
  h.herald.close();
});

test('recovery: recovered:false calls onStateLost and continues from the new position', async () => {
  const t = await subscribed('short:a', 5);
  t.s.pub('short:a', 6);
  const s2 = await reconnect(t.h);
  await s2.subscribed('short:a', { epoch: 'E1', offset: 40, recovered: false, missed: 0 });
  assert.equal(t.lost.length, 1);
  assert.deepEqual(t.lost[0], {
    channel: 'short:a',
    reason: 'the history no longer holds the 34 publications after offset 6',
    previous: { epoch: 'E1', offset: 6 },
    position: { epoch: 'E1', offset: 40 },
  });
  assert.deepEqual(t.sub.position, { epoch: 'E1', offset: 40 });
  s2.pub('short:a', 41);
  assert.deepEqual(t.offsets(), [6, 41]);
  assert.equal(t.h.herald.stats().stateLost, 1);
  t.h.herald.close();
});

test('recovery: an epoch change (stream reset) is reported as such', async () => {
  const t = await subscribed('test:a', 5);
  const s2 = await reconnect(t.h);
  await s2.subscribed('test:a', { epoch: 'E2', offset: 1, recovered: false });
  assert.match(t.lost[0].reason, /stream was reset \(epoch E1 is now E2\)/);
  t.h.herald.close();
});

test('recovery: a channel without history reports it', async () => {
  const t = await subscribed('nohist:a', 5);
  const s2 = await reconnect(t.h);
  await s2.subscribed('nohist:a', { epoch: 'E1', offset: 9, recovered: false, recoverable: false });
  assert.equal(t.lost[0].reason, 'the channel keeps no history');
  t.h.herald.close();
});

test('recovery: an application-provided since is used for the first subscribe', async () => {
  const h = setup();
  const s = await h.live();
  const lost = [];
  h.herald.subscribe('test:a', { since: { epoch: 'E1', offset: 3 }, onStateLost: (l) => lost.push(l) });
  const req = await s.subscribed('test:a', { epoch: 'E1', offset: 5, recovered: true, missed: 2 });
  assert.deepEqual(req.since, { epoch: 'E1', offset: 3 });
  assert.deepEqual(lost, []);
  assert.throws(() => h.herald.subscribe('test:b', { since: { epoch: 1 } }), TypeError);
  h.herald.close();
});

test('gaps: a publication that skips offsets triggers a resubscribe from the last position; nothing is delivered out of order', async () => {
  const t = await subscribed('test:a', 5);
  t.s.pub('test:a', 6);
  t.s.pub('test:a', 8); // 7 is missing
  t.s.pub('test:a', 9); // ignored until the resubscribe reply
  await flush();
  const unsub = t.s.take('unsubscribe');
  assert.equal(unsub.channel, 'test:a');
  t.s.reply(unsub, {});
  const req = await t.s.subscribed('test:a', { epoch: 'E1', offset: 9, recovered: true, missed: 3 });
  assert.deepEqual(req.since, { epoch: 'E1', offset: 6 });
  const unsubIndex = t.s.sent.findIndex((m) => m.type === 'unsubscribe');
  const subIndex = t.s.sent.findIndex((m) => m.id === req.id);
  assert.ok(unsubIndex < subIndex, 'unsubscribe goes before the new subscribe');
  for (const o of [7, 8, 9, 10]) t.s.pub('test:a', o);
  assert.deepEqual(t.offsets(), [6, 7, 8, 9, 10]);
  const st = t.h.herald.stats();
  assert.equal(st.gaps, 1);
  assert.equal(st.lastGap.channel, 'test:a');
  assert.match(st.lastGap.detail, /expected offset 7, received 8/);
  t.h.herald.close();
});

test('gaps: a publication from another epoch is a gap too', async () => {
  const t = await subscribed('test:a', 5);
  t.s.receive({ type: 'pub', channel: 'test:a', epoch: 'E9', offset: 1, ts: 0, data: 1 });
  await flush();
  assert.ok(t.s.tryTake('unsubscribe'));
  const req = t.s.take('subscribe', (m) => m.since);
  assert.deepEqual(req.since, { epoch: 'E1', offset: 5 });
  assert.deepEqual(t.pubs, []);
  t.h.herald.close();
});

test('duplicates: publications at or below the last offset are ignored', async () => {
  const t = await subscribed('test:a', 5);
  for (const o of [6, 6, 5, 7, 7]) t.s.pub('test:a', o);
  assert.deepEqual(t.offsets(), [6, 7]);
  assert.equal(t.h.herald.stats().duplicates, 3);
  t.h.herald.close();
});

test('publications between a subscribe and its reply, or for other channels, are ignored', async () => {
  const h = setup();
  const s = await h.live();
  const got = [];
  h.herald.subscribe('test:a', { onPublication: (p) => got.push(p.offset) });
  s.pub('test:a', 1);
  s.pub('test:zzz', 1);
  await s.subscribed('test:a', { offset: 1 });
  s.pub('test:a', 2);
  assert.deepEqual(got, [2]);
  h.herald.close();
});

test('unsubscribe: sends unsubscribe, stops handlers at once, allows subscribing again', async () => {
  const t = await subscribed('test:a', 5);
  const done = t.sub.unsubscribe();
  t.s.pub('test:a', 6);
  assert.deepEqual(t.pubs, []);
  assert.equal(t.sub.state, 'unsubscribed');
  await flush();
  t.s.reply(t.s.take('unsubscribe'), {});
  await done;
  assert.equal(t.h.herald.subscription('test:a'), undefined);
  await t.sub.unsubscribe(); // idempotent
  const again = t.h.herald.subscribe('test:a', {});
  await t.s.subscribed('test:a');
  assert.equal(again.state, 'live');
  t.h.herald.close();
});

test('unsubscribe while not connected sends nothing and resolves', async () => {
  const h = setup();
  const sub = h.herald.subscribe('test:a', {});
  const ready = assert.rejects(sub.ready(), (e) => e.code === 'closed');
  await sub.unsubscribe();
  await ready;
  const s = await h.live();
  await flush();
  assert.equal(s.sentOf('subscribe').length, 0);
  h.herald.close();
});

test('subscribing twice to one channel throws 105 (share the Subscription instead)', async () => {
  const h = setup();
  h.herald.subscribe('test:a', {});
  assert.throws(() => h.herald.subscribe('test:a', {}), (e) => e.code === 105 && e.channel === 'test:a');
  assert.throws(() => h.herald.subscribe('', {}), TypeError);
  assert.throws(() => h.herald.subscribe('test:b', { onPublication: 'nope' }), TypeError);
  assert.throws(() => h.herald.subscribe('test:b', { onMessage: () => {} }), /unknown subscribe option 'onMessage'/);
});

test('subscribe errors: 103 fails the subscription for good, with onError and a rejected ready()', async () => {
  const h = setup();
  const s = await h.live();
  const errors = [];
  const sub = h.herald.subscribe('user:bob:x', { onError: (e) => errors.push(e) });
  const ready = assert.rejects(sub.ready(), (e) => e.code === 103);
  await flush();
  s.replyError(s.take('subscribe'), 103, "permission denied for channel 'user:bob:x'");
  await ready;
  assert.equal(sub.state, 'failed');
  assert.equal(sub.error.code, 103);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].codeName, 'permission_denied');
  assert.equal(errors[0].channel, 'user:bob:x');
  assert.equal(h.herald.subscription('user:bob:x'), undefined);
  const s2 = await reconnect(h);
  await flush();
  assert.equal(s2.sentOf('subscribe').length, 0, 'a failed subscription is not renewed');
  h.herald.close();
});

test('unsubscribed from the server: the subscription fails with onError, later publications are ignored, and it is not renewed', async () => {
  const t = await subscribed('project:42', 5);
  const other = t.h.herald.subscribe('project:43', {});
  await t.s.subscribed('project:43', { epoch: 'E1', offset: 1 });
  t.s.receive({ type: 'unsubscribed', channel: 'project:42', code: 103, reason: "access to 'project:42' was revoked" });
  assert.equal(t.sub.state, 'failed');
  assert.equal(t.sub.error.code, 103);
  assert.equal(t.errors.length, 1);
  assert.equal(t.errors[0].codeName, 'permission_denied');
  assert.equal(t.errors[0].channel, 'project:42');
  assert.equal(t.h.herald.subscription('project:42'), undefined);
  t.s.pub('project:42', 6);
  assert.deepEqual(t.offsets(), [], 'nothing after the revocation');
  assert.equal(other.state, 'live', 'other subscriptions are untouched');
  const s2 = await reconnect(t.h);
  await flush();
  assert.deepEqual(s2.sentOf('subscribe').map((m) => m.channel), ['project:43']);
  t.h.herald.close();
});

test('unsubscribed with 116 (stream reset): resubscribes at once from the last position; onStateLost only if the reply says so', async () => {
  const t = await subscribed('project:42', 5);
  t.s.pub('project:42', 6);
  t.s.receive({ type: 'unsubscribed', channel: 'project:42', code: 116, reason: 'stream reset' });
  await flush();
  const again = t.s.sentOf('subscribe').filter((m) => m.channel === 'project:42');
  assert.equal(again.length, 2, 'subscribed again on the same connection');
  assert.deepEqual(again[1].since, { epoch: 'E1', offset: 6 });
  assert.deepEqual(t.s.sentOf('unsubscribe'), [], 'the server already ended it');
  assert.equal(t.errors.length, 0, 'not an error for the application');
  await t.s.subscribed('project:42', { epoch: 'E9', offset: 3, recovered: false, missed: 0 });
  assert.equal(t.sub.state, 'live');
  assert.equal(t.lost.length, 1);
  assert.match(t.lost[0].reason, /stream was reset \(epoch E1 is now E9\)/);
  t.s.pub('project:42', 4, { n: 4 }, { epoch: 'E9' });
  assert.deepEqual(t.offsets(), [6, 4]);
  t.h.herald.close();
});

test('subscribe errors: 100 (internal) is retried with backoff on the same connection', async () => {
  const h = setup();
  h.random = 0.5;
  const s = await h.live();
  const errors = [];
  const sub = h.herald.subscribe('test:a', { onError: (e) => errors.push(e) });
  await flush();
  s.replyError(s.take('subscribe'), 100, 'internal error');
  await flush();
  assert.equal(errors[0].code, 100);
  assert.equal(sub.state, 'subscribing');
  await h.clock.advance(250);
  await s.subscribed('test:a');
  assert.equal(sub.state, 'live');
  h.herald.close();
});

test('lag: stats over live publications; recovered ones (outage, not lag) are left out', async () => {
  const t = await subscribed('test:a', 0, { options: { lag: { window: 100 } } });
  const now = t.h.clock.nowMs;
  for (let i = 1; i <= 10; i++) t.s.pub('test:a', i, {}, { ts: now - i * 10 }); // lag 10..100
  let lag = t.h.herald.stats().lag;
  assert.equal(lag.count, 10);
  assert.equal(lag.p50, 50);
  assert.equal(lag.p90, 90);
  assert.equal(lag.max, 100);
  const s2 = await reconnect(t.h);
  await s2.subscribed('test:a', { epoch: 'E1', offset: 12, recovered: true, missed: 2 });
  s2.pub('test:a', 11, {}, { ts: now - 60_000 });
  s2.pub('test:a', 12, {}, { ts: now - 60_000 });
  lag = t.h.herald.stats().lag;
  assert.equal(lag.count, 10, 'recovered publications do not count as lag');
  assert.equal(lag.max, 100);
  assert.equal(t.h.herald.stats().recoveredPublications, 2);
  assert.equal(t.pubs.at(-1).lagMs >= 60_000, true, 'but each still carries its own lagMs');
  t.h.herald.close();
});

test('lag: the lag event reports periodically while there are new samples', async () => {
  const t = await subscribed('test:a', 0, { options: { lag: { reportInterval: 10_000 } } });
  const reports = [];
  t.h.herald.on('lag', (r) => reports.push(r));
  t.s.pub('test:a', 1, {}, { ts: t.h.clock.nowMs - 20 });
  await t.h.clock.advance(10_000);
  assert.equal(reports.length, 1);
  assert.equal(reports[0].count, 1);
  assert.equal(reports[0].max, 20);
  for (let i = 0; i < 3; i++) t.s.receive({ type: 'ping' }), await t.h.clock.advance(10_000);
  assert.equal(reports.length, 1, 'no new samples, no report');
  t.h.herald.close();
});

test('lag: live samples are reported to the server every 30 s (POST /connection/lag), best effort', async () => {
  const posts = [];
  const fetch = async (url, init = {}) => {
    if (url.endsWith('/connection/lag')) {
      posts.push({ url, method: init.method, body: JSON.parse(init.body) });
      if (posts.length === 2) throw new TypeError('fetch failed'); // ignored
    }
    return { ok: true, status: 204, headers: new Map(), json: async () => ({}), text: async () => '' };
  };
  const t = await subscribed('test:a', 0, { options: { fetch } });
  const now = t.h.clock.nowMs;
  for (let i = 1; i <= 3; i++) t.s.pub('test:a', i, {}, { ts: now - i * 10 }); // lag 10, 20, 30
  await t.h.clock.advance(29_999);
  assert.equal(posts.length, 0);
  await t.h.clock.advance(1);
  assert.deepEqual(posts, [{ url: 'https://herald.test/connection/lag', method: 'POST', body: { samples: [10, 20, 30] } }]);
  await t.h.clock.advance(30_000);
  assert.equal(posts.length, 1, 'nothing new, nothing sent');
  t.h.herald.close();
});

test('lag: reports carry at most 100 samples, clamp negative lag to 0, survive failures and stop on close', async () => {
  const posts = [];
  const fetch = async (url, init = {}) => {
    if (url.endsWith('/connection/lag')) {
      posts.push(JSON.parse(init.body));
      if (posts.length === 1) throw new TypeError('fetch failed'); // ignored
    }
    return { ok: true, status: 204, headers: new Map(), json: async () => ({}), text: async () => '' };
  };
  const t = await subscribed('test:a', 0, { options: { fetch, lag: { serverReportInterval: 1000 } } });
  for (let i = 1; i <= 150; i++) t.s.pub('test:a', i, {}, { ts: t.h.clock.nowMs - 5 });
  await t.h.clock.advance(1000);
  assert.equal(posts.length, 1);
  assert.equal(posts[0].samples.length, 100, 'at most 100 samples per report');
  t.s.pub('test:a', 151, {}, { ts: t.h.clock.nowMs + 50 }); // client clock behind the server's
  await t.h.clock.advance(1000);
  assert.deepEqual(posts[1], { samples: [0] });
  t.h.herald.close();
  await t.h.clock.advance(5000);
  assert.equal(posts.length, 2, 'no reports once closed');
});

test('lag: serverReport false sends nothing', async () => {
  const posts = [];
  const fetch = async (url) => {
    if (url.endsWith('/connection/lag')) posts.push(url);
    return { ok: true, status: 204, headers: new Map(), json: async () => ({}), text: async () => '' };
  };
  const t = await subscribed('test:a', 0, { options: { fetch, lag: { serverReport: false } } });
  t.s.pub('test:a', 1, {}, { ts: t.h.clock.nowMs - 10 });
  await t.h.clock.advance(120_000);
  assert.deepEqual(posts, []);
  t.h.herald.close();
});
