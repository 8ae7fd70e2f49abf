// Attachments over the real server and SQLite on disk: upload/download byte for byte with Range, limits (413/507/429), non-member ≡ missing, resumable pieces, attach on send, deletion with the message and by the orphan sweep, and nothing but ciphertext on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { b64, connect, createWorld, type WsClient } from '../helpers/direct.ts';
import { UPLOADS_PER_MINUTE, blobServiceOf } from '../../src/server/blobs/service.ts';
import { ORPHAN_TTL_MS } from '../../src/server/blobs/sweeper.ts';
import { ciphertextSize, decryptBytes, encryptBytes, newFileKey } from '../../web-client/src/crypto/file-chunks.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };

interface Upload {
  id: string;
  size: number;
  received: number;
  complete: boolean;
}

async function call(server: TestServer, cookie: string | null, method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string> } = {}) {
  const res = await fetch(server.url + path, { method, headers: { ...(cookie ? { cookie } : {}), ...init.headers }, body: init.body });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = Buffer.from(bytes).toString('utf8');
  const json = (res.headers.get('content-type') ?? '').includes('application/json') && text ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, bytes, text, json };
}

async function create(server: TestServer, cookie: string, conv: string, size: number) {
  return call(server, cookie, 'POST', '/api/blobs', { body: JSON.stringify({ conv, size }), headers: JSON_HEADERS });
}

async function put(server: TestServer, cookie: string, id: string, bytes: Uint8Array, offset = 0, headers: Record<string, string> = {}) {
  return call(server, cookie, 'PUT', `/api/blobs/${id}?offset=${offset}`, { body: bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/octet-stream', ...headers } });
}

/** Creates an upload and sends `bytes` in pieces; returns the blob id. */
async function upload(server: TestServer, cookie: string, conv: string, bytes: Uint8Array, pieceBytes = 1 << 20): Promise<string> {
  const created = await create(server, cookie, conv, bytes.length);
  assert.equal(created.status, 201, created.text);
  const id = (created.json as Upload).id;
  for (let o = 0; o < bytes.length; o += pieceBytes) {
    const r = await put(server, cookie, id, bytes.subarray(o, o + pieceBytes), o);
    assert.equal(r.status, 200, r.text);
    assert.equal((r.json as Upload).complete, o + pieceBytes >= bytes.length);
  }
  return id;
}

async function sendWith(ws: WsClient, conv: string, ref: string, blobIds: string[]) {
  ws.send({ t: 'send', ref, conv, body: b64(`message ${ref}`), blobIds });
  return ws.next((f) => (f.t === 'ack' || f.t === 'error') && f.ref === ref);
}

function blobFiles(server: TestServer): { stored: string[]; temps: string[] } {
  const dir = join(server.dir, 'blobs');
  return {
    stored: readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name),
    temps: readdirSync(join(dir, 'tmp')),
  };
}

/** Shannon entropy of the byte distribution, bits per byte. */
function entropy(bytes: Uint8Array): number {
  const counts = new Array<number>(256).fill(0);
  for (const b of bytes) counts[b]++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / bytes.length) * Math.log2(c / bytes.length);
  return h;
}

/** Response headers that must be the same for two answers (the date may tick). */
function comparable(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => {
    if (k !== 'date') out[k] = v;
  });
  return out;
}

