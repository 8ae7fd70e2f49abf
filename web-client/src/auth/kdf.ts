/**
 * Client-side password stretching. The password never leaves the browser: we send only
 * loginKey = HKDF-SHA256(PBKDF2-SHA256(password, salt, iterations), info "chatroom/auth").
 * The same root later derives the E2EE wrapping key with another label, so the server's login key
 * tells it nothing about that. Runs on Web Crypto in browsers and in Node (tests).
 */
import { MIN_PBKDF2_ITERATIONS } from '../../../src/shared/api.ts';

export const DEFAULT_ITERATIONS = MIN_PBKDF2_ITERATIONS;
const enc = new TextEncoder();

export function newSalt(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}

/** Stretches the password into a 32-byte root secret. `iterations` ≥ 600,000 in production. */
export async function deriveRoot(password: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', enc.encode(password.normalize('NFKC')), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations }, base, 256);
  return crypto.subtle.importKey('raw', bits, 'HKDF', false, ['deriveBits']);
}

/** HKDF-SHA256 of the root with a domain-separating label; 32 bytes. */
export async function deriveLabel(root: CryptoKey, label: string): Promise<Uint8Array> {
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: enc.encode(label) },
    root,
    256,
  );
  return new Uint8Array(bits);
}

/** The only secret sent at sign-up and sign-in. */
export async function deriveLoginKey(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  return deriveLabel(await deriveRoot(password, salt, iterations), 'chatroom/auth');
}
