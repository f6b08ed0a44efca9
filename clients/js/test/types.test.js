// Keeps src/herald.d.ts in step with the module: every runtime export is declared (and the
// reverse), and the public members of the classes match. (A full type check of the
// declarations needs TypeScript, which is not a dependency: see README.md "Development".)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as herald from '../src/herald.js';

const dts = readFileSync(new URL('../src/herald.d.ts', import.meta.url), 'utf8');

/** Names of `export declare const|function|class X` in the declarations. */
function declaredValues() {
  return [...dts.matchAll(/^export declare (?:const|function|class) (\w+)/gm)].map((m) => m[1]).sort();
}

/** The member names declared in the body of `export declare class Name`. */
function declaredMembers(name) {
  const start = dts.indexOf(`export declare class ${name}`);
  assert.ok(start >= 0, `class ${name} is declared`);
  let depth = 0;
  let i = dts.indexOf('{', start);
  const bodyStart = i + 1;
  for (; i < dts.length; i++) {
    if (dts[i] === '{') depth++;
    else if (dts[i] === '}' && --depth === 0) break;
  }
  const body = dts.slice(bodyStart, i);
  const members = new Set();
  for (const line of body.split('\n')) {
    const m = /^ {2}(?:static )?(?:readonly )?(?:private )?(\w+)\??[(<:]/.exec(line);
    if (m && m[1] !== 'constructor') members.add(m[1]);
  }
  return members;
}

/** Public members of a class at run time (prototype methods and getters, plus instance fields). */
function runtimeMembers(cls, instance) {
  const names = new Set(Object.getOwnPropertyNames(cls.prototype).filter((n) => n !== 'constructor'));
  if (instance) for (const n of Object.keys(instance)) names.add(n);
  return names;
}

test('types: every runtime export is declared, and every declared value exists', () => {
  assert.deepEqual(declaredValues(), Object.keys(herald).sort());
});

test('types: Herald members match', () => {
  const h = new herald.Herald('https://h.test', { env: { addEventListener() {}, removeEventListener() {}, visibilityState: 'visible', onLine: true } });
  assert.deepEqual([...declaredMembers('Herald')].sort(), [...runtimeMembers(herald.Herald, h)].sort());
});

test('types: Subscription members match', () => {
  const h = new herald.Herald('https://h.test', { env: { addEventListener() {}, removeEventListener() {}, visibilityState: 'visible', onLine: true } });
  const sub = h.subscribe('test:x', {});
  assert.deepEqual([...declaredMembers('Subscription')].sort(), [...runtimeMembers(herald.Subscription, sub)].sort());
  assert.deepEqual(Object.keys(sub.presence).sort(), ['available', 'clients', 'refresh', 'users']);
});

test('types: HeraldError, Backoff and LagStats members match', () => {
  const err = new herald.HeraldError(103, 'x', { channel: 'c', closeCode: 4500 });
  const errMembers = new Set([...runtimeMembers(herald.HeraldError, err), 'fromProtocol']);
  errMembers.delete('message'); // inherited from Error, not redeclared
  errMembers.delete('stack');
  assert.deepEqual([...declaredMembers('HeraldError')].sort(), [...errMembers].sort());
  assert.deepEqual([...declaredMembers('Backoff')].sort(), [...runtimeMembers(herald.Backoff, new herald.Backoff())].filter((n) => n !== 'random').sort());
  const lagDeclared = [...declaredMembers('LagStats')].sort();
  assert.deepEqual(lagDeclared, ['add', 'reset', 'snapshot']);
  for (const m of lagDeclared) assert.equal(typeof herald.LagStats.prototype[m], 'function');
});

test('types: the error and close code tables match', () => {
  for (const [table, value] of [['ErrorCodes', herald.ErrorCodes], ['ClientErrorCodes', herald.ClientErrorCodes], ['CloseCodes', herald.CloseCodes]]) {
    const start = dts.indexOf(`export declare const ${table}`);
    const body = dts.slice(start, dts.indexOf('}>;', start));
    const declared = Object.fromEntries([...body.matchAll(/^ {2}(\w+): '?([\w]+)'?;/gm)].map((m) => [m[1], /^\d+$/.test(m[2]) ? Number(m[2]) : m[2]]));
    assert.deepEqual(declared, { ...value }, table);
  }
});
