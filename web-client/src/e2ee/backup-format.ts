/**
 * What the two server-side backup blobs (PUT /api/mls/backup/:kind) hold. The crypto layer makes
 * the wrapped pieces (recovery.ts); these containers only put them side by side:
 *
 *   account-key blob = u8 version=1 ‖ u32 n ‖ (u32 len ‖ field)*
 *     field 0: wrapAccountKey(BK, account key PKCS#8)          (always)
 *     field 1: wrapBackupKeyWithPassphrase(BK, passphrase)    (only when a passphrase is set)
 *   archive blob     = u8 version=1 ‖ u32 n ‖ (u32 len ‖ wrapArchiveRecord(BK, record))*
 *
 * Each wrapped piece is authenticated by itself, so the container needs no MAC: a server that
 * drops or swaps fields can only make a restore fail (wrong_recovery_key), never succeed wrongly.
 */
import { packFields, unpackFields } from './codec.ts';

const ACCOUNT_KEY_BLOB_VERSION = 1;
const ARCHIVE_BLOB_VERSION = 1;

export interface AccountKeyBackup {
  /** The account key wrapped under the backup key (recovery key). */
  wrappedAccountKey: Uint8Array;
  /** The backup key wrapped under the user's passphrase, when they chose one. */
  passphraseWrappedBackupKey?: Uint8Array;
}

export function encodeAccountKeyBackup(b: AccountKeyBackup): Uint8Array {
  const fields = [b.wrappedAccountKey];
  if (b.passphraseWrappedBackupKey) fields.push(b.passphraseWrappedBackupKey);
  return packFields(ACCOUNT_KEY_BLOB_VERSION, fields);
}

export function decodeAccountKeyBackup(bytes: Uint8Array): AccountKeyBackup {
  const fields = unpackFields(bytes, ACCOUNT_KEY_BLOB_VERSION, 'account-key backup');
  if (fields.length < 1 || fields.length > 2) throw new Error(`account-key backup: expected 1 or 2 fields, got ${fields.length}`);
  return fields.length === 2 ? { wrappedAccountKey: fields[0], passphraseWrappedBackupKey: fields[1] } : { wrappedAccountKey: fields[0] };
}

/** The archive blob: wrapped archive records, oldest first (empty at sign-up). */
export function encodeArchive(records: Uint8Array[]): Uint8Array {
  return packFields(ARCHIVE_BLOB_VERSION, records);
}

export function decodeArchive(bytes: Uint8Array): Uint8Array[] {
  return unpackFields(bytes, ARCHIVE_BLOB_VERSION, 'archive backup');
}
