// SQLite blob rows on disk: migration 4 on a version-3 database, quota reserved at creation, the claim/attach rules, rows deleted with their message, and the sweep that resolves a claim left by a crash.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { databaseFile, openStore } from '../../src/store/index.ts';
import { migrations } from '../../src/store/sqlite/migrations/index.ts';
import type { Store } from '../../src/store/types.ts';

const HOUR = 3_600_000;

async function fixture(t: { after(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-blob-store-'));
  const dataPath = join(dir, 'data');
  const store = await openStore({ dataPath });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const alice = await store.createUser({ username: 'alice', role: 'owner', salt: new Uint8Array(16), iterations: 600_000, verifier: 'v' });
  const bob = await store.createUser({ username: 'bob', role: 'member', salt: new Uint8Array(16), iterations: 600_000, verifier: 'v' });
  const group = await store.createGroup({ name: 'g', createdBy: alice.id, memberIds: [bob.id] });
  const other = await store.createGroup({ name: 'h', createdBy: alice.id, memberIds: [] });
  return { store, dataPath, alice, bob, group: group.id, other: other.id };
}

async function storedBlob(store: Store, convId: string, uploaderId: string, size = 100, now = 1000): Promise<string> {
  const b = await store.blobs.create({ convId, uploaderId, size, now, quotaBytes: 1 << 30 });
  assert.equal(await store.blobs.markStored(b.id, now), true);
  return b.id;
}

describe('SQLite blob rows', () => {
  it('migration 4 upgrades a version-3 database, and the table has no column for names, types or dimensions', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'chatroom-blob-store-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const dataPath = join(dir, 'data');
    mkdirSync(dataPath, { recursive: true });
    const old = new Database(databaseFile(dataPath));
    for (const m of migrations.filter((m) => m.version <= 3)) old.exec(m.sql);
    old.pragma('user_version = 3');
    old.close();
    const store = await openStore({ dataPath });
    t.after(() => store.close());
    const u = await store.createUser({ username: 'alice', role: 'owner', salt: new Uint8Array(16), iterations: 600_000, verifier: 'v' });
    const g = await store.createGroup({ name: 'g', createdBy: u.id, memberIds: [] });
    assert.equal((await store.blobs.create({ convId: g.id, uploaderId: u.id, size: 5, now: 1, quotaBytes: 10 })).state, 'uploading');
    const raw = new Database(databaseFile(dataPath), { readonly: true });
    t.after(() => raw.close());
    const columns = (raw.prepare('PRAGMA table_info(blobs)').all() as Array<{ name: string }>).map((c) => c.name);
    assert.deepEqual(columns, ['id', 'conv_id', 'uploader_id', 'size', 'state', 'created_at', 'stored_at', 'msg_ref', 'claimed_at', 'msg_seq']);
  });

  it('reserves the declared size against the quota at creation; a missing conversation is NOT_FOUND', async (t) => {
    const { store, alice, bob, group } = await fixture(t);
    await store.blobs.create({ convId: group, uploaderId: alice.id, size: 600, now: 1, quotaBytes: 1000 });
    await assert.rejects(store.blobs.create({ convId: group, uploaderId: alice.id, size: 401, now: 1, quotaBytes: 1000 }), {
      code: 'UPLOAD_QUOTA_EXCEEDED',
      details: { quotaBytes: 1000, usedBytes: 600 },
    });
    await store.blobs.create({ convId: group, uploaderId: alice.id, size: 400, now: 1, quotaBytes: 1000 });
    assert.equal(await store.blobs.usedBytes(alice.id), 1000);
    assert.equal(await store.blobs.usedBytes(bob.id), 0);
    await assert.rejects(store.blobs.create({ convId: 'nope', uploaderId: alice.id, size: 1, now: 1, quotaBytes: 1 << 30 }), { code: 'NOT_FOUND' });
  });

  it('claims only the sender\'s stored blobs of that conversation, all or nothing, once per ref', async (t) => {
    const { store, alice, bob, group, other } = await fixture(t);
    const mine = await storedBlob(store, group, alice.id);
    const theirs = await storedBlob(store, group, bob.id);
    const elsewhere = await storedBlob(store, other, alice.id);
    const uploading = (await store.blobs.create({ convId: group, uploaderId: alice.id, size: 9, now: 1, quotaBytes: 1 << 30 })).id;
    const claim = (ids: string[], ref = 'r1') => store.blobs.claim({ ids, convId: group, senderId: alice.id, ref, now: 2000 });
    for (const [bad, ids] of [[theirs, [mine, theirs]], [elsewhere, [elsewhere]], [uploading, [uploading]], ['missing', ['missing']]] as const) {
      assert.deepEqual(await claim([...ids]), { ok: false, blobId: bad });
    }
    assert.equal((await store.blobs.get(mine))?.msgRef, null, 'a refused claim changed nothing');
    assert.deepEqual(await claim([mine]), { ok: true });
    assert.deepEqual(await claim([mine]), { ok: true }, 'the same ref again (a resent frame)');
    assert.deepEqual(await claim([mine], 'r2'), { ok: false, blobId: mine }, 'another message cannot take it');
  });

  it('an attached row is deleted with its message (retention purge) and listeners hear of it', async (t) => {
    const { store, alice, group } = await fixture(t);
    const id = await storedBlob(store, group, alice.id);
    const kept = await storedBlob(store, group, alice.id);
    await store.blobs.claim({ ids: [id], convId: group, senderId: alice.id, ref: 'old', now: 1 });
    const m = await store.appendMessage({ convId: group, senderId: alice.id, ts: 1000, body: new Uint8Array([1]), ref: 'old' });
    await store.blobs.attach({ ids: [id], convId: group, senderId: alice.id, ref: 'old', seq: m.seq });
    await store.blobs.claim({ ids: [kept], convId: group, senderId: alice.id, ref: 'new', now: 1 });
    const n = await store.appendMessage({ convId: group, senderId: alice.id, ts: 5000, body: new Uint8Array([2]), ref: 'new' });
    await store.blobs.attach({ ids: [kept], convId: group, senderId: alice.id, ref: 'new', seq: n.seq });
    let heard = 0;
    const stop = store.blobs.onMessagesDeleted(() => heard++);
    t.after(stop);
    assert.equal(await store.purgeMessagesBefore(2000), 1);
    assert.equal(await store.blobs.get(id), null);
    assert.equal((await store.blobs.get(kept))?.msgSeq, n.seq);
    assert.equal(heard, 1);
    assert.equal(await store.purgeMessagesBefore(2000), 0);
    assert.equal(heard, 1, 'a purge that deleted nothing says nothing');
  });

  it('the sweep attaches a claim whose message committed (crash before attach), and expires orphans and abandoned uploads', async (t) => {
    const { store, alice, group } = await fixture(t);
    const now = 100 * HOUR;
    const crashed = await storedBlob(store, group, alice.id, 10, now - 30 * HOUR);
    await store.blobs.claim({ ids: [crashed], convId: group, senderId: alice.id, ref: 'c', now: now - 30 * HOUR });
    const m = await store.appendMessage({ convId: group, senderId: alice.id, ts: now, body: new Uint8Array([1]), ref: 'c' });
    const neverSent = await storedBlob(store, group, alice.id, 10, now - 30 * HOUR);
    const claimedNoMessage = await storedBlob(store, group, alice.id, 10, now - 30 * HOUR);
    await store.blobs.claim({ ids: [claimedNoMessage], convId: group, senderId: alice.id, ref: 'lost', now: now - 25 * HOUR });
    const young = await storedBlob(store, group, alice.id, 10, now - HOUR);
    const abandoned = (await store.blobs.create({ convId: group, uploaderId: alice.id, size: 10, now: now - 30 * HOUR, quotaBytes: 1 << 30 })).id;
    const uploading = (await store.blobs.create({ convId: group, uploaderId: alice.id, size: 10, now: now - HOUR, quotaBytes: 1 << 30 })).id;

    const deleted = await store.blobs.sweep({ uploadingBefore: now - 24 * HOUR, unattachedBefore: now - 24 * HOUR });
    assert.deepEqual(new Set(deleted), new Set([neverSent, claimedNoMessage, abandoned]));
    assert.equal((await store.blobs.get(crashed))?.msgSeq, m.seq, 'the claim was resolved from the stored message');
    assert.ok(await store.blobs.get(young));
    assert.ok(await store.blobs.get(uploading));
    assert.deepEqual(await store.blobs.storedAmong([crashed, young, uploading, 'x']), new Set([crashed, young]));
    assert.deepEqual(await store.blobs.uploadingAmong([crashed, young, uploading]), new Set([uploading]));
    // Attached rows are never orphans, however old.
    assert.deepEqual(await store.blobs.sweep({ uploadingBefore: now * 10, unattachedBefore: now * 10 }).then((d) => d.includes(crashed)), false);
  });
});
