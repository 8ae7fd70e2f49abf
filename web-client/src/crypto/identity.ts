/**
 * Account identity key (AIK, Ed25519, one per user) and device certificates: the AIK signs each
 * device's signature key (DSK, the MLS leaf key), so the server cannot invent a device for a user.
 *
 * Device certificate, version 1 (all integers big-endian):
 *   tbs  = u8 version=1 ‖ u8 len ‖ userId (UTF-8) ‖ accountKey[32] ‖ deviceKey[32]
 *          ‖ u8 len ‖ deviceId (UTF-8) ‖ u64 createdAt (ms since epoch)
 *   sig  = Ed25519_AIK("chatroom v1 device-cert" ‖ tbs)
 *   cert = tbs ‖ sig[64]
 * The MLS BasicCredential's `identity` is exactly `cert`.
 */
import { ByteReader, ByteWriter, concat, fromUtf8, utf8 } from './bytes.ts';
import { CryptoError } from './errors.ts';
import { ed25519Generate, ed25519ImportPrivate, ed25519PublicKey, ed25519Sign, ed25519Verify } from './primitives.ts';

export const DEVICE_CERT_VERSION = 1;
export const DEVICE_CERT_LABEL = 'chatroom v1 device-cert';

/** The account key as the app holds it: public bytes plus a signer (non-extractable after restore). */
export interface AccountKey {
  publicKey: Uint8Array;
  privateKey: CryptoKey;
}

/** Freshly created account key; `privateKeyPkcs8` goes into the recovery backup, then is dropped. */
export interface NewAccountKey extends AccountKey {
  privateKeyPkcs8: Uint8Array;
}

export interface DeviceCertificate {
  version: number;
  userId: string;
  accountKey: Uint8Array;
  deviceKey: Uint8Array;
  deviceId: string;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  signature: Uint8Array;
}

/** One device's secret identity; keep it encrypted at rest (encodeDeviceIdentity). */
export interface DeviceIdentity {
  userId: string;
  deviceId: string;
  /** DSK public key, 32 bytes. */
  signaturePublicKey: Uint8Array;
  /** DSK private key, PKCS#8 (ts-mls keeps it as bytes in the group state). */
  signaturePrivateKey: Uint8Array;
  /** The AIK-signed certificate bytes. */
  certificate: Uint8Array;
}

/** Creates a user's account key at sign-up. */
export async function createAccountKey(): Promise<NewAccountKey> {
  const kp = await ed25519Generate();
  return { publicKey: kp.publicKey, privateKeyPkcs8: kp.privateKeyPkcs8, privateKey: await ed25519ImportPrivate(kp.privateKeyPkcs8, false) };
}

/** Re-imports an account key (from the backup) as a non-extractable signer. */
export async function importAccountKey(privateKeyPkcs8: Uint8Array): Promise<AccountKey> {
  return { publicKey: await ed25519PublicKey(privateKeyPkcs8), privateKey: await ed25519ImportPrivate(privateKeyPkcs8, false) };
}

function encodeTbs(c: Omit<DeviceCertificate, 'signature'>): Uint8Array {
  if (c.accountKey.length !== 32 || c.deviceKey.length !== 32) throw new CryptoError('malformed', 'keys must be 32 bytes');
  if (!Number.isSafeInteger(c.createdAt) || c.createdAt < 0) throw new CryptoError('malformed', 'createdAt must be a non-negative integer (ms)');
  return new ByteWriter()
    .u8(c.version)
    .short(utf8(c.userId), 'userId')
    .raw(c.accountKey)
    .raw(c.deviceKey)
    .short(utf8(c.deviceId), 'deviceId')
    .u64(c.createdAt)
    .bytes();
}

/** Signs a device certificate for `deviceKey` with the account key. */
export async function signDeviceCertificate(
  account: AccountKey,
  fields: { userId: string; deviceId: string; deviceKey: Uint8Array; createdAt: number },
): Promise<Uint8Array> {
  const tbs = encodeTbs({ version: DEVICE_CERT_VERSION, accountKey: account.publicKey, ...fields });
  const sig = await ed25519Sign(account.privateKey, concat(utf8(DEVICE_CERT_LABEL), tbs));
  return concat(tbs, sig);
}

/** Parses certificate bytes without checking the signature (`invalid_certificate` on bad bytes). */
export function parseDeviceCertificate(bytes: Uint8Array): DeviceCertificate {
  try {
    const r = new ByteReader(bytes);
    const version = r.u8();
    if (version !== DEVICE_CERT_VERSION) throw new CryptoError('unsupported_version', `device certificate version ${version}`);
    const userId = fromUtf8(r.short());
    const accountKey = r.raw(32);
    const deviceKey = r.raw(32);
    const deviceId = fromUtf8(r.short());
    const createdAt = Number(r.u64());
    const signature = r.raw(64);
    r.end();
    if (!userId || !deviceId) throw new CryptoError('malformed', 'empty userId or deviceId');
    return { version, userId, accountKey, deviceKey, deviceId, createdAt, signature };
  } catch (err) {
    if (err instanceof CryptoError && err.code === 'unsupported_version') throw err;
    throw new CryptoError('invalid_certificate', 'device certificate does not parse');
  }
}

/** Parses and verifies the AIK signature; `invalid_certificate` if either fails. */
export async function verifyDeviceCertificate(bytes: Uint8Array): Promise<DeviceCertificate> {
  const cert = parseDeviceCertificate(bytes);
  const tbs = bytes.subarray(0, bytes.length - 64);
  if (!(await ed25519Verify(cert.accountKey, concat(utf8(DEVICE_CERT_LABEL), tbs), cert.signature))) {
    throw new CryptoError('invalid_certificate', 'device certificate signature does not verify', { userId: cert.userId, deviceId: cert.deviceId });
  }
  return cert;
}

/** Creates a new device: a fresh DSK certified by the account key. */
export async function createDevice(account: AccountKey, userId: string, deviceId: string, now = Date.now()): Promise<DeviceIdentity> {
  const dsk = await ed25519Generate();
  const certificate = await signDeviceCertificate(account, { userId, deviceId, deviceKey: dsk.publicKey, createdAt: now });
  return { userId, deviceId, signaturePublicKey: dsk.publicKey, signaturePrivateKey: dsk.privateKeyPkcs8, certificate };
}

const DEVICE_IDENTITY_VERSION = 1;

/** Bytes for at-rest storage (secret: holds the DSK private key). */
export function encodeDeviceIdentity(d: DeviceIdentity): Uint8Array {
  return new ByteWriter()
    .u8(DEVICE_IDENTITY_VERSION)
    .short(d.signaturePrivateKey, 'signaturePrivateKey')
    .long(d.certificate)
    .bytes();
}

export async function decodeDeviceIdentity(bytes: Uint8Array): Promise<DeviceIdentity> {
  const r = new ByteReader(bytes);
  const v = r.u8();
  if (v !== DEVICE_IDENTITY_VERSION) throw new CryptoError('unsupported_version', `device identity version ${v}`);
  const signaturePrivateKey = r.short();
  const certificate = r.long();
  r.end();
  const cert = await verifyDeviceCertificate(certificate);
  const pub = await ed25519PublicKey(signaturePrivateKey);
  if (!equal32(pub, cert.deviceKey)) throw new CryptoError('key_mismatch', 'stored device key does not match its certificate');
  return { userId: cert.userId, deviceId: cert.deviceId, signaturePublicKey: pub, signaturePrivateKey, certificate };
}

function equal32(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
