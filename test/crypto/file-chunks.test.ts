// web-client/src/crypto/file-chunks.ts: chunked AES-256-GCM round trips, a golden vector, and any truncation, reordering, duplication or bit flip rejected (property tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  CHUNK_CIPHER_BYTES,
  CHUNK_PLAIN_BYTES,
  FileChunkError,
  chunkByteRange,
  chunkCount,
  ciphertextSize,
  decryptBytes,
  decryptChunkAt,
  decryptFile,
  encryptBlob,
  encryptBytes,
  encryptFile,
  newFileKey,
  plaintextSize,
  type FileKey,
} from '../../web-client/src/crypto/file-chunks.ts';

const fixedKey: FileKey = {
  key: Uint8Array.from({ length: 32 }, (_, i) => i),
  noncePrefix: Uint8Array.from([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7]),
};

/** Deterministic plaintext: byte i is (i * 7 + 3) mod 251. */
function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % 251);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Splits a ciphertext into its sealed chunks. */
function chunksOf(ct: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < ct.length; i += CHUNK_CIPHER_BYTES) out.push(ct.subarray(i, Math.min(ct.length, i + CHUNK_CIPHER_BYTES)));
  return out;
}

function join(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

async function rejection(ct: Uint8Array, fk: FileKey, expect = {}): Promise<FileChunkError> {
  try {
    await decryptBytes(ct, fk, expect);
  } catch (err) {
    assert.ok(err instanceof FileChunkError, `a FileChunkError, got ${String(err)}`);
    return err;
  }
  assert.fail('the altered ciphertext was accepted');
}

test('golden vector: fixed key and nonce prefix give fixed bytes (format chatroom/file/v1)', async () => {
  const plain = pattern(CHUNK_PLAIN_BYTES + 100);
  const { ciphertext, summary } = await encryptBytes(plain, fixedKey);
  assert.equal(ciphertext.length, CHUNK_PLAIN_BYTES + 100 + 32);
  assert.equal(summary.chunks, 2);
  assert.equal(hex(ciphertext.subarray(0, 16)), GOLDEN.first16);
  assert.equal(hex(ciphertext.subarray(ciphertext.length - 16)), GOLDEN.lastTag);
  assert.equal(hex(summary.sha256), GOLDEN.sha256);
  assert.equal(hex(summary.sha256), createHash('sha256').update(ciphertext).digest('hex'), 'the summary hash is SHA-256 of the ciphertext');
  const empty = await encryptBytes(new Uint8Array(0), fixedKey);
  assert.equal(hex(empty.ciphertext), GOLDEN.emptyFile);
});

const GOLDEN = {
  first16: 'fd53ffb04e145f11ec3d93c9db2850c6',
  lastTag: 'eef8fe697fa9a99b8a57fe5c326c5f63',
  sha256: '682c8465b83ca4148194dd5b20840f14df63fa6ba0101fe6b870911afc1fa9cc',
  emptyFile: '1679540851df276ab6c85ed2aaa66105',
};

test('the layout is the documented one: node:crypto AES-256-GCM with iv = prefix ‖ u32(i), aad = label ‖ prefix ‖ u32(i) ‖ last', async () => {
  const plain = pattern(CHUNK_PLAIN_BYTES + 100);
  const { ciphertext } = await encryptBytes(plain, fixedKey);
  const sealWithNode = (index: number, last: boolean, part: Uint8Array) => {
    const iv = Buffer.concat([fixedKey.noncePrefix, Buffer.from([0, 0, 0, index])]);
    const c = createCipheriv('aes-256-gcm', fixedKey.key, iv);
    c.setAAD(Buffer.concat([Buffer.from('chatroom/file/v1'), fixedKey.noncePrefix, Buffer.from([0, 0, 0, index, last ? 1 : 0])]));
    return Buffer.concat([c.update(part), c.final(), c.getAuthTag()]);
  };
  const expected = Buffer.concat([sealWithNode(0, false, plain.subarray(0, CHUNK_PLAIN_BYTES)), sealWithNode(1, true, plain.subarray(CHUNK_PLAIN_BYTES))]);
  assert.equal(hex(ciphertext), expected.toString('hex'));
});

test('round trips any size, including empty and exact chunk multiples, with the announced hash and size', async () => {
  for (const n of [0, 1, 15, 16, 17, CHUNK_PLAIN_BYTES - 1, CHUNK_PLAIN_BYTES, CHUNK_PLAIN_BYTES + 1, 3 * CHUNK_PLAIN_BYTES, 3 * CHUNK_PLAIN_BYTES + 5]) {
    const fk = newFileKey();
    const plain = pattern(n);
    const { ciphertext, summary } = await encryptBytes(plain, fk);
    assert.equal(ciphertext.length, ciphertextSize(n), `size of ${n}`);
    assert.equal(plaintextSize(ciphertext.length), n);
    assert.equal(summary.plaintextBytes, n);
    assert.equal(summary.ciphertextBytes, ciphertext.length);
    assert.equal(summary.chunks, chunkCount(ciphertext.length));
    const back = await decryptBytes(ciphertext, fk, { sha256: summary.sha256, ciphertextBytes: ciphertext.length });
    assert.deepEqual(back, plain, `round trip of ${n}`);
  }
});

test('streams: odd input pieces from a ReadableStream encrypt to the same bytes as one piece', async () => {
  const plain = pattern(2 * CHUNK_PLAIN_BYTES + 999);
  const pieces = [plain.subarray(0, 1), plain.subarray(1, 70_000), plain.subarray(70_000, 70_001), plain.subarray(70_001)];
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of pieces) controller.enqueue(p);
      controller.close();
    },
  });
  const enc = encryptFile(stream, fixedKey);
  const out: Uint8Array[] = [];
  for await (const c of enc.chunks) out.push(c);
  const whole = await encryptBytes(plain, fixedKey);
  assert.deepEqual(join(out), whole.ciphertext);
  assert.deepEqual((await enc.summary).sha256, whole.summary.sha256);
  // Decrypt from byte-sized pieces too: the chunk boundaries are the decryptor's, not the transport's.
  const tiny = (async function* () {
    for (let i = 0; i < whole.ciphertext.length; i += 4093) yield whole.ciphertext.subarray(i, i + 4093);
  })();
  const plainParts: Uint8Array[] = [];
  for await (const p of decryptFile(tiny, fixedKey)) plainParts.push(p);
  assert.deepEqual(join(plainParts), plain);
});

