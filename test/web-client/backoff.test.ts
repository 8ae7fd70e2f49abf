// web-client/src/state/backoff.ts: reconnect waits grow exponentially, are fully jittered, never exceed 10 s, and start over after a successful connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, Backoff, backoffDelay } from '../../web-client/src/state/backoff.ts';

test('with the top of the jitter range, waits double from 0.5 s up to the 10 s cap', () => {
  const b = new Backoff(() => 1);
  const waits = Array.from({ length: 10 }, () => b.next());
  assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000, 10000]);
  assert.equal(b.failures, 10);
});

test('full jitter: a wait can be anything from 0 up to the cap for that attempt', () => {
  assert.equal(backoffDelay(3, () => 0), 0);
  assert.equal(backoffDelay(3, () => 0.5), 2000);
  assert.equal(backoffDelay(3, () => 0.999999), 4000);
  // With the real random source, waits for the same attempt differ (jitter spreads reconnects out).
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(6)));
  assert.ok(spread.size > 10, `50 draws gave only ${spread.size} distinct waits`);
});

test('bounded for any attempt count and random value (property)', () => {
  fc.assert(fc.property(fc.integer({ min: -5, max: 5000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
    const wait = backoffDelay(attempt, () => r);
    assert.ok(Number.isInteger(wait), `integer ms, got ${wait}`);
    assert.ok(wait >= 0 && wait <= BACKOFF_MAX_MS, `${wait} ms within [0, ${BACKOFF_MAX_MS}]`);
    assert.ok(wait <= BACKOFF_BASE_MS * 2 ** Math.max(attempt, 0), 'never more than the exponential cap');
  }));
});

test('reset() after a success starts again from the shortest wait', () => {
  const b = new Backoff(() => 1);
  for (let i = 0; i < 8; i++) b.next();
  assert.equal(b.next(), BACKOFF_MAX_MS);
  b.reset();
  assert.equal(b.failures, 0);
  assert.equal(b.next(), BACKOFF_BASE_MS);
  assert.equal(b.next(), BACKOFF_BASE_MS * 2);
});
