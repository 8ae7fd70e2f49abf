/**
 * KeyPackage stock: how many one-time packages the server should hold for this device, and the
 * local record of their private halves (needed to join from a Welcome, so they live in the vault).
 */
import type { KeyPackageCount } from '../../../src/shared/mls-api.ts';
import type { OwnKeyPackage } from '../crypto/index.ts';
import { packFields, unpackFields } from './codec.ts';

/** One-time packages uploaded at registration and refilled to. */
export const KEY_PACKAGE_TARGET = 20;
/** Refill when fewer than this many one-time packages are left on the server. */
export const KEY_PACKAGE_LOW = 10;

/** What to upload given the server's count: nothing while the stock is fine. */
export function topUpPlan(count: KeyPackageCount): { oneTime: number; lastResort: boolean } {
  const oneTime = count.oneTime < KEY_PACKAGE_LOW ? KEY_PACKAGE_TARGET - count.oneTime : 0;
  return { oneTime, lastResort: !count.hasLastResort };
}

const RECORD_VERSION = 1;

/** Vault record: 4 fields per package (flag byte, ref, KeyPackage, secret). */
export function encodeOwnKeyPackages(list: OwnKeyPackage[]): Uint8Array {
  return packFields(
    RECORD_VERSION,
    list.flatMap((kp) => [Uint8Array.of(kp.lastResort ? 1 : 0), kp.ref, kp.keyPackage, kp.secret]),
  );
}

export function decodeOwnKeyPackages(bytes: Uint8Array): OwnKeyPackage[] {
  const f = unpackFields(bytes, RECORD_VERSION, 'key-package record');
  if (f.length % 4 !== 0) throw new Error('key-package record: fields come in fours');
  const out: OwnKeyPackage[] = [];
  for (let i = 0; i < f.length; i += 4) out.push({ lastResort: f[i][0] === 1, ref: f[i + 1], keyPackage: f[i + 2], secret: f[i + 3] });
  return out;
}
