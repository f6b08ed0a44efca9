// Token refresh (protocol `refresh`) on fake time: before the credential expires, the client asks
// the token callback for a fresh token and sends it; the connection stays.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../src/herald.js';
import { flush, setup } from './helpers/fakes.js';

test('refresh: a minute before expires_ms the token callback runs and its token is sent in refresh', async () => {
  const h = setup();
  const s = await h.live({ expires_ms: h.clock.now() + 3_600_000 });
  assert.equal(h.tokenCalls, 1);
  await h.advanceWithPings(3_540_000 - 20_000);
  assert.equal(s.sentOf('refresh').length, 0);
  await h.advanceWithPings(20_000);
  await flush();
  const refresh = s.take('refresh');
  assert.equal(refresh.token, 'token-2');
  assert.ok(Number.isInteger(refresh.id));
  s.reply(refresh, { expires_ms: h.clock.now() + 3_600_000 });
  await h.advanceWithPings(3_540_000);
  await flush();
  assert.equal(s.take('refresh').token, 'token-3');
  assert.equal(h.herald.state.state, 'live');
  assert.equal(h.socket, s); // the same connection all along
  assert.deepEqual(h.errors, []);
  h.herald.close();
});

test('refresh: a short lifetime is refreshed a tenth ahead; a refused refresh is reported and retried, not for another user', async () => {
  const h = setup();
  const s = await h.live({ expires_ms: h.clock.now() + 100_000 });
  await h.advanceWithPings(90_000);
  await flush();
  const first = s.take('refresh');
  s.replyError(first, ErrorCodes.UNAUTHORIZED, 'invalid token signature');
  await flush();
  assert.equal(h.errors.length, 1);
  assert.equal(h.errors[0].code, ErrorCodes.UNAUTHORIZED);
  await h.clock.advance(5_000);
  await flush();
  const second = s.take('refresh');
  s.replyError(second, ErrorCodes.USER_MISMATCH, 'token is for another user');
  await flush();
  assert.equal(h.errors.length, 2);
  assert.equal(h.errors[1].code, 117);
  await h.clock.advance(4_000);
  await flush();
  assert.equal(s.tryTake('refresh'), undefined);
  h.herald.close();
});

test('refresh: nothing is sent without expires_ms or with a fixed token', async () => {
  const h = setup();
  const s = await h.live();
  await h.advanceWithPings(7_200_000);
  assert.equal(s.sentOf('refresh').length, 0);
  h.herald.close();
  const fixed = setup({ token: 'fixed-token' });
  const f = await fixed.live({ expires_ms: fixed.clock.now() + 100_000 });
  await fixed.advanceWithPings(95_000);
  assert.equal(f.sentOf('refresh').length, 0);
  fixed.herald.close();
});
