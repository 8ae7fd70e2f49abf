/**
 * The content envelope (research §7.6): every message kind travels as one signed, encrypted
 * envelope under a per-epoch, per-channel key derived from the MLS exporter.
 *
 *   E_e     = MLS-Exporter("chatroom v1 content", "", 32)                       (mls.ts)
 *   K_{c,e} = HKDF-SHA256(ikm = E_e, salt = groupId, info = "chatroom v1 channel" ‖ utf8(channel), 32)
 *   header  = u8 version=1 ‖ u8 len ‖ groupId ‖ u64 epoch ‖ u8 len ‖ utf8(channel)
 *             ‖ u8 len ‖ utf8(senderDeviceId) ‖ messageId[16] ‖ u64 sentAt (ms)
 *   ct      = AES-256-GCM(K_{c,e}, iv[12] random, aad = header, pad(JSON content))   (ct includes the 16-byte tag)
 *   sig     = Ed25519_DSK("chatroom v1 sig" ‖ header ‖ iv ‖ u32 len(ct) ‖ ct)
 *   wire    = header ‖ iv ‖ u32 len(ct) ‖ ct ‖ sig[64]
 *
 * Channel "" is the conversation itself (DMs, groups); a server's channels use their channel id.
 * Receivers check group and channel against where the envelope was delivered, the signature
 * against the sender's key in that epoch's roster, then decrypt, then drop duplicates.
 */
import { ByteReader, ByteWriter, concat, equalBytes, fromUtf8, toHex, utf8 } from './bytes.ts';
import { decodeContent, encodeContent, type MessageContent } from './content.ts';
import { CryptoError } from './errors.ts';
import type { DeviceIdentity } from './identity.ts';
import type { EpochKeys, Member } from './mls.ts';
import { pad, unpad } from './padding.ts';
import { assertSendAllowed, type PinStore } from './pins.ts';
import { aesGcmDecrypt, aesGcmEncrypt, aesGcmKey, ed25519ImportPrivate, ed25519ImportPublic, ed25519Sign, ed25519Verify, hkdfSha256, randomBytes } from './primitives.ts';

export const ENVELOPE_VERSION = 1;
export const CHANNEL_KEY_LABEL = 'chatroom v1 channel';
export const SIGNATURE_LABEL = 'chatroom v1 sig';
const IV_BYTES = 12;
const MESSAGE_ID_BYTES = 16;
const SIG_BYTES = 64;

export interface EnvelopeHeader {
  version: number;
  groupId: Uint8Array;
  epoch: bigint;
  channel: string;
  senderDeviceId: string;
  /** 16 random bytes; hex form is the message's id for references (edit, reply, ...). */
  messageId: Uint8Array;
  /** Sender's clock, ms since the Unix epoch (authenticated, not trusted for ordering). */
  sentAt: number;
}

export function encodeHeader(h: EnvelopeHeader): Uint8Array {
  if (h.messageId.length !== MESSAGE_ID_BYTES) throw new CryptoError('malformed', 'messageId must be 16 bytes');
  return new ByteWriter()
    .u8(h.version)
    .short(h.groupId, 'groupId')
    .u64(h.epoch)
    .short(utf8(h.channel), 'channel')
    .short(utf8(h.senderDeviceId), 'senderDeviceId')
    .raw(h.messageId)
    .u64(h.sentAt)
    .bytes();
}

interface Parsed {
  header: EnvelopeHeader;
  headerBytes: Uint8Array;
  iv: Uint8Array;
  ct: Uint8Array;
  signed: Uint8Array;
  sig: Uint8Array;
}

