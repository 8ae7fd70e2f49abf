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

const ARGON2ID = 2 as Algorithm; // a const enum in the typings, absent at runtime
const PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** PHC prefix of a verifier made with today's parameters (older ones are rehashed at sign-in). */
const CURRENT_PREFIX = `$argon2id$v=19$m=${PARAMS.memoryCost},t=${PARAMS.timeCost},p=${PARAMS.parallelism}$`;

/** argon2id PHC string of the login key. */
export function hashLoginKey(loginKey: Uint8Array): Promise<string> {
  return hash(loginKey, PARAMS);
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

/** True when the login key matches; false (never a throw) for a malformed verifier. */
export async function verifyLoginKey(verifier: string, loginKey: Uint8Array): Promise<boolean> {
  const parsed = parsePhc(verifier);
  if (!parsed) return false;
  try {
    const actual = await hashRaw(loginKey, parsed.options);
    return actual.length === parsed.digest.length && timingSafeEqual(actual, parsed.digest);
  } catch {
    return false;
  }
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
