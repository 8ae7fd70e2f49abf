/**
 * Chunked AES-256-GCM for attachments (photos, voice messages, files), format "chatroom/file/v1".
 *
 * - A fresh random 32-byte key per file and an 8-byte random nonce prefix (which is also the
 *   file's id inside the AAD).
 * - Plaintext is cut into 64 KiB chunks; chunk i is sealed with
 *   `iv = prefix(8) ‖ u32be(i)` and `aad = "chatroom/file/v1" ‖ prefix(8) ‖ u32be(i) ‖ u8(last)`.
 *   The IV is derived, never stored: (key, iv) never repeats because the key is new per file and
 *   the index is unique within it.
 * - Ciphertext = the sealed chunks back to back, each 64 KiB + 16 (tag) except the last, which is
 *   shorter (an empty file is one 16-byte chunk). There is no header: the key, prefix, size and
 *   SHA-256 of the ciphertext travel inside the (end-to-end encrypted) message.
 * - Decryption rejects truncation, reordering, duplication, trailing data and any bit flip with a
 *   FileChunkError, because every chunk authenticates its index and whether it is the last.
 *
 * Web Crypto only (Chromium, Firefox, Node 20). SHA-256 is streamed with @noble/hashes because
 * crypto.subtle.digest is one-shot and a 100 MiB file must not be held in memory.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** Plaintext bytes per chunk (64 KiB). */
export const CHUNK_PLAIN_BYTES = 65_536;
/** AES-GCM tag length, bytes. */
export const TAG_BYTES = 16;
/** Ciphertext bytes of every chunk but the last. */
export const CHUNK_CIPHER_BYTES = CHUNK_PLAIN_BYTES + TAG_BYTES;
export const KEY_BYTES = 32;
export const NONCE_PREFIX_BYTES = 8;
/** Chunks per file: the index is a u32 in the IV. */
const MAX_CHUNKS = 2 ** 32;
/** Chunks sealed or opened at once (Web Crypto runs them on worker threads in Node). */
const IN_FLIGHT = 4;

const FORMAT_LABEL = new TextEncoder().encode('chatroom/file/v1');

/** Why a ciphertext was refused. */
export type FileChunkErrorCode =
  | 'truncated' // the stream ended before the chunk flagged as last
  | 'trailing_data' // bytes follow the chunk flagged as last
  | 'corrupt' // a chunk failed authentication: flipped bits, reordered, duplicated or wrong key
  | 'hash_mismatch' // the SHA-256 of the ciphertext is not the one the message announced
  | 'size_mismatch' // the ciphertext length is not the one the message announced
  | 'bad_key' // key or nonce prefix of the wrong length
  | 'too_large'; // more than 2^32 chunks

/** A refused encryption or decryption; branch on `code`. */
export class FileChunkError extends Error {
  readonly code: FileChunkErrorCode;
  /** Index of the chunk where it was noticed, when there is one. */
  readonly chunk?: number;
  constructor(code: FileChunkErrorCode, message: string, chunk?: number) {
    super(message);
    this.name = 'FileChunkError';
    this.code = code;
    if (chunk !== undefined) this.chunk = chunk;
  }
}

/** What a receiver needs to decrypt a file (it travels inside the encrypted message). */
export interface FileKey {
  /** 32 random bytes. */
  key: Uint8Array;
  /** 8 random bytes: IV prefix and the file's id in the AAD. */
  noncePrefix: Uint8Array;
}

/** What encryption reports once the last chunk has been produced. */
export interface EncryptedSummary {
  /** SHA-256 of the whole ciphertext (what the message carries and the receiver checks). */
  sha256: Uint8Array;
  ciphertextBytes: number;
  plaintextBytes: number;
  chunks: number;
}

export type ByteSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | Iterable<Uint8Array>;

/** A fresh random key and nonce prefix for one file. */
export function newFileKey(): FileKey {
  return { key: crypto.getRandomValues(new Uint8Array(KEY_BYTES)), noncePrefix: crypto.getRandomValues(new Uint8Array(NONCE_PREFIX_BYTES)) };
}

