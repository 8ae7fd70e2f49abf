// SQLite MLS tables on disk: the MlsStore contract, migration 3 on a version-2 database, and that consumed KeyPackages, picked-up Welcomes and overwritten backups leave no bytes in the file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { databaseFile, openStore } from '../../src/store/index.ts';
import { migrations } from '../../src/store/sqlite/migrations/index.ts';
import { runMlsStoreContract } from './mls-contract.ts';

function tempDir(t?: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-mls-store-'));
  t?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

runMlsStoreContract('sqlite', async () => {
  const dir = tempDir();
  const store = await openStore({ dataPath: join(dir, 'data') });
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

function readAll(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  }
}

describe('SQLite MLS tables', () => {
  it('migration 3 upgrades a version-2 database', async (t) => {
    const dataPath = join(tempDir(t), 'data');
    mkdirSync(dataPath, { recursive: true });
    const old = new Database(databaseFile(dataPath));
    for (const m of migrations.filter((m) => m.version <= 2)) old.exec(m.sql);
    old.pragma('user_version = 2');
    old.close();
    const store = await openStore({ dataPath });
    t.after(() => store.close());
    const u = await store.createUser({ username: 'alice', role: 'owner', salt: randomBytes(16), iterations: 600_000, verifier: 'v' });
    assert.deepEqual(await store.mls.putBackup({ userId: u.id, kind: 'account-key', expectedVersion: 0, data: new Uint8Array([1]), now: 1 }), { ok: true, version: 1 });
  });

  it('a handed-out KeyPackage, a picked-up Welcome and an overwritten archive are gone from the database file and its WAL', async (t) => {
    const dataPath = join(tempDir(t), 'data');
    const store = await openStore({ dataPath });
    const u = await store.createUser({ username: 'alice', role: 'owner', salt: randomBytes(16), iterations: 600_000, verifier: 'v' });
    const sessionHash = randomBytes(32).toString('hex');
    await store.createSession({ tokenHash: sessionHash, userId: u.id, createdAt: Date.now(), expiresAt: Date.now() + 60_000 });
    const device = await store.mls.registerDevice({ userId: u.id, sessionHash, label: 'l', certificate: new Uint8Array([1]), rebindHash: 'h', maxDevices: 4, now: 1 });
    const kp = `KEYPACKAGE-CANARY-${randomBytes(8).toString('hex')}`;
    const welcome = `WELCOME-CANARY-${randomBytes(8).toString('hex')}`;
    const oldArchive = `ARCHIVE-V1-CANARY-${randomBytes(8).toString('hex')}`;
    await store.mls.addKeyPackages({ deviceId: device.id, oneTime: [Buffer.from(kp)], lastResort: null, maxOneTime: 10, now: 1 });
    await store.mls.putBackup({ userId: u.id, kind: 'archive', expectedVersion: 0, data: Buffer.from(oldArchive), now: 1 });
    await store.mls.putBackup({ userId: u.id, kind: 'archive', expectedVersion: 1, data: Buffer.from('v2'), now: 2 });
    const conv = (await store.createGroup({ name: 'g', createdBy: u.id, memberIds: [u.id] })).id;
    await store.mls.createGroup(conv, 1);
    const r = await store.mls.appendCommit({ convId: conv, epoch: 0, senderDeviceId: device.id, data: new Uint8Array([7]), ts: 2, welcome: { data: Buffer.from(welcome), deviceIds: [device.id] } });
    assert.ok(r.accepted && r.welcomeId);
    assert.equal(Buffer.from((await store.mls.claimKeyPackages([device.id]))[0].data).toString(), kp);
    assert.equal(await store.mls.ackWelcome(device.id, r.welcomeId), true);
    await store.close();
    const file = databaseFile(dataPath);
    const bytes = Buffer.concat([readAll(file), readAll(`${file}-wal`)]);
    assert.equal(bytes.includes(Buffer.from(kp)), false, 'KeyPackage bytes left on disk');
    assert.equal(bytes.includes(Buffer.from(welcome)), false, 'Welcome bytes left on disk');
    assert.equal(bytes.includes(Buffer.from(oldArchive)), false, 'an overwritten archive left on disk');
  });

  it('revoking the only addressee deletes the Welcome row too', async (t) => {
    const dataPath = join(tempDir(t), 'data');
    const store = await openStore({ dataPath });
    t.after(() => store.close());
    const u = await store.createUser({ username: 'alice', role: 'owner', salt: randomBytes(16), iterations: 600_000, verifier: 'v' });
    const sessionHash = randomBytes(32).toString('hex');
    await store.createSession({ tokenHash: sessionHash, userId: u.id, createdAt: Date.now(), expiresAt: Date.now() + 60_000 });
    const device = await store.mls.registerDevice({ userId: u.id, sessionHash, label: 'l', certificate: new Uint8Array([1]), rebindHash: 'h', maxDevices: 4, now: 1 });
    const conv = (await store.createGroup({ name: 'g', createdBy: u.id, memberIds: [u.id] })).id;
    await store.mls.createGroup(conv, 1);
    await store.mls.appendCommit({ convId: conv, epoch: 0, senderDeviceId: device.id, data: new Uint8Array([7]), ts: 2, welcome: { data: new Uint8Array([9]), deviceIds: [device.id] } });
    await store.mls.deleteDevice({ deviceId: device.id, userId: u.id, convIds: [conv], now: 3 });
    const db = (store as unknown as { mls: { db: Database.Database } }).mls.db;
    assert.equal((db.prepare('SELECT count(*) AS n FROM mls_welcomes').get() as { n: number }).n, 0);
    assert.equal((db.prepare('SELECT count(*) AS n FROM mls_commits').get() as { n: number }).n, 1, 'the commit stays in the log');
  });
});
