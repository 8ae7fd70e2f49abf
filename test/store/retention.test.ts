// Retention: purging messages older than retentionDays on demand and on an unref'd timer, and 'forever'.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { startRetention } from '../../src/store/retention.ts';
import type { Store } from '../../src/store/types.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const aliveScript = fileURLToPath(new URL('./fixtures/retention-alive.ts', import.meta.url));

/** A store on disk with messages 100, 91, 89 and 1 day(s) old (relative to NOW) in one channel. */
async function storeWithHistory(t: { after(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-retention-'));
  const store = await openStore({ dataPath: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const alice = await store.createUser({ username: 'alice', role: 'owner', salt: new Uint8Array(16), iterations: 600_000, verifier: 'v' });
  const { general } = await store.createServer({ name: 'Home', ownerId: alice.id, isDefault: true });
  for (const ageDays of [100, 91, 89, 1]) {
    await store.appendMessage({ convId: general.id, senderId: alice.id, ts: NOW - ageDays * DAY, body: new Uint8Array([ageDays]) });
  }
  const remaining = async () => (await store.messagesAfter(general.id, 0, 100)).map((m) => m.body[0]);
  return { store, dir, remaining };
}

/** Wraps a store so each purge call is observable. */
function observePurges(store: Store) {
  const cutoffs: number[] = [];
  let notify: (() => void) | null = null;
  const wrapped: Store = Object.create(store, {
    purgeMessagesBefore: {
      value: async (cutoff: number) => {
        cutoffs.push(cutoff);
        const n = await store.purgeMessagesBefore(cutoff);
        notify?.();
        return n;
      },
    },
  });
  const nextPurge = () => new Promise<void>((resolve) => (notify = resolve));
  return { wrapped, cutoffs, nextPurge };
}

describe('retention', () => {
  it('runOnce deletes messages older than retentionDays and returns how many', async (t) => {
    const { store, remaining } = await storeWithHistory(t);
    const r = startRetention(store, 90, { now: () => NOW });
    t.after(() => r.stop());
    assert.equal(await r.runOnce(), 2);
    assert.deepEqual(await remaining(), [89, 1]);
    assert.equal(await r.runOnce(), 0);
  });

  it("'forever' deletes nothing", async (t) => {
    const { store, remaining } = await storeWithHistory(t);
    const { wrapped, cutoffs } = observePurges(store);
    const r = startRetention(wrapped, 'forever', { now: () => NOW + 1000 * DAY, intervalMs: 1 });
    t.after(() => r.stop());
    assert.equal(await r.runOnce(), 0);
    assert.deepEqual(cutoffs, []);
    assert.deepEqual(await remaining(), [100, 91, 89, 1]);
  });

  it('purges on its timer with the cutoff now − retentionDays, until stopped', async (t) => {
    const { store, remaining } = await storeWithHistory(t);
    const { wrapped, cutoffs, nextPurge } = observePurges(store);
    const purged = nextPurge();
    const r = startRetention(wrapped, 30, { now: () => NOW, intervalMs: 5 });
    t.after(() => r.stop());
    // The retention timer is unref'd; this watchdog keeps the loop alive (and fails a hang) meanwhile.
    const watchdog = setTimeout(() => assert.fail('the timer never purged'), 10_000);
    await purged;
    clearTimeout(watchdog);
    r.stop();
    assert.equal(cutoffs[0], NOW - 30 * DAY);
    assert.deepEqual(await remaining(), [1]);
  });

  it('refuses a retention that is not a positive number of days', async (t) => {
    const { store } = await storeWithHistory(t);
    assert.throws(() => startRetention(store, 0), RangeError);
    assert.throws(() => startRetention(store, Number.NaN), RangeError);
  });

  it('the hourly timer does not keep the process alive', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'chatroom-retention-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const child = spawn(process.execPath, ['--import', 'tsx', aliveScript, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    t.after(() => clearTimeout(guard));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.equal(signal, null, 'exited on its own, not killed by the guard');
    assert.equal(code, 0);
    assert.equal(out, 'started\n');
  });
});