test('a File/Blob encrypts to a ciphertext Blob whose slices (upload pieces) decrypt as a stream', async () => {
  const plain = pattern(3 * CHUNK_PLAIN_BYTES + 321);
  const fk = newFileKey();
  const { ciphertext, summary } = await encryptBlob(new Blob([plain as Uint8Array<ArrayBuffer>]), fk);
  assert.equal(ciphertext.size, ciphertextSize(plain.length));
  assert.equal(ciphertext.type, 'application/octet-stream');
  const pieces = [ciphertext.slice(0, 100_000), ciphertext.slice(100_000)];
  const back = await decryptBytes(new Uint8Array(await new Blob(pieces).arrayBuffer()), fk, { sha256: summary.sha256 });
  assert.deepEqual(back, plain);
});

test('a single chunk fetched by range decrypts on its own (seeking in a voice message)', async () => {
  const plain = pattern(3 * CHUNK_PLAIN_BYTES + 10);
  const { ciphertext } = await encryptBytes(plain, fixedKey);
  const n = chunkCount(ciphertext.length);
  assert.equal(n, 4);
  for (let i = 0; i < n; i++) {
    const { start, end } = chunkByteRange(i, ciphertext.length);
    const chunk = await decryptChunkAt(ciphertext.subarray(start, end), i, i === n - 1, fixedKey);
    assert.deepEqual(chunk, plain.subarray(i * CHUNK_PLAIN_BYTES, Math.min(plain.length, (i + 1) * CHUNK_PLAIN_BYTES)));
  }
  await assert.rejects(decryptChunkAt(ciphertext.subarray(0, CHUNK_CIPHER_BYTES), 1, false, fixedKey), { code: 'corrupt' });
});

