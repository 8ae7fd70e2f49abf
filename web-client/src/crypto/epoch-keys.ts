/**
 * Binary form of an EpochKeys record (for the local store and the backup archive), version 1:
 *   u8 version=1 ‖ u8 len ‖ groupId ‖ u64 epoch ‖ contentSecret[32] ‖ u16 members
 *   then per member: u32 leafIndex ‖ u8 len ‖ userId ‖ u8 len ‖ deviceId ‖ accountKey[32] ‖ signatureKey[32]
 */
import { ByteReader, ByteWriter, fromUtf8, utf8 } from './bytes.ts';
import { CryptoError } from './errors.ts';
import type { EpochKeys } from './mls.ts';

const VERSION = 1;

export function encodeEpochKeys(k: EpochKeys): Uint8Array {
  if (k.contentSecret.length !== 32) throw new CryptoError('malformed', 'contentSecret must be 32 bytes');
  const w = new ByteWriter().u8(VERSION).short(k.groupId, 'groupId').u64(k.epoch).raw(k.contentSecret).u16(k.roster.length);
  for (const m of k.roster) {
    w.u32(m.leafIndex).short(utf8(m.userId), 'userId').short(utf8(m.deviceId), 'deviceId').raw(m.accountKey).raw(m.signatureKey);
  }
  return w.bytes();
}

export function decodeEpochKeys(bytes: Uint8Array): EpochKeys {
  const r = new ByteReader(bytes);
  const v = r.u8();
  if (v !== VERSION) throw new CryptoError('unsupported_version', `epoch keys version ${v}`);
  const groupId = r.short();
  const epoch = r.u64();
  const contentSecret = r.raw(32);
  const n = r.u16();
  const roster = [];
  for (let i = 0; i < n; i++) {
    roster.push({ leafIndex: r.u32(), userId: fromUtf8(r.short()), deviceId: fromUtf8(r.short()), accountKey: r.raw(32), signatureKey: r.raw(32) });
  }
  r.end();
  return { groupId, epoch, contentSecret, roster };
}