/** Ciphertext length for a plaintext of `plainBytes` (declare it when creating the upload). */
export function ciphertextSize(plainBytes: number): number {
  const chunks = Math.max(1, Math.ceil(plainBytes / CHUNK_PLAIN_BYTES));
  return plainBytes + chunks * TAG_BYTES;
}

/** Plaintext length for a well-formed ciphertext of `cipherBytes`, or null when no plaintext has that size. */
export function plaintextSize(cipherBytes: number): number | null {
  if (cipherBytes < TAG_BYTES) return null;
  const full = Math.floor((cipherBytes - 1) / CHUNK_CIPHER_BYTES);
  const lastCipher = cipherBytes - full * CHUNK_CIPHER_BYTES;
  if (lastCipher < TAG_BYTES || (full > 0 && lastCipher === TAG_BYTES)) return null;
  return full * CHUNK_PLAIN_BYTES + lastCipher - TAG_BYTES;
}

/** Byte range [start, end) of chunk `index` in the ciphertext (for HTTP Range requests). */
export function chunkByteRange(index: number, cipherBytes: number): { start: number; end: number } {
  const start = index * CHUNK_CIPHER_BYTES;
  return { start, end: Math.min(cipherBytes, start + CHUNK_CIPHER_BYTES) };
}

/** Number of chunks in a ciphertext of `cipherBytes`. */
export function chunkCount(cipherBytes: number): number {
  return Math.max(1, Math.ceil(cipherBytes / CHUNK_CIPHER_BYTES));
}

function checkKey(fk: FileKey): void {
  if (fk.key.length !== KEY_BYTES) throw new FileChunkError('bad_key', `the file key must be ${KEY_BYTES} bytes`);
  if (fk.noncePrefix.length !== NONCE_PREFIX_BYTES) throw new FileChunkError('bad_key', `the nonce prefix must be ${NONCE_PREFIX_BYTES} bytes`);
}

async function importKey(fk: FileKey, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  checkKey(fk);
  return crypto.subtle.importKey('raw', copy(fk.key), 'AES-GCM', false, [usage]);
}

function copy(b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

function ivFor(prefix: Uint8Array, index: number): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(12);
  iv.set(prefix, 0);
  new DataView(iv.buffer).setUint32(8, index);
  return iv;
}

function aadFor(prefix: Uint8Array, index: number, last: boolean): Uint8Array<ArrayBuffer> {
  const aad = new Uint8Array(FORMAT_LABEL.length + NONCE_PREFIX_BYTES + 5);
  aad.set(FORMAT_LABEL, 0);
  aad.set(prefix, FORMAT_LABEL.length);
  const view = new DataView(aad.buffer);
  view.setUint32(FORMAT_LABEL.length + NONCE_PREFIX_BYTES, index);
  aad[aad.length - 1] = last ? 1 : 0;
  return aad;
}

async function seal(key: CryptoKey, prefix: Uint8Array, index: number, last: boolean, plain: Uint8Array): Promise<Uint8Array> {
  const params = { name: 'AES-GCM', iv: ivFor(prefix, index), additionalData: aadFor(prefix, index, last), tagLength: TAG_BYTES * 8 };
  return new Uint8Array(await crypto.subtle.encrypt(params, key, copy(plain)));
}

async function open(key: CryptoKey, prefix: Uint8Array, index: number, last: boolean, sealed: Uint8Array): Promise<Uint8Array | null> {
  const params = { name: 'AES-GCM', iv: ivFor(prefix, index), additionalData: aadFor(prefix, index, last), tagLength: TAG_BYTES * 8 };
  try {
    return new Uint8Array(await crypto.subtle.decrypt(params, key, copy(sealed)));
  } catch {
    return null;
  }
}

async function* iterate(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<Uint8Array>;
}