function parse(wire: Uint8Array): Parsed {
  const r = new ByteReader(wire);
  const version = r.u8();
  if (version !== ENVELOPE_VERSION) throw new CryptoError('unsupported_version', `envelope version ${version}`);
  const groupId = r.short();
  const epoch = r.u64();
  const channel = fromUtf8(r.short());
  const senderDeviceId = fromUtf8(r.short());
  const messageId = r.raw(MESSAGE_ID_BYTES);
  const sentAt = Number(r.u64());
  const headerEnd = r.offset;
  const iv = r.raw(IV_BYTES);
  const ct = r.long();
  const signedEnd = r.offset;
  const sig = r.raw(SIG_BYTES);
  r.end();
  return {
    header: { version, groupId, epoch, channel, senderDeviceId, messageId, sentAt },
    headerBytes: wire.slice(0, headerEnd),
    iv,
    ct,
    signed: wire.subarray(0, signedEnd),
    sig,
  };
}

/** The cleartext routing header of an envelope (`malformed` / `unsupported_version` on bad bytes). */
export function readEnvelopeHeader(wire: Uint8Array): EnvelopeHeader {
  return parse(wire).header;
}

/** K_{c,e}: the AES-256-GCM key for one channel in one epoch. */
export function deriveChannelKey(contentSecret: Uint8Array, groupId: Uint8Array, channel: string): Promise<Uint8Array> {
  return hkdfSha256(contentSecret, groupId, concat(utf8(CHANNEL_KEY_LABEL), utf8(channel)), 32);
}

const keyCache = new WeakMap<EpochKeys, Map<string, Promise<CryptoKey>>>();

function channelKey(keys: EpochKeys, channel: string): Promise<CryptoKey> {
  let m = keyCache.get(keys);
  if (!m) keyCache.set(keys, (m = new Map()));
  let k = m.get(channel);
  if (!k) {
    k = deriveChannelKey(keys.contentSecret, keys.groupId, channel).then(async (raw) => {
      const key = await aesGcmKey(raw);
      raw.fill(0);
      return key;
    });
    m.set(channel, k);
  }
  return k;
}

// Imported keys cached per object: a PKCS#8 import costs about as much as the signature itself.
const signerCache = new WeakMap<Uint8Array, Promise<CryptoKey>>();
const verifierCache = new WeakMap<Uint8Array, Promise<CryptoKey | undefined>>();

function signer(pkcs8: Uint8Array): Promise<CryptoKey> {
  let k = signerCache.get(pkcs8);
  if (!k) signerCache.set(pkcs8, (k = ed25519ImportPrivate(pkcs8)));
  return k;
}

function verifier(publicKey: Uint8Array): Promise<CryptoKey | undefined> {
  let k = verifierCache.get(publicKey);
  if (!k) verifierCache.set(publicKey, (k = ed25519ImportPublic(publicKey)));
  return k;
}

export interface SealInput {
  keys: EpochKeys;
  sender: DeviceIdentity;
  channel: string;
  content: MessageContent;
  /** Refuses (send_blocked) while any member's changed account key is unacknowledged. */
  pins: PinStore;
  /** Clock, ms; defaults to Date.now(). */
  now?: number;
  /** Fixed message id / IV, for golden vectors only; random otherwise. */
  messageId?: Uint8Array;
  iv?: Uint8Array;
}

export interface SealedEnvelope {
  envelope: Uint8Array;
  header: EnvelopeHeader;
  /** Hex message id (what `target` fields reference). */
  id: string;
}

/** Encrypts and signs one message for the current epoch's keys. */
export async function sealEnvelope(input: SealInput): Promise<SealedEnvelope> {
  const { keys, sender } = input;
  const me = keys.roster.find((m) => m.deviceId === sender.deviceId && equalBytes(m.signatureKey, sender.signaturePublicKey));
  if (!me) throw new CryptoError('unknown_sender', 'this device is not a member of the group in this epoch');
  await assertSendAllowed(input.pins, keys.roster.map((m) => m.userId));
  const header: EnvelopeHeader = {
    version: ENVELOPE_VERSION,
    groupId: keys.groupId,
    epoch: keys.epoch,
    channel: input.channel,
    senderDeviceId: sender.deviceId,
    messageId: input.messageId ?? randomBytes(MESSAGE_ID_BYTES),
    sentAt: input.now ?? Date.now(),
  };
  const headerBytes = encodeHeader(header);
  const iv = input.iv ?? randomBytes(IV_BYTES);
  if (iv.length !== IV_BYTES) throw new CryptoError('malformed', 'iv must be 12 bytes');
  const ct = await aesGcmEncrypt(await channelKey(keys, input.channel), iv, headerBytes, pad(encodeContent(input.content)));
  const signed = new ByteWriter().raw(headerBytes).raw(iv).long(ct).bytes();
  const sig = await ed25519Sign(await signer(sender.signaturePrivateKey), concat(utf8(SIGNATURE_LABEL), signed));
  return { envelope: concat(signed, sig), header, id: toHex(header.messageId) };
}

