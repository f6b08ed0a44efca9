// sync(): snapshot + events + resync on fake sockets and fake time: held events, order, repeats,
// gaps, lost history (recovered:false, stream reset 116), snapshotRequired, failed fetches,
// a subscription that is late, close.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flush, setup } from './helpers/fakes.js';
import { ChannelSync, applyEntity, sync } from '../src/herald.js';

const CH = 'project:42';

/** A promise the test settles by hand. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Fake loaders: every call waits for the test to answer it. */
function loaders() {
  const calls = { snapshot: [], changes: [] };
  return {
    calls,
    snapshot: () => {
      const d = deferred();
      calls.snapshot.push(d);
      return d.promise;
    },
    changes: (since) => {
      const d = deferred();
      d.since = since;
      calls.changes.push(d);
      return d.promise;
    },
  };
}

/** An event as herald-outbox publishes it. */
const ev = (seq, n = seq) => ({ seq, type: 'n', data: n });

/** A state that is the list of applied event seqs (plus what the snapshot had). */
async function started(options = {}) {
  const h = setup();
  const s = await h.live();
  const l = loaders();
  const changes = [];
  const statuses = [];
  const live = sync(h.herald, CH, {
    snapshot: l.snapshot,
    changes: l.changes,
    init: (snap) => ({ applied: [...snap.applied] }),
    apply: (state, e) => {
      state.applied.push(e.seq);
    },
    clock: h.clock,
    ...options,
  });
  live.on('change', (c) => changes.push(c));
  live.on('status', (st) => statuses.push(st.status));
  return { h, s, l, live, changes, statuses, applied: () => live.state?.applied };
}

/** Plays the usual start: subscribed at offset 0, then the snapshot at `seq`. */
async function loaded(seq = 5, options) {
  const t = await started(options);
  await t.s.subscribed(CH, { epoch: 'E1', offset: 10 });
  await flush();
  assert.equal(t.l.calls.snapshot.length, 1, 'the snapshot is read after subscribing');
  t.l.calls.snapshot[0].resolve({ seq, applied: [] });
  await flush();
  return t;
}

test('sync: events that arrive before the snapshot are held, then those after its seq are applied in order', async () => {
  const t = await started();
  assert.equal(t.live.status, 'loading');
  await t.s.subscribed(CH, { epoch: 'E1', offset: 10 });
  await flush();
  t.s.pub(CH, 11, ev(5)); // already in the snapshot
  t.s.pub(CH, 12, ev(6));
  t.s.pub(CH, 13, ev(7));
  assert.equal(t.live.state, undefined);
  t.l.calls.snapshot[0].resolve({ seq: 5, applied: [] });
  assert.deepEqual(await t.live.ready(), { applied: [6, 7] });
  assert.equal(t.live.seq, 7);
  assert.equal(t.live.status, 'live');
  assert.equal(t.statuses.at(-1), 'live');
  assert.deepEqual(t.changes[0], { state: t.live.state, events: [], reset: true });
  assert.deepEqual(t.changes.at(-1).events.map((e) => e.seq), [6, 7]);
  assert.equal(t.l.calls.changes.length, 0, 'nothing missing: no resync');

  t.s.pub(CH, 14, ev(8));
  assert.deepEqual(t.applied(), [6, 7, 8]);
  t.h.herald.close();
});

test('sync: a repeated event (at least once delivery) is dropped by seq', async () => {
  const t = await loaded(5);
  t.s.pub(CH, 11, ev(6));
  t.s.pub(CH, 12, ev(6));
  t.s.pub(CH, 13, ev(4));
  t.s.pub(CH, 14, ev(7));
  assert.deepEqual(t.applied(), [6, 7]);
  assert.equal(t.l.calls.changes.length, 0);
  t.h.herald.close();
});

test('sync: a gap is filled from changes(since); events arriving meanwhile are held and follow in order', async () => {
  const t = await loaded(5);
  t.s.pub(CH, 11, ev(6));
  t.s.pub(CH, 12, ev(9)); // 7 and 8 are missing
  await flush();
  assert.equal(t.l.calls.changes.length, 1);
  assert.equal(t.l.calls.changes[0].since, 6);
  assert.equal(t.live.status, 'stale');
  t.s.pub(CH, 13, ev(10));
  t.l.calls.changes[0].resolve({ seq: 9, more: false, changes: [ev(8), ev(9)] }); // compacted: no 7
  await flush();
  assert.deepEqual(t.applied(), [6, 8, 9, 10]);
  assert.equal(t.live.seq, 10);
  assert.equal(t.live.status, 'live');
  t.h.herald.close();
});

