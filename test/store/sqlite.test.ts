// SQLite store on disk: the Store contract, migrations, reopen, group commit, real deletes, crash durability.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteStore, openStore } from '../../src/store/index.ts';
import { latestVersion, migrations } from '../../src/store/sqlite/migrations/index.ts';
import { runStoreContract } from './contract.ts';

const writerScript = fileURLToPath(new URL('./fixtures/append-writer.ts', import.meta.url));

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'chatroom-store-'));
}

runStoreContract('sqlite', async () => {
  const dir = tempDir();
  const store = await openStore({ dataPath: join(dir, 'data') });
  await store.migrate();
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

interface Fixture {
  dir: string;
  dataPath: string;
  file: string;
}

function fixture(t: { after(fn: () => void): void }): Fixture {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataPath = join(dir, 'data');
  return { dir, dataPath, file: join(dataPath, 'chatroom.db') };
}

/** A store with one user and the default server, opened in `dataPath`. */
async function seeded(dataPath: string, opts: Parameters<typeof openSqliteStore>[1] = {}) {
  const store = await openSqliteStore(dataPath, opts);
  const alice = await store.createUser({ username: 'alice', role: 'owner', salt: new Uint8Array(16), iterations: 600_000, verifier: 'v' });
  const { server, general } = await store.createServer({ name: 'Home', ownerId: alice.id, isDefault: true });
  return { store, alice, server, general };
}

function readAll(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  }
}

describe('SQLite store specifics', () => {
  it('creates the data folder 0700 and the database files 0600, with WAL, FULL, secure_delete and foreign keys', async (t) => {
    const f = fixture(t);
    const { store, alice, general } = await seeded(f.dataPath);
    t.after(() => store.close());
    await store.appendMessage({ convId: general.id, senderId: alice.id, ts: 1, body: new Uint8Array([1]) });
    assert.equal(statSync(f.dataPath).mode & 0o777, 0o700);
    assert.equal(statSync(f.file).mode & 0o777, 0o600);
    assert.equal(statSync(`${f.file}-wal`).mode & 0o777, 0o600);
    assert.deepEqual(store.settings(), {
      journalMode: 'wal',
      synchronous: 2,
      secureDelete: 1,
      foreignKeys: 1,
      busyTimeoutMs: 5000,
      walAutocheckpoint: 0,
    });
  });

  it('refuses a database with a newer schema (SCHEMA_TOO_NEW, naming both versions)', async (t) => {
    const f = fixture(t);
    const store = await openStore({ dataPath: f.dataPath });
    await store.close();
    const raw = new Database(f.file);
    raw.pragma(`user_version = ${latestVersion + 41}`);
    raw.close();
    await assert.rejects(openStore({ dataPath: f.dataPath }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SCHEMA_TOO_NEW');
      assert.match(err.message, new RegExp(`\\b${latestVersion + 41}\\b`));
      assert.match(err.message, new RegExp(`\\b${latestVersion}\\b`));
      return true;
    });
  });

  it('migrating twice is harmless and records the latest version', async (t) => {
    const f = fixture(t);
    const store = await openStore({ dataPath: f.dataPath });
    await store.migrate();
    await store.migrate();
    await store.close();
    const raw = new Database(f.file, { readonly: true });
    t.after(() => raw.close());
    assert.equal(raw.pragma('user_version', { simple: true }), latestVersion);
  });

  it('migration 2 upgrades a version-1 database: old messages stay, refs deduplicate from then on', async (t) => {
    const f = fixture(t);
    const first = await seeded(f.dataPath);
    await first.store.appendMessage({ convId: first.general.id, senderId: first.alice.id, ts: 1, body: new Uint8Array([1]) });
    await first.store.close();
    // Back to schema 1, as a database written before migration 2 existed.
    const raw = new Database(f.file);
    raw.exec('DROP INDEX messages_by_client_ref; ALTER TABLE messages DROP COLUMN client_ref;');
    // Tables of later migrations (3 and up) go too: schema 1's tables are those its SQL creates.
    const v1 = new Database(':memory:');
    v1.exec(migrations[0].sql);
    const namesOf = (db: Database.Database, type: 'table' | 'trigger') =>
      db.prepare("SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY rowid DESC").pluck().all(type) as string[];
    const schema1 = new Set([...namesOf(v1, 'table'), ...namesOf(v1, 'trigger')]);
    v1.close();
    // Newest first, triggers before tables: a later object may name an earlier one.
    for (const name of namesOf(raw, 'trigger')) if (!schema1.has(name)) raw.exec(`DROP TRIGGER "${name}"`);
    for (const name of namesOf(raw, 'table')) if (!schema1.has(name)) raw.exec(`DROP TABLE "${name}"`);
    raw.pragma('user_version = 1');
    raw.close();
    const second = await openStore({ dataPath: f.dataPath });
    t.after(() => second.close());
    await second.migrate();
    assert.equal((await second.messagesAfter(first.general.id, 0, 10)).length, 1);
    const a = await second.appendMessage({ convId: first.general.id, senderId: first.alice.id, ts: 2, body: new Uint8Array([2]), ref: 'x' });
    const b = await second.appendMessage({ convId: first.general.id, senderId: first.alice.id, ts: 3, body: new Uint8Array([2]), ref: 'x' });
    assert.deepEqual([a.seq, b.seq, b.duplicate], [2, 2, true]);
  });

  it('keeps everything across a reopen and continues seqs from the stored head', async (t) => {
    const f = fixture(t);
    const first = await seeded(f.dataPath);
    for (let i = 0; i < 5; i++) await first.store.appendMessage({ convId: first.general.id, senderId: first.alice.id, ts: i, body: new Uint8Array([i]) });
    await first.store.close();

    const store = await openStore({ dataPath: f.dataPath });
    t.after(() => store.close());
    assert.deepEqual(await store.getUserByUsername('ALICE'), first.alice);
    assert.deepEqual(await store.getDefaultServer(), first.server);
    assert.equal((await store.getConversation(first.general.id))?.head, 5);
    assert.deepEqual((await store.messagesAfter(first.general.id, 0, 100)).map((m) => m.body[0]), [0, 1, 2, 3, 4]);
    const next = await store.appendMessage({ convId: first.general.id, senderId: first.alice.id, ts: 9, body: new Uint8Array([9]) });
    assert.equal(next.seq, 6);
  });

  it('group-commits 2,000 concurrent appends over 3 conversations: seqs 1..N without gaps, few transactions', async (t) => {
    const f = fixture(t);
    const { store, alice, server, general } = await seeded(f.dataPath);
    t.after(() => store.close());
    const convs = [general, await store.createChannel({ serverId: server.id, name: 'b', createdBy: alice.id }), await store.createGroup({ name: 'c', createdBy: alice.id, memberIds: [] })];
    const before = store.stats();
    const results = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => store.appendMessage({ convId: convs[i % 3].id, senderId: alice.id, ts: i, body: Buffer.from(`m${i}`) })),
    );
    const after = store.stats();
    const transactions = after.appendTransactions - before.appendTransactions;
    assert.equal(after.appendedMessages - before.appendedMessages, 2000);
    assert.ok(transactions >= 1 && transactions <= 20, `expected far fewer transactions than messages, got ${transactions}`);
    for (const conv of convs) {
      const mine = results.filter((m) => m.convId === conv.id);
      const n = mine.length;
      assert.deepEqual(mine.map((m) => m.seq), Array.from({ length: n }, (_, i) => i + 1), 'acked seqs are 1..N in call order');
      const stored = await store.messagesAfter(conv.id, 0, 1000);
      assert.deepEqual(stored.map((m) => m.seq), Array.from({ length: n }, (_, i) => i + 1), 'stored seqs have no gap or duplicate');
      assert.deepEqual(stored.map((m) => Buffer.from(m.body).toString()), mine.map((m) => Buffer.from(m.body).toString()));
      assert.equal((await store.getConversation(conv.id))?.head, n);
    }
  });

  it('a send whose sender no longer exists fails alone; the rest of its batch commits without a gap', async (t) => {
    const f = fixture(t);
    const { store, alice, general } = await seeded(f.dataPath);
    t.after(() => store.close());
    const outcomes = await Promise.allSettled([
      store.appendMessage({ convId: general.id, senderId: alice.id, ts: 1, body: new Uint8Array([1]) }),
      // An unknown sender violates the foreign key: only that statement is undone.
      store.appendMessage({ convId: general.id, senderId: 'no-such-user', ts: 2, body: new Uint8Array([2]) }),
      store.appendMessage({ convId: general.id, senderId: alice.id, ts: 3, body: new Uint8Array([3]) }),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal(((outcomes[1] as PromiseRejectedResult).reason as { code?: string }).code, 'NOT_FOUND');
    assert.deepEqual((await store.messagesAfter(general.id, 0, 10)).map((m) => [m.seq, m.ts]), [[1, 1], [2, 3]]);
    assert.equal((await store.getConversation(general.id))?.head, 2);
  });

  it('a failed group commit rejects its whole batch and does not advance the heads', async (t) => {
    const f = fixture(t);
    const { store, alice, general } = await seeded(f.dataPath);
    t.after(() => store.close());
    // Another connection adds a trigger that fails the whole transaction for one body.
    const other = new Database(f.file);
    other.exec("CREATE TRIGGER fail_ts_2 BEFORE INSERT ON messages WHEN NEW.ts = 2 BEGIN SELECT RAISE(FAIL, 'disk trouble'); END");
    const outcomes = await Promise.allSettled([
      store.appendMessage({ convId: general.id, senderId: alice.id, ts: 1, body: new Uint8Array([1]) }),
      store.appendMessage({ convId: general.id, senderId: alice.id, ts: 2, body: new Uint8Array([2]) }),
      store.appendMessage({ convId: general.id, senderId: alice.id, ts: 3, body: new Uint8Array([3]) }),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
    assert.deepEqual(await store.messagesAfter(general.id, 0, 10), []);
    assert.equal((await store.getConversation(general.id))?.head, 0);
    other.exec('DROP TRIGGER fail_ts_2');
    other.close();
    const next = await store.appendMessage({ convId: general.id, senderId: alice.id, ts: 4, body: new Uint8Array([4]) });
    assert.equal(next.seq, 1);
  });

  it('close() commits appends still queued, and closing twice is harmless', async (t) => {
    const f = fixture(t);
    const { store, alice, general } = await seeded(f.dataPath);
    const pending = Array.from({ length: 10 }, (_, i) => store.appendMessage({ convId: general.id, senderId: alice.id, ts: i, body: new Uint8Array([i]) }));
    await Promise.all([store.close(), store.close()]);
    await store.close();
    assert.deepEqual((await Promise.all(pending)).map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await assert.rejects(store.appendMessage({ convId: general.id, senderId: alice.id, ts: 1, body: new Uint8Array([1]) }));
    const reopened = await openStore({ dataPath: f.dataPath });
    t.after(() => reopened.close());
    assert.equal((await reopened.messagesAfter(general.id, 0, 100)).length, 10);
    assert.equal(readAll(`${f.file}-wal`).length, 0, 'close truncated the WAL');
  });

  it('a purged message body is gone from the .db and -wal files while the store stays open', async (t) => {
    const f = fixture(t);
    const { store, alice, general } = await seeded(f.dataPath);
    t.after(() => store.close());
    const canary = `CANARY-${randomBytes(12).toString('hex')}`;
    // One small body (in a table page) and one large (in overflow pages).
    const small = Buffer.from(canary);
    const large = Buffer.from(canary.repeat(Math.ceil(20_000 / canary.length)));
    for (let i = 0; i < 50; i++) await store.appendMessage({ convId: general.id, senderId: alice.id, ts: Date.now(), body: Buffer.from(`keep-${i}`) });
    await store.appendMessage({ convId: general.id, senderId: alice.id, ts: 1000, body: small });
    await store.appendMessage({ convId: general.id, senderId: alice.id, ts: 1001, body: large });
    for (let i = 0; i < 50; i++) await store.appendMessage({ convId: general.id, senderId: alice.id, ts: Date.now(), body: Buffer.from(`keep-${i}`) });
    // Move the canary into the main file too, so the test sees both places scrubbed.
    await store.checkpoint('PASSIVE');
    const files = () => Buffer.concat([readAll(f.file), readAll(`${f.file}-wal`)]);
    assert.ok(files().includes(canary), 'the canary is on disk before the purge');

    assert.equal(await store.purgeMessagesBefore(2000), 2);
    assert.equal(files().includes(canary), false, 'no copy of the canary left in chatroom.db or chatroom.db-wal');
    assert.equal(files().includes(canary.slice(0, 16)), false);
    assert.equal((await store.messagesAfter(general.id, 0, 1000)).length, 100);
  });

  it('the checkpoint worker checkpoints after commits, and restarts a WAL grown past its limit', { timeout: 60_000 }, async (t) => {
    const f = fixture(t);
    const timed = await seeded(f.dataPath, { checkpoints: { pollMs: 5 } });
    const first = timed.store.nextPeriodicCheckpoint();
    await timed.store.appendMessage({ convId: timed.general.id, senderId: timed.alice.id, ts: 1, body: new Uint8Array(100) });
    const r = await first;
    assert.equal(r.busy, 0);
    assert.ok(r.log > 0, 'the WAL had frames');
    await timed.store.close();

    const sized = await openSqliteStore(f.dataPath, { checkpoints: { pollMs: 5, maxWalBytes: 256 * 1024 } });
    t.after(() => sized.close());
    // The largest WAL a periodic checkpoint saw: the catch-up's own `log` can be smaller, because a
    // commit between the checkpoint that asked for the pause and the pause itself restarts the WAL
    // when that checkpoint had already copied every frame (the flake: "past its limit (25 frames)").
    let maxLog = 0;
    const caughtUp = sized.nextPeriodicCheckpoint((c) => {
      maxLog = Math.max(maxLog, c.log);
      return c.caughtUp;
    });
    const body = new Uint8Array(2000);
    const appends: Promise<unknown>[] = [];
    // Keep writing until the worker has caught up: commits pause briefly meanwhile and must all still land.
    let done = false;
    void caughtUp.then(() => (done = true));
    for (let i = 0; !done && i < 100_000; i++) {
      appends.push(sized.appendMessage({ convId: timed.general.id, senderId: timed.alice.id, ts: i, body }));
      if (i % 20 === 19) await Promise.all(appends.slice(-20));
    }
    const c = await caughtUp;
    await Promise.all(appends);
    assert.equal(c.busy, 0);
    assert.equal(c.checkpointed, c.log, 'the catch-up copied every frame');
    assert.ok(maxLog * 4096 >= 256 * 1024, `the WAL was past its limit (${maxLog} frames)`);
    // Without a restart the WAL only grows, so fewer frames than seen before means it started over
    // (already at the catch-up, or at a commit after it). A commit restarts it only when no
    // checkpoint runs at that instant, so allow a few tries.
    let restarted = c.log < maxLog;
    let extra = 0;
    for (; !restarted && extra < 50; extra++) {
      const after = sized.nextPeriodicCheckpoint();
      await sized.appendMessage({ convId: timed.general.id, senderId: timed.alice.id, ts: 0, body: new Uint8Array(1) });
      restarted = (await after).log < c.log;
    }
    assert.ok(restarted, 'a commit after the WAL outgrew its limit restarted it from the beginning');
    assert.equal((await sized.messagesAfter(timed.general.id, 1, 1)).length, 1);
    assert.equal((await sized.getConversation(timed.general.id))?.head, appends.length + 1 + extra);
    assert.equal(sized.stats().mainThreadCheckpoints, 0, 'no checkpoint ran on the event loop');
  });

  it('under continuous writes the WAL stays near its limit instead of growing with the data', { timeout: 60_000 }, async (t) => {
    const f = fixture(t);
    const { store, alice, general } = await seeded(f.dataPath, { checkpoints: { pollMs: 5, maxWalBytes: 256 * 1024 } });
    t.after(() => store.close());
    const body = new Uint8Array(2000);
    let maxWalBytes = 0;
    // About 16 MB of rows, never pausing between batches for long (without the catch-up: a 60 MB WAL).
    for (let batch = 0; batch < 400; batch++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.appendMessage({ convId: general.id, senderId: alice.id, ts: i, body })));
      maxWalBytes = Math.max(maxWalBytes, statSync(`${f.file}-wal`).size);
    }
    assert.ok(maxWalBytes < 8 * 1024 * 1024, `the WAL reached ${maxWalBytes} bytes`);
    assert.equal((await store.getConversation(general.id))?.head, 8000);
  });

  it('a checkpoint worker that dies is restarted, and after repeated deaths SQLite checkpoints on the main connection', async (t) => {
    const f = fixture(t);
    const { store, alice, general } = await seeded(f.dataPath);
    t.after(() => store.close());
    // Reaching into the private worker is the only way to simulate its crash.
    const checkpointer = (store as unknown as { checkpointer: { worker: { terminate(): Promise<number> } } }).checkpointer;
    await checkpointer.worker.terminate();
    await store.appendMessage({ convId: general.id, senderId: alice.id, ts: 1, body: new Uint8Array([1]) });
    const before = store.stats().checkpoints;
    await store.checkpoint('TRUNCATE');
    assert.ok(store.stats().checkpoints > before);
    assert.equal(store.stats().mainThreadCheckpoints, 0, 'the restarted worker ran it');
    assert.equal(readAll(`${f.file}-wal`).length, 0, 'the restarted worker truncated the WAL');
    assert.equal(store.settings().walAutocheckpoint, 0);
    for (let i = 0; i < 3; i++) await checkpointer.worker.terminate();
    assert.equal(store.settings().walAutocheckpoint, 1000, 'fell back to SQLite checkpointing after the commit');
    await store.appendMessage({ convId: general.id, senderId: alice.id, ts: 2, body: new Uint8Array([2]) });
    await store.checkpoint('TRUNCATE');
    assert.equal(readAll(`${f.file}-wal`).length, 0, 'explicit checkpoints run on the main connection');
  });

  it('a second connection (the CLI) can write while the server holds the store open', async (t) => {
    const f = fixture(t);
    const server = await seeded(f.dataPath);
    t.after(() => server.store.close());
    const cli = await openStore({ dataPath: f.dataPath });
    t.after(() => cli.close());
    const now = Date.now();
    const inv = { tokenHash: 'ab'.repeat(32), kind: 'invite' as const, serverId: server.server.id, createdBy: server.alice.id, createdAt: now, expiresAt: now + 60_000, usedAt: null };
    const appends = Array.from({ length: 100 }, (_, i) => server.store.appendMessage({ convId: server.general.id, senderId: server.alice.id, ts: i, body: new Uint8Array([i]) }));
    await cli.createInvite(inv);
    await Promise.all(appends);
    assert.deepEqual(await server.store.getUsableInvite(inv.tokenHash, now), inv);
    assert.equal(await server.store.consumeInvite(inv.tokenHash, now), true);
    assert.equal(await cli.consumeInvite(inv.tokenHash, now), false);
    assert.equal((await cli.messagesAfter(server.general.id, 0, 1000)).length, 100);
  });

  /** Runs the writer fixture to its natural end (a 20 s guard kills a hang) and returns its stdout. */
  async function runWriter(t: { after(fn: () => void): void }, args: string[]): Promise<string> {
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    t.after(() => clearTimeout(guard));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.equal(signal, null, 'exited on its own, not killed by the guard');
    assert.equal(code, 0);
    return out.trim();
  }

  it("an open store does not keep the process alive (the checkpoint worker is unref'd)", async (t) => {
    const f = fixture(t);
    const { store, alice, general } = await seeded(f.dataPath);
    await store.close();
    assert.equal(await runWriter(t, [f.dataPath, general.id, alice.id, '--once']), 'A 1');
  });

  it('regression: appends queued while the checkpointer pauses commits finish even when nothing else holds the loop', async (t) => {
    const f = fixture(t);
    const { store, alice, general } = await seeded(f.dataPath);
    await store.close();
    assert.equal(await runWriter(t, [f.dataPath, general.id, alice.id, '--burst']), 'B 3000 true');
  });

  it('every acknowledged message survives SIGKILL of the writing process', async (t) => {
    const f = fixture(t);
    const { store, alice, general } = await seeded(f.dataPath);
    await store.close();
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, f.dataPath, general.id, alice.id], { stdio: ['ignore', 'pipe', 'inherit'] });
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    t.after(() => clearTimeout(guard));
    const exited = once(child, 'exit');
    const acked: number[] = [];
    let partial = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        const lines = (partial + d.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('A ')) acked.push(Number(line.slice(2)));
        if (acked.length >= 500 && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    const [, signal] = (await exited) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL');

    const reopened = await openStore({ dataPath: f.dataPath });
    t.after(() => reopened.close());
    const head = (await reopened.getConversation(general.id))!.head;
    const maxAcked = Math.max(...acked);
    assert.ok(head >= maxAcked, `head ${head} covers every acked seq (max ${maxAcked})`);
    const stored = new Set<number>();
    for (let after = 0; ; ) {
      const page = await reopened.messagesAfter(general.id, after, 1000);
      if (page.length === 0) break;
      for (const m of page) stored.add(m.seq);
      after = page[page.length - 1].seq;
    }
    assert.equal(stored.size, head, 'seqs 1..head, no gap');
    for (const seq of acked) assert.ok(stored.has(seq), `acked seq ${seq} is stored`);
  });
});
