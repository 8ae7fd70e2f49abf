// ReadPositions: read positions moved by sends are kept in memory per user and conversation and written lazily, in small batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadPositions } from '../../src/realtime/read-positions.ts';
import type { Store } from '../../src/store/types.ts';

function recordingStore(writes: Array<[string, string, number]>): Store {
  return { setLastRead: async (u: string, c: string, s: number) => void writes.push([u, c, s]) } as unknown as Store;
}

test('only the highest seq per (user, conversation) is written, and only on flush', async () => {
  const writes: Array<[string, string, number]> = [];
  const positions = new ReadPositions(recordingStore(writes), () => assert.fail('no error expected'));
  positions.advance('alice', 'room', 3);
  positions.advance('alice', 'room', 5);
  positions.advance('alice', 'room', 4);
  positions.advance('bob', 'room', 1);
  positions.advance('alice', 'other', 9);
  assert.deepEqual(writes, []);
  await positions.flush();
  assert.deepEqual(writes, [
    ['alice', 'room', 5],
    ['alice', 'other', 9],
    ['bob', 'room', 1],
  ]);
  await positions.flush();
  assert.equal(writes.length, 3, 'nothing twice');
});

test('flushUser writes one user’s positions and leaves the others pending', async () => {
  const writes: Array<[string, string, number]> = [];
  const positions = new ReadPositions(recordingStore(writes), () => assert.fail('no error expected'));
  positions.advance('alice', 'room', 2);
  positions.advance('bob', 'room', 7);
  await positions.flushUser('alice');
  assert.deepEqual(writes, [['alice', 'room', 2]]);
  await positions.flush();
  assert.deepEqual(writes.at(-1), ['bob', 'room', 7]);
});

test('the timer flushes by itself; many writes are spread over turns', async () => {
  const writes: Array<[string, string, number]> = [];
  let wrote!: () => void;
  const all = new Promise<void>((resolve) => (wrote = resolve));
  const store = {
    setLastRead: async (u: string, c: string, s: number) => {
      writes.push([u, c, s]);
      if (writes.length === 100) wrote();
    },
  } as unknown as Store;
  const positions = new ReadPositions(store, () => assert.fail('no error expected'), 5);
  for (let i = 0; i < 100; i++) positions.advance(`user${i}`, 'room', i + 1);
  await all;
  assert.deepEqual(writes[99], ['user99', 'room', 100]);
});

test('a failed write is reported, not thrown', async () => {
  let errors = 0;
  const store = { setLastRead: async () => Promise.reject(new Error('closed')) } as unknown as Store;
  const positions = new ReadPositions(store, () => errors++);
  positions.advance('alice', 'room', 1);
  await positions.flush();
  assert.equal(errors, 1);
});