test('sync: onStateLost (recovered: false after a reconnect) fetches the changes, page by page', async () => {
  const t = await loaded(5);
  t.s.pub(CH, 11, ev(6));
  t.h.socket.drop();
  await flush();
  assert.equal(t.live.status, 'stale', 'reconnecting: what is shown may be behind');
  await t.h.clock.advance(t.h.last().delayMs);
  t.h.socket.accept();
  await t.h.socket.connected();
  await t.h.socket.subscribed(CH, { epoch: 'E1', offset: 900, recovered: false, recoverable: false });
  await flush();
  assert.equal(t.l.calls.changes.length, 1);
  assert.equal(t.l.calls.changes[0].since, 6);
  t.l.calls.changes[0].resolve({ seq: 8, more: true, changes: [ev(7), ev(8)] });
  await flush();
  assert.equal(t.l.calls.changes[1].since, 8);
  t.h.socket.pub(CH, 901, ev(11));
  t.l.calls.changes[1].resolve({ seq: 10, more: false, changes: [ev(10)] });
  await flush();
  assert.deepEqual(t.applied(), [6, 7, 8, 10, 11]);
  assert.equal(t.live.status, 'live');
  t.h.herald.close();
});

test('sync: a stream reset (unsubscribed 116) that cannot be recovered fetches the changes', async () => {
  const t = await loaded(5);
  t.s.pub(CH, 11, ev(6));
  t.s.receive({ type: 'unsubscribed', channel: CH, code: 116, reason: 'stream reset' });
  await flush();
  await t.s.subscribed(CH, { epoch: 'E9', offset: 2, recovered: false });
  await flush();
  assert.equal(t.l.calls.changes.length, 1);
  assert.equal(t.l.calls.changes[0].since, 6);
  t.l.calls.changes[0].resolve({ seq: 7, more: false, changes: [ev(7)] });
  await flush();
  t.s.pub(CH, 3, ev(8), { epoch: 'E9' });
  assert.deepEqual(t.applied(), [6, 7, 8]);
  assert.equal(t.live.status, 'live');
  t.h.herald.close();
});

test('sync: snapshotRequired reloads the snapshot and replaces the state', async () => {
  const t = await loaded(5);
  t.live.resync();
  await flush();
  t.l.calls.changes[0].resolve({ seq: 40, more: false, snapshotRequired: true, changes: [] });
  await flush();
  assert.equal(t.l.calls.snapshot.length, 2);
  t.s.pub(CH, 11, ev(41));
  t.l.calls.snapshot[1].resolve({ seq: 40, applied: ['snap'] });
  await flush();
  assert.deepEqual(t.applied(), ['snap', 41]);
  assert.equal(t.changes.filter((c) => c.reset).length, 2);
  assert.equal(t.live.status, 'live');
  t.h.herald.close();
});

test('sync: a failed fetch leaves the data stale and is retried with a growing delay', async () => {
  const t = await loaded(5, { retryMin: 1_000, retryMax: 4_000 });
  t.s.pub(CH, 11, ev(7));
  await flush();
  t.l.calls.changes[0].reject(new Error('503'));
  await flush();
  assert.equal(t.live.status, 'stale');
  assert.equal(t.live.error.message, '503');
  await t.h.clock.advance(999);
  assert.equal(t.l.calls.changes.length, 1, 'not before the delay');
  await t.h.clock.advance(1);
  assert.equal(t.l.calls.changes.length, 2);
  t.l.calls.changes[1].reject(new Error('503 again'));
  await flush();
  await t.h.clock.advance(1_999);
  assert.equal(t.l.calls.changes.length, 2, 'the delay doubled');
  await t.h.clock.advance(1);
  t.l.calls.changes[2].resolve({ seq: 7, more: false, changes: [ev(6), ev(7)] });
  await flush();
  assert.deepEqual(t.applied(), [6, 7]);
  assert.equal(t.live.status, 'live');
  assert.equal(t.live.error, null);
  t.h.herald.close();
});

