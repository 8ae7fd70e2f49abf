// Safety numbers: fixed keys give fixed 60 digits, both sides agree, an independent node:crypto implementation agrees, QR payload matching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { compareSafetyQr, safetyNumber, safetyQrPayload } from '../../web-client/src/crypto/safety-number.ts';

const alice = { userId: 'alice', accountKey: new Uint8Array(32).fill(0x0a) };
const bob = { userId: 'bob', accountKey: new Uint8Array(32).fill(0x0b) };

/** Signal's NumericFingerprintGenerator, written out again with node:crypto. */
function reference(id: { userId: string; accountKey: Uint8Array }): string {
  let h = Buffer.concat([Buffer.from([0, 1]), id.accountKey, Buffer.from(id.userId, 'utf8')]);
  for (let i = 0; i < 5200; i++) h = createHash('sha512').update(h).update(id.accountKey).digest();
  let s = '';
  for (let i = 0; i < 30; i += 5) s += String(Number(h.readUIntBE(i, 5) % 100000)).padStart(5, '0');
  return s;
}

test('fixed account keys give a fixed 60-digit safety number, the same on both sides', () => {
  const ab = safetyNumber(alice, bob);
  assert.equal(ab.digits, '807964407193247497980719336859915131123037010856222049799085');
  assert.equal(ab.digits.length, 60);
  assert.equal(ab.groups.length, 12);
  assert.deepEqual(safetyNumber(bob, alice), ab);
  const [x, y] = [reference(alice), reference(bob)].sort();
  assert.equal(ab.digits, x + y);
});

test('a different account key or user id changes the number', () => {
  const base = safetyNumber(alice, bob).digits;
  assert.notEqual(safetyNumber(alice, { ...bob, accountKey: new Uint8Array(32).fill(0x0c) }).digits, base);
  assert.notEqual(safetyNumber(alice, { ...bob, userId: 'bob2' }).digits, base);
});

test('QR: the other side scanning my code matches; a changed key does not; junk is malformed', () => {
  const shownByBob = safetyQrPayload(bob, alice);
  assert.match(shownByBob, /^chatroom-sn:1:[A-Za-z0-9_-]{43}:[A-Za-z0-9_-]{43}$/);
  assert.equal(compareSafetyQr(shownByBob, alice, bob), 'match');
  assert.equal(compareSafetyQr(shownByBob, alice, { ...bob, accountKey: new Uint8Array(32).fill(0x0c) }), 'mismatch');
  assert.equal(compareSafetyQr(safetyQrPayload(alice, bob), alice, bob), 'mismatch', 'my own code is not a match');
  assert.throws(() => compareSafetyQr('https://example.test', alice, bob), { code: 'malformed' });
  assert.throws(() => compareSafetyQr('chatroom-sn:1:abc:def', alice, bob), { code: 'malformed' });
});
