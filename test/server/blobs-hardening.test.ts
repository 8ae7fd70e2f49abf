// Attachment uploads under stress, over the real server and SQLite on disk: two final PUTs racing never destroy the stored blob, and a full disk (a real 1 MiB tmpfs) is 507 with the temp file gone, not a dropped connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createWorld } from '../helpers/direct.ts';
import { requirementsSkip } from '../helpers/requires.ts';
import type { BlobRecord } from '../../src/store/blob-types.ts';

async function call(server: TestServer, cookie: string, method: string, path: string, init: { body?: Uint8Array | string; headers?: Record<string, string> } = {}) {
  const res = await fetch(server.url + path, { method, headers: { cookie, ...init.headers }, body: init.body as BodyInit | undefined });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = (res.headers.get('content-type') ?? '').includes('application/json') && bytes.length ? JSON.parse(bytes.toString('utf8')) : undefined;
  return { status: res.status, bytes, json };
}

async function createBlob(server: TestServer, cookie: string, conv: string, size: number): Promise<string> {
  const r = await call(server, cookie, 'POST', '/api/blobs', { body: JSON.stringify({ conv, size }), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.id as string;
}

function put(server: TestServer, cookie: string, id: string, bytes: Uint8Array, offset = 0) {
  return call(server, cookie, 'PUT', `/api/blobs/${id}?offset=${offset}`, { body: bytes, headers: { 'content-type': 'application/octet-stream' } });
}

test('two final PUTs at once: the one that read "uploading" before the other finished does not overwrite the stored blob', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const size = 200_000;
  const id = await createBlob(server, w.alice.cookie, w.general, size);
  const first = randomBytes(size);
  const second = randomBytes(size);

  // Hold the slow PUT right after its first read of the row (it saw "uploading"), until the other
  // PUT has stored the blob: the interleaving of two phones retrying the last piece at once.
  const blobs = server.store.blobs;
  const realGet = blobs.get.bind(blobs);
  let held = false;
  let slowRead!: () => void;
  const slowHasRead = new Promise<void>((resolve) => (slowRead = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  blobs.get = async (blobId: string): Promise<BlobRecord | null> => {
    const row = await realGet(blobId);
    if (blobId === id && !held) {
      held = true;
      slowRead();
      await released;
    }
    return row;
  };
  t.after(() => void (blobs.get = realGet));

  const slow = put(server, w.alice.cookie, id, second);
  await slowHasRead;
  const fast = await put(server, w.alice.cookie, id, first);
  assert.equal(fast.status, 200, JSON.stringify(fast.json));
  assert.equal(fast.json.complete, true);
  release();
  const late = await slow;
  assert.equal(late.status, 200, JSON.stringify(late.json));
  assert.deepEqual(late.json, { id, size, received: size, complete: true });

  const got = await call(server, w.bob.cookie, 'GET', `/api/blobs/${id}`);
  assert.equal(got.status, 200);
  assert.ok(got.bytes.equals(first), 'the stored ciphertext is the one that completed first, intact');
  assert.deepEqual(readdirSync(join(server.dir, 'blobs', 'tmp')), []);
  assert.equal((await realGet(id))?.state, 'stored');
});

const tmpfsSkip = requirementsSkip([], { root: true });

test('a full disk while uploading is 507 (server_disk_full), the temp file is removed, and the server carries on', { skip: tmpfsSkip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-enospc-'));
  const blobDir = join(dir, 'blobs');
  mkdirSync(blobDir, { mode: 0o700 });
  // Only the blob folder (final and temp files: one file system, so the rename works) is the tiny disk; SQLite stays on the real one.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', blobDir]);
  let server: TestServer | undefined;
  t.after(async () => {
    await server?.close();
    execFileSync('umount', [blobDir]);
    rmSync(dir, { recursive: true, force: true });
  });
  server = await startTestServer({}, { dir });
  const w = await createWorld(server);

  const size = 3 * 1024 * 1024;
  const id = await createBlob(server, w.alice.cookie, w.general, size);
  const full = await put(server, w.alice.cookie, id, randomBytes(size));
  assert.equal(full.status, 507, JSON.stringify(full.json));
  assert.equal(full.json.error.code, 'UPLOAD_QUOTA_EXCEEDED');
  assert.equal(full.json.error.reason, 'server_disk_full');
  assert.match(full.json.error.message, /disk is full/);
  assert.deepEqual(readdirSync(join(blobDir, 'tmp')), [], 'nothing half-stored stays on the full disk');
  assert.deepEqual(readdirSync(blobDir), ['tmp']);
  const resume = await call(server, w.alice.cookie, 'GET', `/api/blobs/${id}/upload`);
  assert.deepEqual(resume.json, { id, size, received: 0, complete: false });

  // The space is free again: an attachment that fits goes through byte for byte.
  const small = randomBytes(300_000);
  const ok = await createBlob(server, w.alice.cookie, w.general, small.length);
  const stored = await put(server, w.alice.cookie, ok, small);
  assert.equal(stored.status, 200, JSON.stringify(stored.json));
  assert.equal(stored.json.complete, true);
  const got = await call(server, w.bob.cookie, 'GET', `/api/blobs/${ok}`);
  assert.ok(got.bytes.equals(small));
});
