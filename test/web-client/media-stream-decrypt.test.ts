// web-client/src/media/stream-decrypt.ts: decryption for playback yields a chunk as soon as it and one more byte are here, gives back the plaintext for any piece sizes, and rejects any truncation, appended data, reordering, duplication, bit flip or wrong hash (property tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CHUNK_CIPHER_BYTES, CHUNK_PLAIN_BYTES, FileChunkError, encryptBytes, newFileKey, type FileKey } from '../../web-client/src/crypto/file-chunks.ts';
import { decryptAsItArrives } from '../../web-client/src/media/stream-decrypt.ts';

/** `bytes` as a stream cut at `cuts` (offsets, any order). */
function streamOf(bytes: Uint8Array, cuts: number[] = []): ReadableStream<Uint8Array> {
  const at = [...new Set(cuts.map((c) => Math.min(bytes.length, Math.max(0, c))))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    if (c > from) pieces.push(bytes.slice(from, c));
    from = Math.max(from, c);
  }
  return new ReadableStream({
    pull(controller) {
      const next = pieces.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>, key: FileKey, expect = {}): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of decryptAsItArrives(stream, key, expect)) parts.push(p);
  return Buffer.concat(parts);
}

async function rejects(stream: ReadableStream<Uint8Array>, key: FileKey, expect = {}): Promise<string> {
  try {
    await collect(stream, key, expect);
  } catch (err) {
    assert.ok(err instanceof FileChunkError, `a FileChunkError, not ${err}`);
    return err.code;
  }
  assert.fail('accepted a damaged ciphertext');
}

const sizes = fc.integer({ min: 0, max: 3 * CHUNK_PLAIN_BYTES + 100 });

test('the plaintext comes back for any size and any piece sizes', async () => {
  await fc.assert(
    fc.asyncProperty(sizes, fc.array(fc.nat(), { maxLength: 8 }), async (n, cutSeeds) => {
      const plain = new Uint8Array(randomBytes(n));
      const key = newFileKey();
      const { ciphertext, summary } = await encryptBytes(plain, key);
      const cuts = cutSeeds.map((s) => s % (ciphertext.length + 1));
      const out = await collect(streamOf(ciphertext, cuts), key, { sha256: summary.sha256, ciphertextBytes: summary.ciphertextBytes });
      assert.ok(Buffer.from(out).equals(Buffer.from(plain)));
    }),
    { numRuns: 40 },
  );
});

// decryptFile would wait for the held rest here: the timeout turns that into a failure.
test('the first chunk is yielded once its bytes and one more are in, before the rest arrives', { timeout: 10_000 }, async () => {
  const plain = new Uint8Array(randomBytes(3 * CHUNK_PLAIN_BYTES));
  const key = newFileKey();
  const { ciphertext } = await encryptBytes(plain, key);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === 0) {
        sent = CHUNK_CIPHER_BYTES + 1;
        controller.enqueue(ciphertext.slice(0, sent));
        return;
      }
      await held;
      controller.enqueue(ciphertext.slice(sent));
      controller.close();
    },
  });
  const it = decryptAsItArrives(stream, key);
  const first = await it.next();
  assert.ok(!first.done && Buffer.from(first.value).equals(Buffer.from(plain.subarray(0, CHUNK_PLAIN_BYTES))));
  release();
  let rest = 0;
  for await (const p of { [Symbol.asyncIterator]: () => it }) rest += p.length;
  assert.equal(rest, 2 * CHUNK_PLAIN_BYTES);
});

test('truncation, appended bytes, reordered, duplicated or flipped chunks and a wrong hash are rejected', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 3 * CHUNK_PLAIN_BYTES + 100 }), fc.nat(), fc.nat(), async (n, a, b) => {
      const key = newFileKey();
      const { ciphertext, summary } = await encryptBytes(new Uint8Array(randomBytes(n)), key);
      const chunks: Uint8Array[] = [];
      for (let o = 0; o < ciphertext.length; o += CHUNK_CIPHER_BYTES) chunks.push(ciphertext.slice(o, o + CHUNK_CIPHER_BYTES));
      const cut = a % ciphertext.length;
      assert.notEqual(await rejects(streamOf(ciphertext.slice(0, cut)), key), undefined);
      // After a full last chunk this is trailing_data; glued to a short one, that chunk no longer authenticates.
      await rejects(streamOf(Buffer.concat([ciphertext, new Uint8Array([b & 0xff])])), key);
      const flipped = ciphertext.slice();
      flipped[a % flipped.length] ^= 1 << (b % 8);
      await rejects(streamOf(flipped), key);
      if (chunks.length > 1) {
        const i = a % chunks.length;
        const j = (i + 1 + (b % (chunks.length - 1))) % chunks.length;
        const swapped = chunks.slice();
        [swapped[i], swapped[j]] = [swapped[j], swapped[i]];
        if (!swapped.every((c, k) => Buffer.from(c).equals(Buffer.from(chunks[k])))) await rejects(streamOf(Buffer.concat(swapped)), key);
        await rejects(streamOf(Buffer.concat([chunks[0], ...chunks])), key);
      }
      const wrongHash = summary.sha256.slice();
      wrongHash[0] ^= 1;
      assert.equal(await rejects(streamOf(ciphertext), key, { sha256: wrongHash }), 'hash_mismatch');
      assert.equal(await rejects(streamOf(ciphertext), key, { ciphertextBytes: ciphertext.length + 1 }), 'size_mismatch');
    }),
    { numRuns: 30 },
  );
  assert.equal(await rejects(streamOf(new Uint8Array(0)), newFileKey()), 'truncated');
});
