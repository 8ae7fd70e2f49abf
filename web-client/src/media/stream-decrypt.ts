/**
 * Decryption for playback while downloading: yields each chunk of a `chatroom/file/v1` ciphertext
 * as soon as its bytes and one byte of the next have arrived (that byte says the chunk is not the
 * last). `decryptFile` keeps four chunks in flight and looks a whole chunk ahead, so its first
 * chunk comes only after ~320 KiB — 80 s of voice at 32 kbit/s; here it is 64 KiB + 1 byte.
 * The checks are the same: every chunk authenticated with its index and last flag, then the size
 * and SHA-256 of the whole ciphertext at the end (FileChunkError otherwise).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { CHUNK_CIPHER_BYTES, FileChunkError, TAG_BYTES, decryptChunkAt, type DecryptExpectations, type FileKey } from '../crypto/file-chunks.ts';

/** Authentic plaintext chunks of `stream`, one by one, as early as the format allows. */
export async function* decryptAsItArrives(stream: ReadableStream<Uint8Array>, fileKey: FileKey, expect: DecryptExpectations = {}): AsyncGenerator<Uint8Array> {
  const hash = sha256.create();
  const reader = stream.getReader();
  let pending: Uint8Array = new Uint8Array(0);
  let index = 0;
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      total += value.length;
      pending = join(pending, value);
      // More bytes than one sealed chunk: the first chunk is complete and not the last.
      while (pending.length > CHUNK_CIPHER_BYTES) {
        yield await decryptChunkAt(pending.subarray(0, CHUNK_CIPHER_BYTES), index, false, fileKey);
        pending = pending.slice(CHUNK_CIPHER_BYTES);
        index++;
      }
    }
  } finally {
    reader.releaseLock();
  }
  if (pending.length < TAG_BYTES) throw new FileChunkError('truncated', index === 0 && total === 0 ? 'the ciphertext is empty' : 'the ciphertext ends inside a chunk tag', index);
  yield await decryptChunkAt(pending, index, true, fileKey);
  if (expect.ciphertextBytes !== undefined && expect.ciphertextBytes !== total) {
    throw new FileChunkError('size_mismatch', `the ciphertext is ${total} bytes, the message says ${expect.ciphertextBytes}`);
  }
  if (expect.sha256 && !same(hash.digest(), expect.sha256)) {
    throw new FileChunkError('hash_mismatch', 'the SHA-256 of the ciphertext is not the one in the message');
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
