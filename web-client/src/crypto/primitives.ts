/**
 * Thin Web Crypto wrappers for the primitives our own formats use (HKDF-SHA256, Ed25519, X25519,
 * AES-GCM, SHA-2). Keys cross the boundary as raw bytes (public) or PKCS#8 (private), because Web
 * Crypto refuses raw Ed25519/X25519 private keys.
 */
import { buf, concat } from './bytes.ts';
import { CryptoError } from './errors.ts';

const subtle = (): SubtleCrypto => {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new CryptoError('unsupported_runtime', 'Web Crypto is unavailable (not a secure context)');
  return s;
};

/** PKCS#8 prefixes for a 32-byte Ed25519 / X25519 private scalar (RFC 8410). */
const ED25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const X25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** RFC 5869 HKDF with SHA-256; `length` in bytes (≤ 8160). */
export async function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array> {
  const key = await subtle().importKey('raw', buf(ikm), 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: buf(salt), info: buf(info) }, key, length * 8);
  return new Uint8Array(bits);
}

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-256', buf(data)));
}

export async function sha512(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-512', buf(data)));
}

/** An Ed25519 key pair as bytes: 32-byte public key, PKCS#8 private key (48 bytes). */
export interface Ed25519KeyPair {
  publicKey: Uint8Array;
  privateKeyPkcs8: Uint8Array;
}

export async function ed25519Generate(): Promise<Ed25519KeyPair> {
  const kp = (await subtle().generateKey('Ed25519', true, ['sign', 'verify'])) as CryptoKeyPair;
  return {
    publicKey: new Uint8Array(await subtle().exportKey('raw', kp.publicKey)),
    privateKeyPkcs8: new Uint8Array(await subtle().exportKey('pkcs8', kp.privateKey)),
  };
}

/** PKCS#8 wrapping of a 32-byte RFC 8032 seed. */
export function ed25519SeedToPkcs8(seed: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new CryptoError('malformed', 'Ed25519 seed must be 32 bytes');
  return concat(ED25519_PKCS8_PREFIX, seed);
}

/** The public key of a PKCS#8 Ed25519 private key. */
export async function ed25519PublicKey(privateKeyPkcs8: Uint8Array): Promise<Uint8Array> {
  const key = await subtle().importKey('pkcs8', buf(privateKeyPkcs8), 'Ed25519', true, ['sign']);
  const jwk = await subtle().exportKey('jwk', key);
  const x = (jwk.x ?? '').replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(x + '='.repeat((4 - (x.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export async function ed25519ImportPrivate(privateKeyPkcs8: Uint8Array, extractable = false): Promise<CryptoKey> {
  try {
    return await subtle().importKey('pkcs8', buf(privateKeyPkcs8), 'Ed25519', extractable, ['sign']);
  } catch {
    throw new CryptoError('malformed', 'not an Ed25519 PKCS#8 private key');
  }
}

/** Signs with a PKCS#8 private key or an imported CryptoKey; 64-byte signature. */
export async function ed25519Sign(privateKey: Uint8Array | CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  const key = privateKey instanceof Uint8Array ? await ed25519ImportPrivate(privateKey) : privateKey;
  return new Uint8Array(await subtle().sign('Ed25519', key, buf(message)));
}

/** Imports a 32-byte Ed25519 public key for repeated verification; undefined if malformed. */
export async function ed25519ImportPublic(publicKey: Uint8Array): Promise<CryptoKey | undefined> {
  if (publicKey.length !== 32) return undefined;
  try {
    return await subtle().importKey('raw', buf(publicKey), 'Ed25519', false, ['verify']);
  } catch {
    return undefined;
  }
}

/** False (never throws) for a bad signature, a malformed key or a wrong-length signature. */
export async function ed25519Verify(publicKey: Uint8Array | CryptoKey, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (signature.length !== 64) return false;
  const key = publicKey instanceof Uint8Array ? await ed25519ImportPublic(publicKey) : publicKey;
  if (!key) return false;
  try {
    return await subtle().verify('Ed25519', key, buf(signature), buf(message));
  } catch {
    return false;
  }
}

/** RFC 7748 X25519(k, u) with raw 32-byte scalar and u-coordinate; throws on an all-zero result. */
export async function x25519(scalar: Uint8Array, u: Uint8Array): Promise<Uint8Array> {
  if (scalar.length !== 32 || u.length !== 32) throw new CryptoError('malformed', 'X25519 inputs must be 32 bytes');
  const priv = await subtle().importKey('pkcs8', buf(concat(X25519_PKCS8_PREFIX, scalar)), 'X25519', false, ['deriveBits']);
  const pub = await subtle().importKey('raw', buf(u), 'X25519', false, []);
  try {
    return new Uint8Array(await subtle().deriveBits({ name: 'X25519', public: pub }, priv, 256));
  } catch {
    throw new CryptoError('malformed', 'X25519 produced the all-zero value (small-order point)');
  }
}

/** Imports a 16- or 32-byte AES-GCM key, non-extractable. */
export async function aesGcmKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== 16 && raw.length !== 32) throw new CryptoError('malformed', 'AES key must be 16 or 32 bytes');
  return subtle().importKey('raw', buf(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** AES-GCM with a 12-byte IV and 16-byte tag appended to the ciphertext. */
export async function aesGcmEncrypt(key: CryptoKey, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: buf(iv), additionalData: buf(aad), tagLength: 128 }, key, buf(plaintext)));
}

/** Throws `decrypt_failed` when the tag does not authenticate. */
export async function aesGcmDecrypt(key: CryptoKey, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: buf(iv), additionalData: buf(aad), tagLength: 128 }, key, buf(ciphertext)));
  } catch {
    throw new CryptoError('decrypt_failed', 'AES-GCM authentication failed');
  }
}