/**
 * Remembers accepted (sender, message id) pairs of one group so replays are dropped. Bounded:
 * the oldest ids are forgotten past `capacity`; the app's message store deduplicates history.
 */
export class ReplayWindow {
  private readonly seen = new Set<string>();
  constructor(readonly capacity = 10_000) {}
  has(senderDeviceId: string, messageId: Uint8Array): boolean {
    return this.seen.has(`${senderDeviceId}/${toHex(messageId)}`);
  }
  add(senderDeviceId: string, messageId: Uint8Array): void {
    const k = `${senderDeviceId}/${toHex(messageId)}`;
    this.seen.delete(k);
    this.seen.add(k);
    while (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value as string);
  }
}

export interface OpenInput {
  envelope: Uint8Array;
  /** Where the envelope was delivered: it must name this group and channel. */
  groupId: Uint8Array;
  channel: string;
  /** Keys of the envelope's epoch (current group, or the archive); undefined if not held. */
  keysFor: (epoch: bigint) => EpochKeys | undefined | Promise<EpochKeys | undefined>;
  replay: ReplayWindow;
}

export interface OpenedMessage {
  header: EnvelopeHeader;
  id: string;
  sender: Member;
  content: MessageContent;
}

/** Verifies, decrypts and deduplicates one envelope; every refusal is a typed CryptoError. */
export async function openEnvelope(input: OpenInput): Promise<OpenedMessage> {
  const p = parse(input.envelope);
  const h = p.header;
  if (!equalBytes(h.groupId, input.groupId)) throw new CryptoError('wrong_group', 'envelope belongs to another conversation');
  if (h.channel !== input.channel) throw new CryptoError('wrong_channel', 'envelope belongs to another channel');
  const keys = await input.keysFor(h.epoch);
  if (!keys || keys.epoch !== h.epoch || !equalBytes(keys.groupId, h.groupId)) {
    throw new CryptoError('unknown_epoch', `no keys for epoch ${h.epoch}`, { epoch: h.epoch });
  }
  // Device ids are chosen by their owners, so two users could claim the same one: try each
  // candidate and attribute the message to the member whose key verifies, never to the header text.
  const candidates = keys.roster.filter((m) => m.deviceId === h.senderDeviceId);
  if (!candidates.length) throw new CryptoError('unknown_sender', 'sender was not a member in that epoch', { deviceId: h.senderDeviceId });
  const signed = concat(utf8(SIGNATURE_LABEL), p.signed);
  let sender: Member | undefined;
  for (const m of candidates) {
    const key = await verifier(m.signatureKey);
    if (key && (await ed25519Verify(key, signed, p.sig))) {
      sender = m;
      break;
    }
  }
  if (!sender) throw new CryptoError('bad_signature', 'envelope signature does not verify');
  if (input.replay.has(h.senderDeviceId, h.messageId)) throw new CryptoError('duplicate', 'message already received');
  const padded = await aesGcmDecrypt(await channelKey(keys, h.channel), p.iv, p.headerBytes, p.ct);
  const content = decodeContent(unpad(padded));
  input.replay.add(h.senderDeviceId, h.messageId);
  return { header: h, id: toHex(h.messageId), sender, content };
}
