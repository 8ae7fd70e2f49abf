// Login-key verifiers (argon2id of 32 random bytes, incl. the non-UTF-8 regression) and the bounded queue that caps concurrent hashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hashLoginKey, needsRehash, verifyAgainstDummy, verifyLoginKey } from '../../src/server/auth/password.ts';
import { BoundedQueue } from '../../src/server/auth/work-queue.ts';
import { fakeSalt } from '../../src/server/auth/fake-salt.ts';
import { ChatroomError } from '../../src/shared/errors.ts';

test('login keys that are not valid UTF-8 verify (regression: @node-rs/argon2 verify() refused them)', async () => {
  const key = new Uint8Array([0xff, 0xfe, ...randomBytes(30)]);
  const verifier = await hashLoginKey(key);
  assert.match(verifier, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await verifyLoginKey(verifier, key), true);
  const other = new Uint8Array(key);
  other[31] ^= 1;
  assert.equal(await verifyLoginKey(verifier, other), false);
  assert.equal(needsRehash(verifier), false);
});

test('malformed or foreign verifiers never match and never throw', async () => {
  const key = randomBytes(32);
  for (const v of ['', 'dummy-verifier', '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA', '$argon2id$v=19$m=1,t=1,p=1$!!$!!']) {
    assert.equal(await verifyLoginKey(v, key), false, v);
  }
  assert.equal(needsRehash('$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'), true);
  assert.equal(await verifyAgainstDummy(key), false);
});

test('fake salts: 16 bytes, stable per key and lowercased name, different per key', () => {
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');
  assert.equal(fakeSalt(k1, 'Ghost').length, 16);
  assert.deepEqual(fakeSalt(k1, 'Ghost'), fakeSalt(k1, 'ghost'));
  assert.notDeepEqual(fakeSalt(k1, 'ghost'), fakeSalt(k2, 'ghost'));
  assert.notDeepEqual(fakeSalt(k1, 'ghost'), fakeSalt(k1, 'ghost2'));
});

test('the queue runs at most maxConcurrent jobs, hands slots on, and refuses past maxWaiting', async () => {
  const queue = new BoundedQueue(2, 3);
  let active = 0;
  let peak = 0;
  const releases: Array<() => void> = [];
  const job = () =>
    queue.run(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise<void>((resolve) => releases.push(resolve));
      active--;
      return 'done';
    });
  const jobs = Array.from({ length: 5 }, job);
  await assert.rejects(job(), (err: unknown) => err instanceof ChatroomError && err.code === 'RATE_LIMITED');
  assert.deepEqual(queue.load, { running: 2, waiting: 3 });
  while (releases.length || queue.load.running) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    releases.shift()?.();
  }
  assert.deepEqual(await Promise.all(jobs), ['done', 'done', 'done', 'done', 'done']);
  assert.equal(peak, 2);
  assert.deepEqual(queue.load, { running: 0, waiting: 0 });
});

test('a failing job frees its slot', async () => {
  const queue = new BoundedQueue(1, 1);
  await assert.rejects(queue.run(async () => { throw new Error('boom'); }));
  assert.equal(await queue.run(async () => 7), 7);
  assert.deepEqual(queue.load, { running: 0, waiting: 0 });
});
