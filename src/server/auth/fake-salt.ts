/** Deterministic salts for usernames that do not exist, so `POST /api/auth/params` reveals nothing. */
import { createHmac } from 'node:crypto';
import { MIN_PBKDF2_ITERATIONS } from '../../shared/api.ts';

/** Iterations reported for unknown usernames: what the web client uses for new accounts. */
export const FAKE_ITERATIONS = MIN_PBKDF2_ITERATIONS;

/** First 16 bytes of HMAC-SHA256(saltKey, lowercased username): stable per instance, unguessable. */
export function fakeSalt(saltKeyBase64: string, username: string): Uint8Array {
  const mac = createHmac('sha256', Buffer.from(saltKeyBase64, 'base64')).update(username.toLowerCase(), 'utf8').digest();
  return new Uint8Array(mac.subarray(0, 16));
}
