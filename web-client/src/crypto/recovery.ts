/**
 * Recovery: a random 256-bit backup key (BK), shown once as a recovery key, optionally also
 * wrapped under a passphrase (Argon2id). Everything the server keeps for recovery is a wrapped
 * blob it cannot open: the account key, the passphrase-wrapped BK, and archive records (epoch
 * content keys, optionally group states).
 *
 * Recovery key text: Crockford base32 of `u8 version=1 ‖ BK[32] ‖ SHA-256("chatroom v1 recovery-key" ‖ BK)[0..2]`
 * (35 bytes → 56 characters), in 14 groups of 4 joined by "-". Input is case-insensitive, ignores
 * spaces and dashes, and reads O as 0 and I/L as 1.
 *
 * Wrapped blob v1:  u8 version=1 ‖ u8 kind ‖ params ‖ iv[12] ‖ AES-256-GCM ciphertext+tag
 *   aad  = "chatroom v1 backup" ‖ every byte before the iv
 *   key  = HKDF-SHA256(ikm = BK, salt = "", info = "chatroom v1 backup " ‖ kindName)        (kinds 1, 2)
 *        = HKDF-SHA256(ikm = Argon2id(passphrase), salt = "", info = "chatroom v1 backup passphrase") (kind 3)
 *   kind 1 account-key (plaintext: PKCS#8), kind 2 archive (plaintext: archive record),
 *   kind 3 passphrase (params = u32 t ‖ u32 m KiB ‖ u8 p ‖ salt[16]; plaintext: BK).
 */
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { ByteReader, ByteWriter, concat, equalBytes, utf8 } from './bytes.ts';
import { decodeEpochKeys, encodeEpochKeys } from './epoch-keys.ts';
import { CryptoError } from './errors.ts';
import type { EpochKeys } from './mls.ts';
import { aesGcmDecrypt, aesGcmEncrypt, aesGcmKey, hkdfSha256, randomBytes, sha256 } from './primitives.ts';

/** Argon2id cost for passphrases. */
export interface Argon2Params {
  /** Passes. */
  t: number;
  /** Memory, KiB. */
  m: number;
  /** Lanes. */
  p: number;
}

/**
 * RFC 9106's second recommended setting (t=3, 64 MiB) with one lane: noble's pure-JS Argon2 runs
 * lanes one after another, so p=4 would cost the same time for no gain. Measured ~2.0 s in
 * Chromium and ~3.1 s in Firefox on a 2-core VM (research/e2ee.md §1.2): tolerable once per
 * sign-in on a new device, and 64 MiB per guess makes GPU guessing of the offline blob costly.
 * The parameters travel in the blob, so they can be raised later without breaking old backups.
 */
export const DEFAULT_ARGON2: Argon2Params = { t: 3, m: 65_536, p: 1 };
/** Refuse blobs asking for more than this (a tampered blob must not exhaust the device): 1 GiB, 10 passes. */
const MAX_ARGON2: Argon2Params = { t: 10, m: 1_048_576, p: 16 };
/** Minimum passphrase length in Unicode code points; the recovery key remains the strong option. */
export const MIN_PASSPHRASE_CHARS = 12;

const BACKUP_KEY_BYTES = 32;
const RK_VERSION = 1;
const RK_LABEL = 'chatroom v1 recovery-key';
const BLOB_VERSION = 1;
const BLOB_LABEL = 'chatroom v1 backup';
const KIND = { 'account-key': 1, archive: 2, passphrase: 3 } as const;
type KindName = keyof typeof KIND;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A fresh backup key; its recovery-key text is shown to the user once. */
export function newBackupKey(): Uint8Array {
  return randomBytes(BACKUP_KEY_BYTES);
}

function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const i = CROCKFORD.indexOf(ch);
    if (i < 0) throw new CryptoError('bad_recovery_key', `"${ch}" is not a recovery-key character`);
    value = ((value << 5) | i) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

async function checksum(bk: Uint8Array): Promise<Uint8Array> {
  return (await sha256(concat(utf8(RK_LABEL), bk))).subarray(0, 2);
}

/** The recovery key text for a backup key: 14 groups of 4 characters. */
export async function encodeRecoveryKey(bk: Uint8Array): Promise<string> {
  if (bk.length !== BACKUP_KEY_BYTES) throw new CryptoError('malformed', 'backup key must be 32 bytes');
  const text = base32(concat(Uint8Array.of(RK_VERSION), bk, await checksum(bk)));
  return text.match(/.{1,4}/g)!.join('-');
}

/** Parses what the user typed; `bad_recovery_key` on a typo (wrong length, character or checksum). */
export async function decodeRecoveryKey(text: string): Promise<Uint8Array> {
  const clean = text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (clean.length !== 56) throw new CryptoError('bad_recovery_key', `a recovery key has 56 characters, this has ${clean.length}`);
  const raw = unbase32(clean);
  if (raw.length !== 35 || raw[0] !== RK_VERSION) throw new CryptoError('bad_recovery_key', 'not a recovery key of this version');
  const bk = raw.slice(1, 33);
  if (!equalBytes(await checksum(bk), raw.subarray(33))) throw new CryptoError('bad_recovery_key', 'the recovery key has a typo (checksum mismatch)');
  return bk;
}

/** Argon2id(passphrase, salt) → 32 bytes; runs anywhere (the Worker entry calls this). */
export async function derivePassphraseKey(passphrase: string, salt: Uint8Array, params: Argon2Params = DEFAULT_ARGON2): Promise<Uint8Array> {
  return argon2idAsync(utf8(passphrase.normalize('NFKC')), salt, { ...params, dkLen: 32, asyncTick: 50 });
}