/** Re-cuts any stream of byte pieces into pieces of exactly `size` bytes (the last may be shorter). */
async function* fixedPieces(source: ByteSource, size: number): AsyncGenerator<Uint8Array> {
  let pending = new Uint8Array(size);
  let filled = 0;
  for await (const piece of iterate(source)) {
    let offset = 0;
    while (offset < piece.length) {
      const n = Math.min(size - filled, piece.length - offset);
      pending.set(piece.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === size) {
        yield pending;
        pending = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield pending.subarray(0, filled);
}

/**
 * Pairs every piece with whether it is the last one, by looking one piece ahead. `emptyAsOne`
 * yields a single empty last piece for an empty source (an empty file is one chunk).
 */
async function* withLastFlag(pieces: AsyncIterable<Uint8Array>, emptyAsOne: boolean): AsyncGenerator<{ piece: Uint8Array; last: boolean }> {
  let previous: Uint8Array | null = null;
  for await (const piece of pieces) {
    if (previous) yield { piece: previous, last: false };
    previous = piece;
  }
  if (previous) yield { piece: previous, last: true };
  else if (emptyAsOne) yield { piece: new Uint8Array(0), last: true };
}

/** A running encryption: iterate `chunks` (sealed chunks, in order); `summary` resolves after the last. */
export interface FileEncryption {
  chunks: AsyncIterable<Uint8Array>;
  summary: Promise<EncryptedSummary>;
}

/**
 * Encrypts a stream of plaintext (any piece sizes). The returned `chunks` can be iterated once;
 * `summary` settles when iteration finishes (rejects if the source throws).
 */
export function encryptFile(source: ByteSource, fileKey: FileKey): FileEncryption {
  let resolve!: (s: EncryptedSummary) => void;
  let reject!: (e: unknown) => void;
  const summary = new Promise<EncryptedSummary>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers that only iterate must not see an unhandled rejection: the iterator throws too.
  summary.catch(() => {});
  async function* run(): AsyncGenerator<Uint8Array> {
    try {
      const key = await importKey(fileKey, 'encrypt');
      const prefix = fileKey.noncePrefix.slice();
      const hash = sha256.create();
      let index = 0;
      let plaintextBytes = 0;
      let ciphertextBytes = 0;
      const inFlight: Promise<Uint8Array>[] = [];
      const drainOne = async (): Promise<Uint8Array> => {
        const sealed = await inFlight.shift()!;
        hash.update(sealed);
        ciphertextBytes += sealed.length;
        return sealed;
      };
      for await (const { piece, last } of withLastFlag(fixedPieces(source, CHUNK_PLAIN_BYTES), true)) {
        if (index >= MAX_CHUNKS) throw new FileChunkError('too_large', 'a file has at most 2^32 chunks');
        inFlight.push(seal(key, prefix, index, last, piece));
        plaintextBytes += piece.length;
        index++;
        if (inFlight.length >= IN_FLIGHT) yield await drainOne();
      }
      while (inFlight.length > 0) yield await drainOne();
      resolve({ sha256: hash.digest(), ciphertextBytes, plaintextBytes, chunks: index });
    } catch (err) {
      reject(err);
      throw err;
    }
  }
  return { chunks: run(), summary };
}

/** Encrypts bytes held in memory; returns the whole ciphertext and its summary. */
export async function encryptBytes(plain: Uint8Array, fileKey: FileKey): Promise<{ ciphertext: Uint8Array; summary: EncryptedSummary }> {
  const enc = encryptFile([plain], fileKey);
  const parts: Uint8Array[] = [];
  for await (const c of enc.chunks) parts.push(c);
  return { ciphertext: concatBytes(parts), summary: await enc.summary };
}

/**
 * Encrypts a File or Blob into a ciphertext Blob (the browser keeps large Blobs on disk), so an
 * upload can send it in pieces with `ciphertext.slice(start, end)` and retry a piece without
 * encrypting again.
 */
export async function encryptBlob(file: Blob, fileKey: FileKey): Promise<{ ciphertext: Blob; summary: EncryptedSummary }> {
  const enc = encryptFile(file.stream(), fileKey);
  const parts: BlobPart[] = [];
  for await (const c of enc.chunks) parts.push(c as Uint8Array<ArrayBuffer>);
  return { ciphertext: new Blob(parts, { type: 'application/octet-stream' }), summary: await enc.summary };
}

/** What the message announced about the ciphertext; each given field is checked at the end. */
export interface DecryptExpectations {
  sha256?: Uint8Array;
  ciphertextBytes?: number;
}

/**
 * Decrypts a ciphertext stream, yielding plaintext chunk by chunk (for progressive playback). A
 * yielded chunk is authentic, but the file is complete and unaltered only once iteration ends
 * without a FileChunkError (truncation and the hash can only be judged at the end).
 */
export async function* decryptFile(source: ByteSource, fileKey: FileKey, expect: DecryptExpectations = {}): AsyncGenerator<Uint8Array> {
  const key = await importKey(fileKey, 'decrypt');
  const prefix = fileKey.noncePrefix.slice();
  const hash = expect.sha256 ? sha256.create() : null;
  let index = 0;
  let total = 0;
  const inFlight: Array<{ index: number; last: boolean; sealed: Uint8Array; plain: Promise<Uint8Array | null> }> = [];
  const drainOne = async (): Promise<Uint8Array> => {
    const job = inFlight.shift()!;
    const plain = await job.plain;
    if (plain) return plain;
    throw await explainFailure(key, prefix, job.index, job.last, job.sealed);
  };
  for await (const { piece, last } of withLastFlag(fixedPieces(source, CHUNK_CIPHER_BYTES), false)) {
    if (index >= MAX_CHUNKS) throw new FileChunkError('too_large', 'a file has at most 2^32 chunks', index);
    hash?.update(piece);
    total += piece.length;
    if (piece.length < TAG_BYTES) {
      // Judge the chunks before it first: if the previous one is the real last, this is trailing data.
      while (inFlight.length > 0) yield await drainOne();
      throw new FileChunkError('truncated', 'the ciphertext ends inside a chunk tag', index);
    }
    inFlight.push({ index, last, sealed: piece, plain: open(key, prefix, index, last, piece) });
    index++;
    if (inFlight.length >= IN_FLIGHT) yield await drainOne();
  }
  if (index === 0) throw new FileChunkError('truncated', 'the ciphertext is empty', 0);
  while (inFlight.length > 0) yield await drainOne();
  if (expect.ciphertextBytes !== undefined && expect.ciphertextBytes !== total) {
    throw new FileChunkError('size_mismatch', `the ciphertext is ${total} bytes, the message says ${expect.ciphertextBytes}`);
  }
  if (hash && expect.sha256 && !sameBytes(hash.digest(), expect.sha256)) {
    throw new FileChunkError('hash_mismatch', 'the SHA-256 of the ciphertext is not the one in the message');
  }
}

/** Decrypts a whole ciphertext held in memory. */
export async function decryptBytes(ciphertext: Uint8Array, fileKey: FileKey, expect: DecryptExpectations = {}): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of decryptFile([ciphertext], fileKey, expect)) parts.push(p);
  return concatBytes(parts);
}

/**
 * Decrypts one chunk fetched on its own (a Range request from chunkByteRange), e.g. to seek in a
 * voice message. `last` must say whether `index` is the final chunk of the file.
 */
export async function decryptChunkAt(sealed: Uint8Array, index: number, last: boolean, fileKey: FileKey): Promise<Uint8Array> {
  const key = await importKey(fileKey, 'decrypt');
  const plain = await open(key, fileKey.noncePrefix, index, last, sealed);
  if (plain) return plain;
  throw await explainFailure(key, fileKey.noncePrefix, index, last, sealed);
}

/**
 * Names a failed chunk: if it opens with the opposite last-flag, the stream was cut after it
 * (truncated) or continues past the real end (trailing data); otherwise it is corrupt.
 */
async function explainFailure(key: CryptoKey, prefix: Uint8Array, index: number, last: boolean, sealed: Uint8Array): Promise<FileChunkError> {
  if (await open(key, prefix, index, !last, sealed)) {
    return last
      ? new FileChunkError('truncated', `the ciphertext ends after chunk ${index}, which is not the last`, index)
      : new FileChunkError('trailing_data', `data follows chunk ${index}, which is the last`, index);
  }
  return new FileChunkError('corrupt', `chunk ${index} failed authentication (altered, reordered, duplicated or wrong key)`, index);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
