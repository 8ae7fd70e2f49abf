// web-client/src/state/timelines.ts: messages deduplicated by seq, kept ascending whatever the arrival order, history pages merging with live frames, per-conversation paging state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { StoredMessage } from '../../src/shared/api.ts';
import { Timelines } from '../../web-client/src/state/timelines.ts';

const msg = (conv: string, seq: number, body = `b${seq}`): StoredMessage => ({ conv, seq, sender: 'u1', senderName: 'alice', ts: 1_000 + seq, body });
const seqs = (t: Timelines, conv: string) => t.list(conv).map((m) => m.seq);

test('a seq already held is a duplicate, and the first copy wins', () => {
  const t = new Timelines();
  assert.equal(t.add(msg('c', 1, 'first')), true);
  assert.equal(t.add(msg('c', 1, 'replayed')), false);
  assert.deepEqual(t.list('c').map((m) => m.body), ['first']);
});

test('the same seq in another conversation is not a duplicate', () => {
  const t = new Timelines();
  t.add(msg('a', 1));
  assert.equal(t.add(msg('b', 1)), true);
  assert.deepEqual(seqs(t, 'a'), [1]);
  assert.deepEqual(seqs(t, 'b'), [1]);
  assert.deepEqual(seqs(t, 'none'), []);
});

test('kept ascending by seq whatever the arrival order; newest/oldest follow', () => {
  const t = new Timelines();
  for (const seq of [5, 2, 9, 1, 7]) t.add(msg('c', seq));
  assert.deepEqual(seqs(t, 'c'), [1, 2, 5, 7, 9]);
  assert.equal(t.newest('c'), 9);
  assert.equal(t.oldest('c'), 1);
  assert.equal(t.newest('empty'), 0);
  assert.equal(t.oldest('empty'), undefined);
});

test('the list is rebuilt after each add (no stale cached copy)', () => {
  const t = new Timelines();
  t.add(msg('c', 2));
  assert.deepEqual(seqs(t, 'c'), [2]);
  t.add(msg('c', 1));
  assert.deepEqual(seqs(t, 'c'), [1, 2]);
});

test('history pages merge with live frames and replays: each message once, in order', () => {
  const t = new Timelines();
  // Live frames arrive first (101..105), then the newest page (56..105), then an older page (6..55), then a replay.
  for (let s = 101; s <= 105; s++) t.add(msg('c', s));
  for (let s = 56; s <= 105; s++) t.add(msg('c', s));
  t.setHasMore('c', true);
  assert.equal(t.oldest('c'), 56, 'the next page is fetched before seq 56');
  for (let s = 6; s <= 55; s++) t.add(msg('c', s));
  for (let s = 100; s <= 110; s++) t.add(msg('c', s));
  assert.deepEqual(seqs(t, 'c'), Array.from({ length: 105 }, (_, i) => i + 6));
});

test('any interleaving of overlapping pages gives the same sorted, duplicate-free list (property)', () => {
  const page = fc.tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 60 })).map(([from, n]) => Array.from({ length: n }, (_, i) => from + i));
  fc.assert(fc.property(fc.array(page, { maxLength: 8 }), fc.integer(), (pages, seed) => {
    const t = new Timelines();
    const all = pages.flat();
    // Deterministic shuffle of the arrival order.
    const order = all.map((s, i) => ({ s, k: Math.imul(i + 1, seed | 1) >>> 0 })).sort((a, b) => a.k - b.k).map((x) => x.s);
    for (const s of order) t.add(msg('c', s));
    assert.deepEqual(seqs(t, 'c'), [...new Set(all)].sort((a, b) => a - b));
  }));
});

test('paging state: more history until a page says otherwise; loading flag; clear resets all', () => {
  const t = new Timelines();
  assert.equal(t.hasMore('c'), true, 'unknown before the first page');
  assert.equal(t.loaded('c'), false);
  t.setHasMore('c', false);
  assert.equal(t.hasMore('c'), false);
  assert.equal(t.loaded('c'), true);
  assert.equal(t.hasMore('other'), true, 'per conversation');
  t.setLoading('c', true);
  assert.equal(t.isLoading('c'), true);
  assert.equal(t.isLoading('other'), false);
  t.setLoading('c', false);
  assert.equal(t.isLoading('c'), false);
  t.add(msg('c', 1));
  t.setLoading('c', true);
  t.clear();
  assert.deepEqual(seqs(t, 'c'), []);
  assert.equal(t.loaded('c'), false);
  assert.equal(t.isLoading('c'), false);
  assert.equal(t.add(msg('c', 1)), true, 'a seq seen before clear() is new again');
});

test('stored copies carry only the message fields', () => {
  const t = new Timelines();
  t.add({ ...msg('c', 1), extra: 'x' } as StoredMessage);
  assert.deepEqual(Object.keys(t.list('c')[0]).sort(), ['body', 'conv', 'sender', 'senderName', 'seq', 'ts']);
});
