/**
 * Length hiding for envelope plaintexts. The padded form is `u32 length ‖ data ‖ zeros` filled to
 * the smallest bucket that holds it: multiples of 256 bytes up to 4 KiB (most chat messages land in
 * the first bucket), then powers of two up to 64 KiB. Larger payloads belong in attachments.
 */
import { CryptoError } from './errors.ts';

/** Bucket sizes in bytes, ascending. */
export const PADDING_BUCKETS: readonly number[] = [
  ...Array.from({ length: 16 }, (_, i) => (i + 1) * 256),
  8192,
  16384,
  32768,
  65536,
];

/** Largest `data` that fits (the biggest bucket minus the 4-byte length). */
export const MAX_PADDED_DATA = PADDING_BUCKETS[PADDING_BUCKETS.length - 1] - 4;

/** The bucket size for `dataLength` bytes of data. */
export function bucketFor(dataLength: number): number {
  const need = dataLength + 4;
  const bucket = PADDING_BUCKETS.find((b) => b >= need);
  if (bucket === undefined) throw new CryptoError('too_large', `message of ${dataLength} bytes exceeds the ${MAX_PADDED_DATA}-byte limit; send it as an attachment`);
  return bucket;
}

export function pad(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(bucketFor(data.length));
  new DataView(out.buffer).setUint32(0, data.length);
  out.set(data, 4);
  return out;
}

/** Refuses a length that overruns, a size that is not a bucket, or non-zero padding. */
export function unpad(padded: Uint8Array): Uint8Array {
  if (padded.length < 4 || !PADDING_BUCKETS.includes(padded.length)) throw new CryptoError('malformed', 'padded length is not a bucket size');
  const n = new DataView(padded.buffer, padded.byteOffset, 4).getUint32(0);
  if (n + 4 > padded.length || bucketFor(n) !== padded.length) throw new CryptoError('malformed', 'bad padding length');
  for (let i = 4 + n; i < padded.length; i++) if (padded[i] !== 0) throw new CryptoError('malformed', 'non-zero padding');
  return padded.slice(4, 4 + n);
}