test('a blob round-trips byte for byte, as a sandboxed attachment, with Range requests', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const bytes = randomBytes(300_000);
  const id = await upload(server, w.alice.cookie, w.general, bytes, 100_000);
  assert.deepEqual(readFileSync(join(server.dir, 'blobs', id)), bytes, 'the file on disk is the ciphertext as sent');

  const got = await call(server, w.bob.cookie, 'GET', `/api/blobs/${id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(Buffer.from(got.bytes), bytes);
  assert.equal(got.headers.get('content-type'), 'application/octet-stream');
  assert.equal(got.headers.get('content-disposition'), 'attachment');
  assert.equal(got.headers.get('content-security-policy'), "default-src 'none'; sandbox; frame-ancestors 'none'");
  assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(got.headers.get('accept-ranges'), 'bytes');
  assert.equal(got.headers.get('cache-control'), 'no-store');
  assert.equal(got.headers.get('content-length'), String(bytes.length));

  const part = await call(server, w.bob.cookie, 'GET', `/api/blobs/${id}`, { headers: { range: 'bytes=65552-131103' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 65552-131103/${bytes.length}`);
  assert.deepEqual(Buffer.from(part.bytes), bytes.subarray(65552, 131104));
  assert.equal(part.headers.get('content-security-policy'), "default-src 'none'; sandbox; frame-ancestors 'none'");
  const open = await call(server, w.bob.cookie, 'GET', `/api/blobs/${id}`, { headers: { range: 'bytes=299990-' } });
  assert.deepEqual(Buffer.from(open.bytes), bytes.subarray(299_990));
  const suffix = await call(server, w.bob.cookie, 'GET', `/api/blobs/${id}`, { headers: { range: 'bytes=-7' } });
  assert.equal(suffix.status, 206);
  assert.deepEqual(Buffer.from(suffix.bytes), bytes.subarray(bytes.length - 7));
  const beyond = await call(server, w.bob.cookie, 'GET', `/api/blobs/${id}`, { headers: { range: 'bytes=300000-' } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`);

  const anonymous = await call(server, null, 'GET', `/api/blobs/${id}`);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.json.error.code, 'UNAUTHENTICATED');
});

test('a non-member gets byte for byte the answer for a blob that does not exist', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const id = await upload(server, w.alice.cookie, w.dm, randomBytes(1000));
  const theirs = await call(server, w.carol.cookie, 'GET', `/api/blobs/${id}`);
  const missing = await call(server, w.carol.cookie, 'GET', `/api/blobs/${'A'.repeat(22)}`);
  assert.equal(theirs.status, 404);
  assert.equal(theirs.json.error.code, 'BLOB_NOT_FOUND');
  assert.deepEqual([theirs.status, theirs.text, comparable(theirs.headers)], [missing.status, missing.text, comparable(missing.headers)]);
  // Someone else's upload cannot be written to, inspected or cancelled either, in the same words.
  for (const [method, path] of [['GET', `/api/blobs/${id}/upload`], ['DELETE', `/api/blobs/${id}`]] as const) {
    const a = await call(server, w.bob.cookie, method, path);
    const b = await call(server, w.bob.cookie, method, path.replace(id, 'A'.repeat(22)));
    assert.deepEqual([a.status, a.text], [b.status, b.text], `${method} ${path}`);
    assert.equal(a.json.error.code, 'BLOB_NOT_FOUND');
  }
  const pending = (await create(server, w.alice.cookie, w.dm, 10)).json as Upload;
  const foreignPut = await put(server, w.bob.cookie, pending.id, new Uint8Array(10));
  assert.equal(foreignPut.json.error.code, 'BLOB_NOT_FOUND');
  assert.equal(blobFiles(server).temps.length, 0, 'nothing was written for the foreign PUT');
  // A blob still uploading is not downloadable, even by its uploader.
  assert.equal((await call(server, w.alice.cookie, 'GET', `/api/blobs/${pending.id}`)).status, 404);
  // Uploading needs membership of the conversation: a non-member gets the conversation's NOT_FOUND.
  const outsider = await create(server, w.carol.cookie, w.dm, 10);
  assert.equal(outsider.status, 404);
  assert.equal(outsider.json.error.code, 'NOT_FOUND');
});

test('one byte over the size limit is 413 BLOB_TOO_LARGE and leaves nothing stored', async (t) => {
  const max = 200_000;
  const server = await startTestServer({ limits: { maxUploadBytes: max } });
  t.after(() => server.close());
  const w = await createWorld(server);
  const declared = await create(server, w.alice.cookie, w.general, max + 1);
  assert.equal(declared.status, 413);
  assert.equal(declared.json.error.code, 'BLOB_TOO_LARGE');
  assert.equal(declared.json.error.maxBytes, max);

  // Declared within the limit, then one byte more sent: refused, the temp file and the row removed.
  const ok = (await create(server, w.alice.cookie, w.general, max)).json as Upload;
  const first = await put(server, w.alice.cookie, ok.id, randomBytes(100_000), 0);
  assert.equal(first.status, 200);
  assert.equal(blobFiles(server).temps.length, 1);
  const over = await put(server, w.alice.cookie, ok.id, randomBytes(max - 100_000 + 1), 100_000);
  assert.equal(over.status, 413);
  assert.equal(over.json.error.code, 'BLOB_TOO_LARGE');
  assert.equal(await server.store.blobs.get(ok.id), null, 'the upload is gone');
  assert.deepEqual(blobFiles(server), { stored: [], temps: [] }, 'no file, no temp file');
  assert.equal(await server.store.blobs.usedBytes(w.alice.user.id), 0, 'no quota held');

  // Exactly the limit is fine.
  const exact = await upload(server, w.alice.cookie, w.general, randomBytes(max));
  assert.equal((await call(server, w.bob.cookie, 'GET', `/api/blobs/${exact}`)).bytes.length, max);
});

test('a chunked body (no Content-Length) that runs past the declared size is 413 and leaves no temp file', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const up = (await create(server, w.alice.cookie, w.general, 5000)).json as Upload;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 6; i++) controller.enqueue(new Uint8Array(1000));
      controller.close();
    },
  });
  const res = await fetch(`${server.url}/api/blobs/${up.id}?offset=0`, {
    method: 'PUT',
    headers: { cookie: w.alice.cookie, 'content-type': 'application/octet-stream' },
    body,
    duplex: 'half',
  } as RequestInit);
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BLOB_TOO_LARGE');
  assert.deepEqual(blobFiles(server), { stored: [], temps: [] });
  assert.equal(await server.store.blobs.get(up.id), null);
});

test('the per-user quota: an upload that would exceed it is 507 UPLOAD_QUOTA_EXCEEDED, reserved up front', async (t) => {
  const server = await startTestServer({ limits: { maxUploadBytes: 4096, uploadQuotaBytes: 10_000 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  await upload(server, w.alice.cookie, w.general, randomBytes(4000));
  // Still uploading counts too: nobody can start many uploads and overshoot the quota.
  const pending = await create(server, w.alice.cookie, w.general, 4000);
  assert.equal(pending.status, 201);
  const full = await create(server, w.alice.cookie, w.general, 2001);
  assert.equal(full.status, 507);
  assert.equal(full.json.error.code, 'UPLOAD_QUOTA_EXCEEDED');
  assert.deepEqual([full.json.error.quotaBytes, full.json.error.usedBytes], [10_000, 8000]);
  const limits = await call(server, w.alice.cookie, 'GET', '/api/blobs/limits');
  assert.deepEqual(limits.json, { maxUploadBytes: 4096, quotaBytes: 10_000, usedBytes: 8000, photoMaxDimension: 2560 });
  // The quota is per user; cancelling an unsent upload gives its bytes back.
  assert.equal((await create(server, w.bob.cookie, w.general, 4000)).status, 201);
  assert.equal((await call(server, w.alice.cookie, 'DELETE', `/api/blobs/${(pending.json as Upload).id}`)).status, 204);
  assert.equal((await create(server, w.alice.cookie, w.general, 2001)).status, 201);
});

test('uploads resume: a piece retried at an earlier offset overwrites, a gap is 409 UPLOAD_OFFSET, a repeated last piece is idempotent', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const bytes = randomBytes(250_000);
  const up = (await create(server, w.alice.cookie, w.group, bytes.length)).json as Upload;
  assert.equal((await put(server, w.alice.cookie, up.id, bytes.subarray(0, 100_000), 0)).json.received, 100_000);
  // Garbage written past 60,000 by a piece the client is unsure of gets replaced by the retry.
  assert.equal((await put(server, w.alice.cookie, up.id, randomBytes(90_000), 60_000)).json.received, 150_000);
  const status = await call(server, w.alice.cookie, 'GET', `/api/blobs/${up.id}/upload`);
  assert.deepEqual(status.json, { id: up.id, size: bytes.length, received: 150_000, complete: false });
  const gap = await put(server, w.alice.cookie, up.id, bytes.subarray(200_000), 200_000);
  assert.equal(gap.status, 409);
  assert.equal(gap.json.error.code, 'UPLOAD_OFFSET');
  assert.equal(gap.json.error.received, 150_000);
  assert.equal((await put(server, w.alice.cookie, up.id, bytes.subarray(60_000), 60_000)).json.complete, true);
  const again = await put(server, w.alice.cookie, up.id, bytes.subarray(60_000), 60_000);
  assert.deepEqual(again.json, { id: up.id, size: bytes.length, received: bytes.length, complete: true });
  assert.deepEqual(Buffer.from((await call(server, w.bob.cookie, 'GET', `/api/blobs/${up.id}`)).bytes), bytes);
  assert.deepEqual(blobFiles(server).temps, []);
});

/** Starts a PUT of `total` bytes, sends `first` of them and keeps the request open. */
function openPiece(server: TestServer, cookie: string, id: string, offset: number, total: number, first: Uint8Array): ClientRequest {
  const req = request(`${server.url}/api/blobs/${id}?offset=${offset}`, {
    method: 'PUT',
    headers: { cookie, 'content-type': 'application/octet-stream', 'content-length': String(total) },
  });
  req.on('error', () => {});
  req.write(first);
  return req;
}

/** Waits until the server holds at least `bytes` of the upload's temp file. */
async function untilTempHolds(server: TestServer, id: string, bytes: number): Promise<void> {
  const file = join(server.dir, 'blobs', 'tmp', id);
  const deadline = Date.now() + 10_000;
  // Poll: the write happens in the server's own time, with no event the test can await.
  while (!(existsSync(file) && statSync(file).size >= bytes)) {
    assert.ok(Date.now() < deadline, `the server wrote ${bytes} bytes`);
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
  }
}

test('a piece is written as it arrives (streamed, not buffered), a cut keeps what arrived; a second writer or a cancel meanwhile is 409 UPLOAD_BUSY', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const bytes = randomBytes(500_000);
  const up = (await create(server, w.alice.cookie, w.general, bytes.length)).json as Upload;
  const piece = openPiece(server, w.alice.cookie, up.id, 0, bytes.length, bytes.subarray(0, 200_000));
  // The request is still open (300,000 bytes to go): a server that buffered the body would have written nothing.
  await untilTempHolds(server, up.id, 200_000);
  const second = await put(server, w.alice.cookie, up.id, bytes.subarray(0, 10), 0);
  assert.equal(second.status, 409);
  assert.equal(second.json.error.code, 'UPLOAD_BUSY');
  assert.equal((await call(server, w.alice.cookie, 'DELETE', `/api/blobs/${up.id}`)).json.error.code, 'UPLOAD_BUSY');
  const service = blobServiceOf(server.store)!;
  piece.destroy();
  const deadline = Date.now() + 10_000;
  // The server notices the cut when the socket closes; then the upload is free again.
  while (service.active.has(up.id)) {
    assert.ok(Date.now() < deadline, 'the cut piece was released');
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
  }
  const status = (await call(server, w.alice.cookie, 'GET', `/api/blobs/${up.id}/upload`)).json as Upload;
  assert.equal(status.received, 200_000, 'what arrived before the cut is kept');
  assert.equal((await put(server, w.alice.cookie, up.id, bytes.subarray(status.received), status.received)).json.complete, true);
  assert.deepEqual(Buffer.from((await call(server, w.bob.cookie, 'GET', `/api/blobs/${up.id}`)).bytes), bytes);
});

test('uploads refuse a typed body, and a user creating too many is 429 RATE_LIMITED with Retry-After', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const up = (await create(server, w.alice.cookie, w.general, 10)).json as Upload;
  const typed = await call(server, w.alice.cookie, 'PUT', `/api/blobs/${up.id}`, { body: new Uint8Array(10), headers: { 'content-type': 'image/jpeg' } });
  assert.equal(typed.status, 415);
  assert.equal(typed.json.error.code, 'BLOB_CONTENT_TYPE');
  const untyped = await call(server, w.alice.cookie, 'PUT', `/api/blobs/${up.id}`, { body: new Uint8Array(10) as Uint8Array<ArrayBuffer> });
  assert.equal(untyped.json.error.code, 'BLOB_CONTENT_TYPE');
  assert.equal(blobFiles(server).temps.length, 0, 'nothing written for a refused body');
  // The bucket refills one upload per second meanwhile, so a few more than the burst may pass.
  let accepted = 1;
  let limited = await create(server, w.alice.cookie, w.general, 10);
  while (limited.status === 201 && accepted < UPLOADS_PER_MINUTE + 20) {
    accepted++;
    limited = await create(server, w.alice.cookie, w.general, 10);
  }
  assert.ok(accepted >= UPLOADS_PER_MINUTE, `${accepted} uploads before the limit`);
  assert.equal(limited.status, 429);
  assert.equal(limited.json.error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal((await create(server, w.bob.cookie, w.general, 10)).status, 201, 'per user, not global');
});

test('sending attaches blobs: only the sender\'s stored, unsent blobs of that conversation; a resend is idempotent', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const alice = await connect(server, w.alice.cookie);
  t.after(() => alice.close());
  const photo = await upload(server, w.alice.cookie, w.general, randomBytes(5000));
  const thumb = await upload(server, w.alice.cookie, w.general, randomBytes(500));
  const bobs = await upload(server, w.bob.cookie, w.general, randomBytes(500));
  const elsewhere = await upload(server, w.alice.cookie, w.dm, randomBytes(500));
  const unfinished = ((await create(server, w.alice.cookie, w.general, 500)).json as Upload).id;

  for (const [ref, ids] of [['bob', [bobs]], ['dm', [elsewhere]], ['partial', [unfinished]], ['missing', ['A'.repeat(22)]], ['mixed', [photo, bobs]]] as const) {
    const r = await sendWith(alice, w.general, ref, [...ids]);
    assert.equal(r.t, 'error', ref);
    assert.equal((r as { code: string }).code, 'BLOB_NOT_ATTACHABLE', ref);
  }
  assert.equal((await server.store.messagesAfter(w.general, 0, 10)).length, 0, 'refused sends stored nothing');
  assert.equal((await server.store.blobs.get(photo))?.msgRef, null, 'a refused send claims nothing (all or nothing)');

  const ack = await sendWith(alice, w.general, 'm1', [photo, thumb, photo]);
  assert.equal(ack.t, 'ack');
  const seq = (ack as { seq: number }).seq;
  assert.equal((await server.store.blobs.get(photo))?.msgSeq, seq);
  assert.equal((await server.store.blobs.get(thumb))?.msgSeq, seq);
  const resent = await sendWith(alice, w.general, 'm1', [photo, thumb]);
  assert.deepEqual([resent.t, (resent as { seq: number }).seq], ['ack', seq], 'the same ref resent is acked with the same seq');
  const twice = await sendWith(alice, w.general, 'm2', [photo]);
  assert.equal((twice as { code: string }).code, 'BLOB_NOT_ATTACHABLE', 'a sent blob cannot go into a second message');
  assert.equal((await call(server, w.alice.cookie, 'DELETE', `/api/blobs/${photo}`)).status, 403, 'a sent blob goes with its message only');
});

test('a blob is deleted (file unlinked) with its message by retention; others stay', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const alice = await connect(server, w.alice.cookie);
  t.after(() => alice.close());
  const old = await upload(server, w.alice.cookie, w.general, randomBytes(3000));
  const oldAck = (await sendWith(alice, w.general, 'old', [old])) as { t: string; ts: number };
  assert.equal(oldAck.t, 'ack');
  const cutoff = oldAck.ts + 1;
  // A message stored after the cutoff keeps its blob: wait for the clock to pass it.
  while (Date.now() < cutoff) await new Promise<void>((resolve) => setImmediate(resolve));
  const fresh = await upload(server, w.alice.cookie, w.general, randomBytes(3000));
  assert.equal((await sendWith(alice, w.general, 'fresh', [fresh])).t, 'ack');
  assert.ok(existsSync(join(server.dir, 'blobs', old)));

  const service = blobServiceOf(server.store);
  assert.ok(service, 'the app runs a blob service');
  assert.equal(await server.store.purgeMessagesBefore(cutoff), 1);
  await service.sweeper.idle();
  assert.equal(existsSync(join(server.dir, 'blobs', old)), false, 'the file is unlinked');
  assert.equal(await server.store.blobs.get(old), null, 'the row went with its message');
  assert.equal((await call(server, w.bob.cookie, 'GET', `/api/blobs/${old}`)).status, 404);
  assert.equal((await call(server, w.bob.cookie, 'GET', `/api/blobs/${fresh}`)).status, 200);
  assert.equal(await server.store.blobs.usedBytes(w.alice.user.id), 3000, 'the deleted blob no longer counts against the quota');
});

test('the orphan sweep: uploads never sent within 24 h, unfinished uploads and stray files go; sent blobs stay', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const alice = await connect(server, w.alice.cookie);
  t.after(() => alice.close());
  const sent = await upload(server, w.alice.cookie, w.general, randomBytes(1000));
  assert.equal((await sendWith(alice, w.general, 's', [sent])).t, 'ack');
  const orphan = await upload(server, w.alice.cookie, w.general, randomBytes(1000));
  const unfinished = ((await create(server, w.alice.cookie, w.general, 1000)).json as Upload).id;
  await put(server, w.alice.cookie, unfinished, randomBytes(400));
  writeFileSync(join(server.dir, 'blobs', 'strayNoRow'), 'x');
  writeFileSync(join(server.dir, 'blobs', 'tmp', 'stray.partial'), 'x');

  const service = blobServiceOf(server.store)!;
  const early = await service.sweep();
  assert.deepEqual(early, { rows: 0, files: 1, temps: 1 }, 'young uploads stay; files without a row go now');
  assert.ok(existsSync(join(server.dir, 'blobs', 'tmp', unfinished)), 'an upload in progress keeps its temp file');

  const late = await service.sweep({ now: Date.now() + ORPHAN_TTL_MS + 1000 });
  assert.deepEqual(late, { rows: 2, files: 0, temps: 0 });
  assert.deepEqual(blobFiles(server), { stored: [sent], temps: [] });
  assert.equal(await server.store.blobs.get(orphan), null);
  assert.equal(await server.store.blobs.get(unfinished), null);
  assert.equal((await call(server, w.bob.cookie, 'GET', `/api/blobs/${sent}`)).status, 200);
});

/** A JPEG-looking file: SOI, an APP1 Exif segment with GPS and a camera serial, DCT-ish bytes, EOI. */
function fakeJpegWithExif(): Uint8Array {
  const exif = Buffer.concat([
    Buffer.from('Exif\0\0MM\0*\0\0\0\x08', 'latin1'),
    Buffer.from('GPSLatitude 48.8583 N GPSLongitude 2.2945 E Canon EOS R5 BodySerialNumber 012345678901 DateTimeOriginal 2026:11:30 14:02:11', 'latin1'),
  ]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 0xff]), exif]);
  // Low-entropy "scan data" so that only encryption can make the stored file look random.
  const scan = Buffer.alloc(400_000);
  for (let i = 0; i < scan.length; i++) scan[i] = (i * 31) % 97;
  return new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xd8]), app1, Buffer.from([0xff, 0xdb, 0x00, 0x43]), scan, Buffer.from([0xff, 0xd9])]));
}

test('on disk and in the database: only ciphertext, no magic bytes, no EXIF, ≥ 7.9 bits/byte, no file name or type', async (t) => {
  const server = await startTestServer();
  let closed = false;
  t.after(() => (closed ? rmSync(server.dir, { recursive: true, force: true }) : server.close()));
  const w = await createWorld(server);
  const jpeg = fakeJpegWithExif();
  const fk = newFileKey();
  const { ciphertext, summary } = await encryptBytes(jpeg, fk);
  assert.equal(ciphertext.length, ciphertextSize(jpeg.length));
  const created = await create(server, w.alice.cookie, w.general, ciphertext.length);
  const id = (created.json as Upload).id;
  // A careless client sending name and type headers: none of it may be kept.
  const res = await put(server, w.alice.cookie, id, ciphertext, 0, {
    'content-disposition': 'attachment; filename="eiffel-holiday-gps.jpg"',
    'x-file-name': 'eiffel-holiday-gps.jpg',
    'x-content-type': 'image/jpeg',
  });
  assert.equal(res.status, 200);

  const onDisk = readFileSync(join(server.dir, 'blobs', id));
  assert.deepEqual(onDisk, Buffer.from(ciphertext));
  for (const [what, magic] of [
    ['JPEG SOI', Buffer.from([0xff, 0xd8, 0xff])],
    ['Exif', Buffer.from('Exif')],
    ['GPS', Buffer.from('GPSLatitude')],
    ['serial', Buffer.from('012345678901')],
    ['Opus', Buffer.from('OpusHead')],
    ['Ogg', Buffer.from('OggS')],
    ['WebM/EBML', Buffer.from([0x1a, 0x45, 0xdf, 0xa3])],
  ] as const) {
    assert.equal(onDisk.indexOf(magic), -1, `no ${what} bytes in the stored blob`);
  }
  assert.ok(entropy(onDisk) >= 7.9, `entropy ${entropy(onDisk).toFixed(4)} bits/byte`);
  assert.ok(entropy(jpeg) < 7, 'the plaintext itself is not random-looking (the test can fail)');

  const got = await call(server, w.bob.cookie, 'GET', `/api/blobs/${id}`);
  assert.deepEqual(await decryptBytes(got.bytes, fk, { sha256: summary.sha256, ciphertextBytes: ciphertext.length }), jpeg);

  await server.close({ keepDir: true });
  closed = true;
  for (const name of readdirSync(server.dir).filter((n) => n.startsWith('chatroom.db'))) {
    const db = readFileSync(join(server.dir, name));
    for (const needle of ['eiffel', 'holiday', '.jpg', 'image/jpeg', 'Exif']) assert.equal(db.indexOf(needle), -1, `${name} holds no "${needle}"`);
  }
});