test('sync: a changes answer that does not close a gap is asked again later, not in a loop', async () => {
  const t = await loaded(5);
  t.s.pub(CH, 11, ev(8));
  await flush();
  t.l.calls.changes[0].resolve({ seq: 5, more: false, changes: [] });
  await flush();
  assert.equal(t.l.calls.changes.length, 1);
  assert.equal(t.live.status, 'stale');
  await t.h.clock.advance(1_000);
  t.l.calls.changes[1].resolve({ seq: 8, more: false, changes: [ev(6), ev(7), ev(8)] });
  await flush();
  assert.deepEqual(t.applied(), [6, 7, 8]);
  t.h.herald.close();
});

test('sync: when the subscription is late the snapshot loads anyway, and what came between is fetched once it is live', async () => {
  const h = setup();
  h.herald.connect();
  await flush(); // the socket never opens for now
  const l = loaders();
  const live = sync(h.herald, CH, { snapshot: l.snapshot, changes: l.changes, apply: (s, e) => {
    s.applied.push(e.seq);
  }, clock: h.clock, readyTimeout: 2_000 });
  await h.clock.advance(1_999);
  assert.equal(l.calls.snapshot.length, 0);
  await h.clock.advance(1);
  l.calls.snapshot[0].resolve({ seq: 3, applied: [] });
  await flush();
  assert.equal(live.status, 'stale', 'loaded, but not live');
  assert.equal(l.calls.changes.length, 0);
  h.socket.accept();
  await h.socket.connected();
  await h.socket.subscribed(CH, { epoch: 'E1', offset: 7 });
  await flush();
  assert.equal(l.calls.changes.length, 1);
  assert.equal(l.calls.changes[0].since, 3);
  l.calls.changes[0].resolve({ seq: 4, more: false, changes: [ev(4)] });
  await flush();
  assert.deepEqual(live.state.applied, [4]);
  assert.equal(live.status, 'live');
  h.herald.close();
});

test('sync: close unsubscribes; no listener runs after it', async () => {
  const t = await loaded(5);
  t.live.close();
  await flush();
  assert.equal(t.live.status, 'closed');
  assert.equal(t.s.sentOf('unsubscribe').length, 1);
  const before = t.changes.length;
  t.s.pub(CH, 11, ev(6));
  assert.equal(t.changes.length, before);
  t.h.herald.close();
});

test('sync: a refused subscription makes the sync failed', async () => {
  const t = await started();
  await flush();
  t.s.replyError(t.s.take('subscribe'), 103, 'permission denied');
  await flush();
  assert.equal(t.live.status, 'failed');
  assert.equal(t.live.error.code, 103);
  t.h.herald.close();
});

test('sync: options are checked', () => {
  const h = setup();
  const fn = () => {};
  assert.throws(() => sync(h.herald, CH, { snapshot: fn, changes: fn }), /apply must be a function/);
  assert.throws(() => sync(h.herald, CH, { snapshot: fn, changes: fn, apply: fn, onChange: fn }), /unknown sync option 'onChange'/);
  assert.throws(() => sync(h.herald, CH, { snapshot: fn, changes: fn, apply: fn, subscribe: { onPublication: fn } }), /handled by sync itself/);
  assert.throws(() => sync(h.herald, '', { snapshot: fn, changes: fn, apply: fn }), /channel/);
  assert.ok(sync(h.herald, CH, { snapshot: fn, changes: fn, apply: fn, clock: h.clock }) instanceof ChannelSync);
  h.herald.close();
});

test('applyEntity: newer versions win, deletions remove', () => {
  const m = new Map();
  assert.equal(applyEntity(m, { id: '1', action: 'created', version: 1, data: { version: 1, v: 'a' } }), true);
  assert.equal(applyEntity(m, { id: '1', action: 'updated', version: 3, data: { version: 3, v: 'c' } }), true);
  assert.equal(applyEntity(m, { id: '1', action: 'updated', version: 2, data: { version: 2, v: 'b' } }), false);
  assert.equal(m.get('1').v, 'c');
  assert.equal(applyEntity(m, { id: 1, action: 'deleted', version: 4, data: { id: 1 } }, '1'), true);
  assert.equal(m.size, 0);
});