async function kindKey(kind: KindName, secret: Uint8Array): Promise<CryptoKey> {
  return aesGcmKey(await hkdfSha256(secret, new Uint8Array(0), utf8(`${BLOB_LABEL} ${kind}`), 32));
}

async function seal(kind: KindName, params: Uint8Array, secret: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  const head = new ByteWriter().u8(BLOB_VERSION).u8(KIND[kind]).raw(params).bytes();
  const iv = randomBytes(12);
  const ct = await aesGcmEncrypt(await kindKey(kind, secret), iv, concat(utf8(BLOB_LABEL), head), plaintext);
  return concat(head, iv, ct);
}

function readHead(blob: Uint8Array, kind: KindName): { r: ByteReader } {
  const r = new ByteReader(blob);
  const v = r.u8();
  if (v !== BLOB_VERSION) throw new CryptoError('unsupported_version', `backup blob version ${v}`);
  const k = r.u8();
  if (k !== KIND[kind]) throw new CryptoError('malformed', `expected a ${kind} blob`);
  return { r };
}

async function open(kind: KindName, blob: Uint8Array, r: ByteReader, secret: Uint8Array): Promise<Uint8Array> {
  const head = blob.subarray(0, r.offset);
  const iv = r.raw(12);
  const ct = r.rest();
  try {
    return await aesGcmDecrypt(await kindKey(kind, secret), iv, concat(utf8(BLOB_LABEL), head), ct);
  } catch {
    throw new CryptoError('wrong_recovery_key', 'wrong recovery key or passphrase (or the backup was altered)');
  }
}

/** Wraps the account key's PKCS#8 bytes under the backup key. */
export function wrapAccountKey(bk: Uint8Array, accountKeyPkcs8: Uint8Array): Promise<Uint8Array> {
  return seal('account-key', new Uint8Array(0), bk, accountKeyPkcs8);
}

export async function unwrapAccountKey(bk: Uint8Array, blob: Uint8Array): Promise<Uint8Array> {
  const { r } = readHead(blob, 'account-key');
  return open('account-key', blob, r, bk);
}

/** Wraps the backup key under a passphrase (Argon2id; pass `derivedKey` when a Worker computed it). */
export async function wrapBackupKeyWithPassphrase(
  bk: Uint8Array,
  passphrase: string,
  opts: { params?: Argon2Params; salt?: Uint8Array; derivedKey?: Uint8Array } = {},
): Promise<Uint8Array> {
  if ([...passphrase.normalize('NFKC')].length < MIN_PASSPHRASE_CHARS) {
    throw new CryptoError('weak_passphrase', `a backup passphrase needs at least ${MIN_PASSPHRASE_CHARS} characters`);
  }
  const params = opts.params ?? DEFAULT_ARGON2;
  const salt = opts.salt ?? randomBytes(16);
  const pk = opts.derivedKey ?? (await derivePassphraseKey(passphrase, salt, params));
  const head = new ByteWriter().u32(params.t).u32(params.m).u8(params.p).raw(salt).bytes();
  return seal('passphrase', head, pk, bk);
}

/** The Argon2id parameters and salt a passphrase blob asks for (to run the KDF in a Worker first). */
export function passphraseBlobParams(blob: Uint8Array): { params: Argon2Params; salt: Uint8Array } {
  const { r } = readHead(blob, 'passphrase');
  const params = { t: r.u32(), m: r.u32(), p: r.u8() };
  const salt = r.raw(16);
  if (params.t < 1 || params.p < 1 || params.m < 8 * params.p || params.t > MAX_ARGON2.t || params.m > MAX_ARGON2.m || params.p > MAX_ARGON2.p) {
    throw new CryptoError('malformed', 'backup blob asks for out-of-range Argon2id parameters');
  }
  return { params, salt };
}

/** Recovers the backup key from a passphrase blob; `wrong_recovery_key` for a wrong passphrase. */
export async function unwrapBackupKeyWithPassphrase(blob: Uint8Array, passphrase: string, opts: { derivedKey?: Uint8Array } = {}): Promise<Uint8Array> {
  const { params, salt } = passphraseBlobParams(blob);
  const { r } = readHead(blob, 'passphrase');
  r.raw(4 + 4 + 1 + 16);
  const pk = opts.derivedKey ?? (await derivePassphraseKey(passphrase, salt, params));
  return open('passphrase', blob, r, pk);
}

/** One archive record: uploaded incrementally, one per epoch (and optionally per group state). */
export type ArchiveRecord =
  | { type: 'epoch-keys'; keys: EpochKeys }
  | { type: 'group-state'; groupId: Uint8Array; epoch: bigint; state: Uint8Array };

const RECORD_TYPE = { 'epoch-keys': 1, 'group-state': 2 } as const;

/** Wraps one archive record under the backup key. */
export function wrapArchiveRecord(bk: Uint8Array, record: ArchiveRecord): Promise<Uint8Array> {
  const w = new ByteWriter().u8(RECORD_TYPE[record.type]);
  if (record.type === 'epoch-keys') w.raw(encodeEpochKeys(record.keys));
  else w.short(record.groupId, 'groupId').u64(record.epoch).raw(record.state);
  return seal('archive', new Uint8Array(0), bk, w.bytes());
}

export async function unwrapArchiveRecord(bk: Uint8Array, blob: Uint8Array): Promise<ArchiveRecord> {
  const { r } = readHead(blob, 'archive');
  const plain = new ByteReader(await open('archive', blob, r, bk));
  const type = plain.u8();
  if (type === RECORD_TYPE['epoch-keys']) return { type: 'epoch-keys', keys: decodeEpochKeys(plain.rest()) };
  if (type === RECORD_TYPE['group-state']) return { type: 'group-state', groupId: plain.short(), epoch: plain.u64(), state: plain.rest() };
  throw new CryptoError('malformed', `unknown archive record type ${type}`);
}
