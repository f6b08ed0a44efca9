// Presence on fake sockets: snapshot plus join/leave/update events, grouping by user, the
// activity (viewing/editing) and idleness this client announces.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flush, setup } from './helpers/fakes.js';

const ALICE_1 = { client: 'c-1', user: 'alice', info: { name: 'Alice' }, state: {} };
const ALICE_2 = { client: 'c-9', user: 'alice', info: { name: 'Alice' }, state: {} };
const BOB = { client: 'c-2', user: 'bob', info: { name: 'Bob' }, state: { editing: 'item:7' } };

/** A live client (connection c-1 of alice) with a presence-tracking subscription to test:doc. */
async function withPresence(options = {}) {
  const h = setup(options.herald);
  const s = await h.live({ client: 'c-1', user: 'alice' });
  const events = [];
  const joins = [];
  const leaves = [];
  const errors = [];
  const sub = h.herald.subscribe('test:doc', {
    onPresence: (users, event) => events.push({ users, event }),
    onJoin: (c) => joins.push(c.client),
    onLeave: (c) => leaves.push(c.client),
    onError: (e) => errors.push(e),
    ...options.handlers,
  });
  await s.subscribed('test:doc');
  return { h, s, sub, events, joins, leaves, errors };
}

test('presence: a snapshot is requested after subscribing; events update it; users are grouped', async () => {
  const t = await withPresence();
  const req = t.s.take('presence');
  assert.equal(req.channel, 'test:doc');
  t.s.reply(req, { clients: [BOB, ALICE_1] });
  await flush();
  assert.equal(t.sub.presence.available, true);
  assert.equal(t.events.at(-1).event.type, 'snapshot');
  assert.deepEqual(t.sub.presence.users().map((u) => [u.user, u.connections, u.self]), [['alice', 1, true], ['bob', 1, false]]);

  // Alice opens a second tab: still one person.
  t.s.receive({ type: 'join', channel: 'test:doc', ...ALICE_2 });
  assert.deepEqual(t.joins, ['c-9']);
  let users = t.events.at(-1).users;
  assert.equal(users.length, 2);
  assert.equal(users[0].connections, 2);
  assert.equal(t.sub.presence.clients().length, 3);

  t.s.receive({ type: 'presence_update', channel: 'test:doc', ...BOB, state: { editing: 'item:8' } });
  assert.deepEqual(t.sub.presence.users()[1].editing, ['item:8']);

  t.s.receive({ type: 'leave', channel: 'test:doc', ...BOB });
  assert.deepEqual(t.leaves, ['c-2']);
  users = t.events.at(-1).users;
  assert.deepEqual(users.map((u) => u.user), ['alice']);
  t.s.receive({ type: 'leave', channel: 'test:doc', ...BOB }); // idempotent
  assert.deepEqual(t.sub.presence.users().map((u) => u.user), ['alice']);
  t.h.herald.close();
});

test('presence: a join right behind the snapshot reply in one frame is not lost', async () => {
  const t = await withPresence();
  const req = t.s.take('presence');
  t.s.receive({ type: 'reply', id: req.id, result: { clients: [ALICE_1] } }, { type: 'join', channel: 'test:doc', ...BOB });
  assert.deepEqual(t.sub.presence.clients().map((c) => c.client).sort(), ['c-1', 'c-2']);
  t.h.herald.close();
});

test('presence: after a reconnect the snapshot is taken again and replaces the old list', async () => {
  const t = await withPresence();
  t.s.reply(t.s.take('presence'), { clients: [BOB, ALICE_1] });
  await flush();
  t.s.drop();
  await t.h.clock.advance(t.h.last().delayMs);
  const s2 = t.h.socket;
  s2.accept();
  await s2.connected({ client: 'c-5' });
  await s2.subscribed('test:doc', { recovered: true });
  assert.equal(t.sub.presence.users().length, 2, 'the old list stays until the new one arrives (no flicker)');
  s2.reply(s2.take('presence'), { clients: [{ ...ALICE_1, client: 'c-5' }] });
  await flush();
  assert.deepEqual(t.sub.presence.clients().map((c) => c.client), ['c-5']);
  t.h.herald.close();
});

test('presence: without presence handlers nothing is requested; presence.refresh() fetches on demand', async () => {
  const h = setup();
  const s = await h.live();
  const sub = h.herald.subscribe('test:doc', { onPublication: () => {} });
  await s.subscribed('test:doc');
  await flush();
  assert.equal(s.sentOf('presence').length, 0);
  assert.equal(sub.presence.available, null);
  const p = sub.presence.refresh();
  await flush();
  s.reply(s.take('presence'), { clients: [BOB] });
  const users = await p;
  assert.deepEqual(users.map((u) => u.user), ['bob']);
  h.herald.close();
});

test('presence: a namespace without presence (108) is reported once and marked unavailable', async () => {
  const t = await withPresence();
  t.s.replyError(t.s.take('presence'), 108, "presence is disabled in namespace 'test'");
  await flush();
  assert.equal(t.sub.presence.available, false);
  assert.equal(t.errors.length, 1);
  assert.equal(t.errors[0].code, 108);
  const ok = t.sub.setActivity({ editing: 'item:1' });
  await flush();
  assert.equal(await ok, false);
  assert.equal(t.s.sentOf('presence_set').length, 0);
  t.s.drop();
  await t.h.clock.advance(t.h.last().delayMs);
  t.h.socket.accept();
  await t.h.socket.connected();
  await t.h.socket.subscribed('test:doc', { recovered: true });
  assert.equal(t.h.socket.sentOf('presence').length, 0, 'not asked again after a reconnect');
  assert.equal(t.errors.length, 1);
  t.h.herald.close();
});

