// ReadPositions: read positions moved by sends are coalesced per user and conversation and written once per event-loop turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ReadPositions } from '../../src/realtime/read-positions.ts';
import type { Store } from '../../src/store/types.ts';

test('one write per (user, conversation) per turn, with the highest seq', async () => {
  const writes: Array<[string, string, number]> = [];
  const store = { setLastRead: async (u: string, c: string, s: number) => void writes.push([u, c, s]) } as unknown as Store;
  const positions = new ReadPositions(store, () => assert.fail('no error expected'));
  positions.advance('alice', 'room', 3);
  positions.advance('alice', 'room', 5);
  positions.advance('alice', 'room', 4);
  positions.advance('bob', 'room', 1);
  positions.advance('alice', 'other', 9);
  assert.deepEqual(writes, [], 'nothing is written in the same turn');
  await nextTurn();
  assert.deepEqual(writes, [
    ['alice', 'room', 5],
    ['bob', 'room', 1],
    ['alice', 'other', 9],
  ]);
  positions.advance('alice', 'room', 6);
  positions.flush();
  assert.deepEqual(writes.at(-1), ['alice', 'room', 6], 'flush writes immediately');
  await nextTurn();
  assert.equal(writes.length, 4, 'and leaves nothing for the scheduled turn');
});

test('a failed write is reported, not thrown', async () => {
  let errors = 0;
  const store = { setLastRead: async () => Promise.reject(new Error('closed')) } as unknown as Store;
  const positions = new ReadPositions(store, () => errors++);
  positions.advance('alice', 'room', 1);
  positions.flush();
  await nextTurn();
  assert.equal(errors, 1);
});