test('typed reasons: cut at a chunk boundary is truncated, an extra chunk is trailing data, another key is corrupt', async () => {
  const plain = pattern(3 * CHUNK_PLAIN_BYTES + 10);
  const { ciphertext, summary } = await encryptBytes(plain, fixedKey);
  const chunks = chunksOf(ciphertext);
  assert.equal((await rejection(join(chunks.slice(0, 2)), fixedKey)).code, 'truncated');
  assert.equal((await rejection(new Uint8Array(0), fixedKey)).code, 'truncated');
  // Data after a full-size last chunk is named; after a short one it merges into a corrupt chunk.
  const full = await encryptBytes(pattern(2 * CHUNK_PLAIN_BYTES), fixedKey);
  assert.equal((await rejection(join([full.ciphertext, pattern(5)]), fixedKey)).code, 'trailing_data');
  assert.equal((await rejection(join([ciphertext, pattern(5)]), fixedKey)).code, 'corrupt');
  assert.equal((await rejection(ciphertext, newFileKey())).code, 'corrupt');
  const wrongHash = summary.sha256.slice();
  wrongHash[0] ^= 1;
  assert.equal((await rejection(ciphertext, fixedKey, { sha256: wrongHash })).code, 'hash_mismatch');
  assert.equal((await rejection(ciphertext, fixedKey, { ciphertextBytes: ciphertext.length + 1 })).code, 'size_mismatch');
  await assert.rejects(async () => {
    for await (const _ of encryptFile([plain], { key: new Uint8Array(16), noncePrefix: new Uint8Array(8) }).chunks) void _;
  }, { code: 'bad_key' });
  await assert.rejects(decryptBytes(ciphertext, { key: new Uint8Array(16), noncePrefix: new Uint8Array(8) }), { code: 'bad_key' });
});

/** Ciphertexts of 1–4 chunks, encrypted once per size and shared by the property runs (speed). */
const samples = new Map<number, Promise<{ fk: FileKey; ct: Uint8Array }>>();
function sample(plainBytes: number) {
  let s = samples.get(plainBytes);
  if (!s) {
    const fk = newFileKey();
    s = encryptBytes(pattern(plainBytes), fk).then(({ ciphertext }) => ({ fk, ct: ciphertext }));
    samples.set(plainBytes, s);
  }
  return s;
}
const sizes = fc.constantFrom(0, 1000, CHUNK_PLAIN_BYTES, CHUNK_PLAIN_BYTES + 1, 2 * CHUNK_PLAIN_BYTES + 77, 3 * CHUNK_PLAIN_BYTES + 3);

test('property: any truncation is rejected', async () => {
  await fc.assert(
    fc.asyncProperty(sizes, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), async (n, at) => {
      const { fk, ct } = await sample(n);
      const cut = Math.floor(at * ct.length);
      await rejection(ct.subarray(0, cut), fk);
    }),
    { numRuns: 150 },
  );
});

test('property: any single bit flip is rejected', async () => {
  await fc.assert(
    fc.asyncProperty(sizes, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 0, max: 7 }), async (n, at, bit) => {
      const { fk, ct } = await sample(n);
      const flipped = ct.slice();
      flipped[Math.floor(at * ct.length)] ^= 1 << bit;
      await rejection(flipped, fk);
    }),
    { numRuns: 150 },
  );
});

test('property: any reordering, duplication or removal of chunks is rejected', async () => {
  const multi = fc.constantFrom(CHUNK_PLAIN_BYTES + 1, 2 * CHUNK_PLAIN_BYTES + 77, 3 * CHUNK_PLAIN_BYTES + 3, 4 * CHUNK_PLAIN_BYTES);
  await fc.assert(
    fc.asyncProperty(multi, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), async (n, picks) => {
      const { fk, ct } = await sample(n);
      const chunks = chunksOf(ct);
      // Any sequence of chunk indices other than 0..k-1 in order.
      const order = picks.map((p) => p % chunks.length);
      fc.pre(!(order.length === chunks.length && order.every((v, i) => v === i)));
      await rejection(join(order.map((i) => chunks[i])), fk);
    }),
    { numRuns: 200 },
  );
});

test('property: a chunk from another file under the same key never fits (file id in the AAD)', async () => {
  const a = await sample(2 * CHUNK_PLAIN_BYTES + 77);
  const other: FileKey = { key: a.fk.key, noncePrefix: newFileKey().noncePrefix };
  const b = await encryptBytes(pattern(2 * CHUNK_PLAIN_BYTES + 77), other);
  const mixed = join([chunksOf(a.ct)[0], chunksOf(b.ciphertext)[1], chunksOf(a.ct)[2]]);
  assert.equal((await rejection(mixed, a.fk)).code, 'corrupt');
});
