/**
 * The server-side verifier: argon2id (m=19456 KiB, t=2, p=1, OWASP's minimum; ~20 ms per hash) of
 * the 32-byte login key the client derived. The server never sees the password itself.
 *
 * Verification recomputes the hash with `hashRaw` and compares in constant time, because
 * @node-rs/argon2 2.2's `verify` rejects a password that is not valid UTF-8 ("invalid utf-8
 * sequence"), and a login key is 32 random bytes.
 */
import { hash, hashRaw, type Algorithm, type Options } from '@node-rs/argon2';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { BoundedQueue } from './work-queue.ts';

/**
 * argon2 runs on libuv's thread pool (4 threads by default), which file reads share: at most 3
 * hashes at once (fewer on smaller machines) keeps static files moving during a login flood, and
 * past 256 queued hashes sign-in answers RATE_LIMITED instead of queueing without bound.
 */
const hashQueue = new BoundedQueue(Math.max(1, Math.min(3, availableParallelism())), 256);
const limited = <T>(work: () => Promise<T>) => hashQueue.run(work);

const ARGON2ID = 2 as Algorithm; // a const enum in the typings, absent at runtime
const PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** PHC prefix of a verifier made with today's parameters (older ones are rehashed at sign-in). */
const CURRENT_PREFIX = `$argon2id$v=19$m=${PARAMS.memoryCost},t=${PARAMS.timeCost},p=${PARAMS.parallelism}$`;

/** argon2id PHC string of the login key. */
export function hashLoginKey(loginKey: Uint8Array): Promise<string> {
  return limited(() => hash(loginKey, PARAMS));
}

/** `$argon2id$v=19$m=…,t=…,p=…$salt$hash` → hashRaw options and the expected digest; null if malformed. */
function parsePhc(verifier: string): { options: Options; digest: Buffer } | null {
  const m = /^\$argon2id\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(verifier);
  if (!m) return null;
  const salt = Buffer.from(m[4], 'base64');
  const digest = Buffer.from(m[5], 'base64');
  if (salt.length < 8 || digest.length < 16) return null;
  const options: Options = {
    algorithm: ARGON2ID,
    memoryCost: Number(m[1]),
    timeCost: Number(m[2]),
    parallelism: Number(m[3]),
    salt,
    outputLen: digest.length,
  };
  return { options, digest };
}

/** True when the login key matches; false for a malformed verifier; RATE_LIMITED when the hash queue is full. */
export async function verifyLoginKey(verifier: string, loginKey: Uint8Array): Promise<boolean> {
  const parsed = parsePhc(verifier);
  if (!parsed) return false;
  // RATE_LIMITED from the queue propagates; only a failing hash counts as "no match".
  const actual = await limited(() => hashRaw(loginKey, parsed.options).catch(() => null));
  return actual !== null && actual.length === parsed.digest.length && timingSafeEqual(actual, parsed.digest);
}

export function needsRehash(verifier: string): boolean {
  return !verifier.startsWith(CURRENT_PREFIX);
}

let dummyVerifier: Promise<string> | null = null;

/**
 * Verifies against a hash of random bytes, so a sign-in for an unknown username costs the same
 * argon2 work as one for a real account and timing does not reveal which usernames exist.
 */
export async function verifyAgainstDummy(loginKey: Uint8Array): Promise<false> {
  dummyVerifier ??= hashLoginKey(randomBytes(32));
  await verifyLoginKey(await dummyVerifier, loginKey);
  return false;
}
