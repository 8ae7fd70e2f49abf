/**
 * Safety numbers: Signal's numeric fingerprint adapted to account keys. One verification covers
 * all of a contact's devices, because every device is certified by the account key.
 *
 *   fingerprint(user) = H^5200 where H^0 = u16 version=1 ‖ accountKey[32] ‖ utf8(userId),
 *                       H^i = SHA-512(H^(i-1) ‖ accountKey)
 *   digits(user)      = for each of the first six 5-byte chunks of the fingerprint:
 *                       (40-bit big-endian value mod 100000) as 5 zero-padded digits → 30 digits
 *   safety number     = the two 30-digit strings sorted and concatenated → 60 digits, the same on
 *                       both sides.
 * QR payload: "chatroom-sn:1:" ‖ base64url(fingerprint[0..32] of the shower) ‖ ":" ‖ base64url(… of the other).
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { concat, equalBytes, utf8 } from './bytes.ts';
import { CryptoError } from './errors.ts';

export const SAFETY_NUMBER_VERSION = 1;
export const SAFETY_NUMBER_ITERATIONS = 5200;
const QR_PREFIX = 'chatroom-sn:1:';

export interface SafetyIdentity {
  userId: string;
  /** Account key, 32 bytes. */
  accountKey: Uint8Array;
}

/** The iterated SHA-512 fingerprint of one user (64 bytes). */
export function fingerprint(id: SafetyIdentity): Uint8Array {
  if (id.accountKey.length !== 32) throw new CryptoError('malformed', 'account key must be 32 bytes');
  let hash = concat(Uint8Array.of(SAFETY_NUMBER_VERSION >> 8, SAFETY_NUMBER_VERSION & 0xff), id.accountKey, utf8(id.userId));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = sha512(concat(hash, id.accountKey));
  return hash;
}

/** 30 digits for one side. */
export function displayDigits(fp: Uint8Array): string {
  let out = '';
  for (let i = 0; i < 30; i += 5) {
    let v = 0;
    for (let j = 0; j < 5; j++) v = v * 256 + fp[i + j];
    out += String(v % 100000).padStart(5, '0');
  }
  return out;
}

export interface SafetyNumber {
  /** 60 digits, identical for both users. */
  digits: string;
  /** The same digits in 12 groups of 5, for display. */
  groups: string[];
}

export function safetyNumber(local: SafetyIdentity, remote: SafetyIdentity): SafetyNumber {
  const a = displayDigits(fingerprint(local));
  const b = displayDigits(fingerprint(remote));
  const digits = a < b ? a + b : b + a;
  return { digits, groups: digits.match(/.{5}/g)! };
}

function b64url(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unb64url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]{43}$/.test(s)) throw new CryptoError('malformed', 'not a safety-number QR code');
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '=');
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** What `local` shows as a QR code for `remote` to scan. */
export function safetyQrPayload(local: SafetyIdentity, remote: SafetyIdentity): string {
  return `${QR_PREFIX}${b64url(fingerprint(local).subarray(0, 32))}:${b64url(fingerprint(remote).subarray(0, 32))}`;
}

/** `local` scanned `remote`'s QR: 'match' when both fingerprints agree (then mark verified). */
export function compareSafetyQr(scanned: string, local: SafetyIdentity, remote: SafetyIdentity): 'match' | 'mismatch' {
  if (!scanned.startsWith(QR_PREFIX)) throw new CryptoError('malformed', 'not a chatroom safety-number QR code');
  const parts = scanned.slice(QR_PREFIX.length).split(':');
  if (parts.length !== 2) throw new CryptoError('malformed', 'not a chatroom safety-number QR code');
  const [theirs, mine] = parts.map(unb64url);
  const ok = equalBytes(theirs, fingerprint(remote).subarray(0, 32)) && equalBytes(mine, fingerprint(local).subarray(0, 32));
  return ok ? 'match' : 'mismatch';
}
