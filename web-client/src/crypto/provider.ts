/**
 * The one MLS cipher suite we run — suite 1, MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 — on
 * Web Crypto only. We feature-detect Ed25519 and X25519 up front and refuse with a clear error
 * instead of letting ts-mls fall back to optional pure-JS code (and never load WASM: the CSP
 * forbids it).
 */
import { defaultCryptoProvider, getCiphersuiteFromName, getCiphersuiteImpl, type CiphersuiteImpl } from 'ts-mls';
import { CryptoError } from './errors.ts';

/** RFC 9420 name of the suite every group uses. */
export const SUITE_NAME = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' as const;

let support: Promise<void> | undefined;
let suite: Promise<CiphersuiteImpl> | undefined;

async function probe(): Promise<void> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new CryptoError(
      'unsupported_runtime',
      'Web Crypto is unavailable: open the chat over https:// (or http://localhost); browsers hide crypto.subtle on plain http',
    );
  }
  try {
    const ed = (await subtle.generateKey('Ed25519', false, ['sign', 'verify'])) as CryptoKeyPair;
    const sig = await subtle.sign('Ed25519', ed.privateKey, new Uint8Array(1));
    if (sig.byteLength !== 64) throw new Error('unexpected Ed25519 signature length');
  } catch {
    throw new CryptoError('unsupported_runtime', 'this browser lacks Web Crypto Ed25519 (needs Chromium 137+, Firefox 129+ or Safari 17+)');
  }
  try {
    const a = (await subtle.generateKey('X25519', false, ['deriveBits'])) as CryptoKeyPair;
    const b = (await subtle.generateKey('X25519', false, ['deriveBits'])) as CryptoKeyPair;
    await subtle.deriveBits({ name: 'X25519', public: b.publicKey }, a.privateKey, 256);
  } catch {
    throw new CryptoError('unsupported_runtime', 'this browser lacks Web Crypto X25519 (needs Chromium 133+, Firefox 130+ or Safari 17+)');
  }
}

/** Resolves when this runtime can run our crypto; rejects with `unsupported_runtime` otherwise. */
export function assertCryptoSupport(): Promise<void> {
  support ??= probe().catch((err) => {
    support = undefined;
    throw err;
  });
  return support;
}

/** The ts-mls implementation of suite 1 (internal to this folder). */
export function mlsSuite(): Promise<CiphersuiteImpl> {
  suite ??= assertCryptoSupport().then(() =>
    getCiphersuiteImpl(getCiphersuiteFromName(SUITE_NAME), defaultCryptoProvider),
  );
  return suite;
}