test('activity: setActivity sends presence_set, coalesces rapid changes, resolves when the server has it', async () => {
  const t = await withPresence();
  const first = t.sub.setActivity({ viewing: 'item:1' });
  await flush();
  const set1 = t.s.take('presence_set');
  assert.deepEqual(set1.state, { viewing: 'item:1' });
  // Three changes while the first is in flight: only the last is sent.
  const a = t.sub.setActivity({ viewing: 'item:2' });
  const b = t.sub.setActivity({ editing: 'item:3' });
  const c = t.sub.setActivity({ editing: 'item:4', idle: false }); // idle is the client's to report
  await flush();
  assert.equal(t.s.sentOf('presence_set').length, 1);
  t.s.reply(set1, {});
  assert.equal(await first, true);
  await flush();
  const set2 = t.s.take('presence_set');
  assert.deepEqual(set2.state, { editing: 'item:4' });
  t.s.reply(set2, {});
  assert.deepEqual(await Promise.all([a, b, c]), [true, true, true]);
  assert.deepEqual(t.sub.activity, { editing: 'item:4' });
  // Setting the same state again costs nothing.
  assert.equal(await t.sub.setActivity({ editing: 'item:4' }), true);
  assert.equal(t.s.sentOf('presence_set').length, 2);
  t.h.herald.close();
});

test('activity: announced again after a reconnect (the server forgets it with the connection)', async () => {
  const t = await withPresence();
  t.sub.setActivity({ editing: 'item:7' });
  await flush();
  t.s.reply(t.s.take('presence_set'), {});
  await flush();
  t.s.drop();
  await t.h.clock.advance(t.h.last().delayMs);
  const s2 = t.h.socket;
  s2.accept();
  await s2.connected();
  await s2.subscribed('test:doc', { recovered: true });
  const again = s2.take('presence_set');
  assert.deepEqual(again.state, { editing: 'item:7' });
  const order = s2.sent.map((m) => m.type).filter((x) => x !== 'connect');
  assert.deepEqual(order.slice(0, 3), ['subscribe', 'presence_set', 'presence'], 'subscribe first, then state, then the snapshot');
  t.h.herald.close();
});

test('idle: no input for idleAfter announces idle: true; input announces active again', async () => {
  const t = await withPresence({ herald: { idleAfter: 60_000 } });
  const idleEvents = [];
  t.h.herald.on('idle', (v) => idleEvents.push(v));
  t.s.reply(t.s.take('presence'), { clients: [ALICE_1] });
  t.sub.setActivity({ editing: 'item:7' });
  await flush();
  t.s.reply(t.s.take('presence_set'), {});
  await t.h.advanceWithPings(30_000);
  t.h.env.fire('pointermove'); // input in between moves the deadline
  await t.h.advanceWithPings(59_999);
  assert.equal(t.h.herald.idle, false);
  await t.h.clock.advance(1);
  assert.equal(t.h.herald.idle, true);
  assert.deepEqual(idleEvents, [true]);
  const idle = t.s.take('presence_set');
  assert.deepEqual(idle.state, { editing: 'item:7', idle: true });
  t.s.reply(idle, {});
  t.s.receive({ type: 'presence_update', channel: 'test:doc', ...ALICE_1, state: idle.state });
  assert.equal(t.sub.presence.users()[0].idle, true);
  await t.h.advanceWithPings(10 * 60_000);
  assert.equal(t.s.sentOf('presence_set').length, 2, 'nothing more while idle');

  t.h.env.fire('keydown');
  assert.equal(t.h.herald.idle, false);
  assert.deepEqual(idleEvents, [true, false]);
  await flush();
  assert.deepEqual(t.s.take('presence_set').state, { editing: 'item:7' });
  t.h.herald.close();
});

test('idle: coming back to a hidden tab counts as activity; markActive() does too', async () => {
  const t = await withPresence({ herald: { idleAfter: 1000 } });
  await t.h.clock.advance(1000);
  assert.equal(t.h.herald.idle, true);
  t.h.env.hide();
  t.h.env.show();
  assert.equal(t.h.herald.idle, false);
  await t.h.clock.advance(1000);
  assert.equal(t.h.herald.idle, true);
  t.h.herald.markActive();
  assert.equal(t.h.herald.idle, false);
  t.h.herald.close();
});

test('idle: subscriptions that neither track presence nor set an activity announce nothing', async () => {
  const h = setup({ idleAfter: 1000 });
  const s = await h.live();
  h.herald.subscribe('test:feed', { onPublication: () => {} });
  await s.subscribed('test:feed');
  await h.clock.advance(5000);
  assert.equal(h.herald.idle, true);
  assert.equal(s.sentOf('presence_set').length, 0);
  h.herald.close();
});

test('idle: idleAfter 0 disables idle detection (no input listeners)', async () => {
  const h = setup({ idleAfter: 0 });
  await h.live();
  const before = h.env.listenerCount();
  await h.clock.advance(60 * 60_000 - 1);
  assert.equal(h.herald.idle, false);
  assert.equal(before, 7, 'only the seven lifecycle events');
  h.herald.close();
});
