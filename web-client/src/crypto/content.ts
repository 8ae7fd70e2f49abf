/**
 * What travels inside an envelope's ciphertext: one typed message, as JSON (UTF-8). Byte fields
 * are standard base64 strings; message references (`target`) are the 32-hex-digit message id of
 * the referenced envelope. JSON is chosen over a binary format because the body is padded to a
 * bucket anyway (its size mostly vanishes) and it stays readable in golden vectors.
 * Unknown kinds decode as `{ kind: 'unknown' }` so an older client can say "sent from a newer version".
 */
import { fromUtf8, utf8 } from './bytes.ts';
import { CryptoError } from './errors.ts';

/** An encrypted file as the attachment module produced it (see file-chunks.ts). */
export interface AttachmentRef {
  blobId: string;
  /** base64 of the 32-byte file key. */
  key: string;
  /** base64 of the 8-byte nonce prefix. */
  noncePrefix: string;
  /** base64 of SHA-256 over the ciphertext. */
  sha256: string;
  ciphertextBytes: number;
  plaintextBytes: number;
  mime: string;
  name?: string;
  width?: number;
  height?: number;
  durationMs?: number;
  /** Voice messages: amplitude samples 0..255. */
  waveform?: number[];
  /** Photos: the average colour `#rrggbb`, shown until the thumbnail is decrypted. */
  placeholder?: string;
}

export type MessageContent =
  | { kind: 'text'; text: string }
  | { kind: 'reply'; target: string; text: string }
  | { kind: 'edit'; target: string; text: string }
  | { kind: 'delete'; target: string }
  | { kind: 'reaction'; target: string; emoji: string; remove?: boolean }
  | { kind: 'attachment'; file: AttachmentRef; thumbnail?: AttachmentRef; caption?: string; replyTo?: string }
  | { kind: 'call-signal'; callId: string; signal: 'offer' | 'answer' | 'ice' | 'hangup'; sdp?: string; candidate?: string; fingerprint?: string }
  | { kind: 'unknown'; type: string };

export type MessageKind = MessageContent['kind'];

const MSG_ID = /^[0-9a-f]{32}$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fail(what: string): never {
  throw new CryptoError('malformed', `message content: ${what}`);
}
function str(v: unknown, what: string, max = 65_536): string {
  if (typeof v !== 'string' || v.length > max) fail(`${what} must be a string`);
  return v;
}
function optStr(v: unknown, what: string, max?: number): string | undefined {
  return v === undefined ? undefined : str(v, what, max);
}
function ref(v: unknown, what: string): string {
  if (typeof v !== 'string' || !MSG_ID.test(v)) fail(`${what} must be a 32-hex-digit message id`);
  return v;
}
function b64(v: unknown, what: string): string {
  if (typeof v !== 'string' || !B64.test(v)) fail(`${what} must be base64`);
  return v;
}
function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${what} must be a non-negative integer`);
  return v;
}
function optNum(v: unknown, what: string): number | undefined {
  return v === undefined ? undefined : num(v, what);
}

function attachment(v: unknown, what: string): AttachmentRef {
  if (typeof v !== 'object' || v === null) fail(`${what} must be an object`);
  const o = v as Record<string, unknown>;
  const out: AttachmentRef = {
    blobId: str(o.blobId, `${what}.blobId`, 128),
    key: b64(o.key, `${what}.key`),
    noncePrefix: b64(o.noncePrefix, `${what}.noncePrefix`),
    sha256: b64(o.sha256, `${what}.sha256`),
    ciphertextBytes: num(o.ciphertextBytes, `${what}.ciphertextBytes`),
    plaintextBytes: num(o.plaintextBytes, `${what}.plaintextBytes`),
    mime: str(o.mime, `${what}.mime`, 255),
  };
  const name = optStr(o.name, `${what}.name`, 1024);
  if (name !== undefined) out.name = name;
  for (const k of ['width', 'height', 'durationMs'] as const) {
    const n = optNum(o[k], `${what}.${k}`);
    if (n !== undefined) out[k] = n;
  }
  if (o.waveform !== undefined) {
    if (!Array.isArray(o.waveform) || o.waveform.length > 1024 || !o.waveform.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) fail(`${what}.waveform`);
    out.waveform = o.waveform as number[];
  }
  if (o.placeholder !== undefined) {
    if (typeof o.placeholder !== 'string' || !/^#[0-9a-f]{6}$/i.test(o.placeholder)) fail(`${what}.placeholder must be #rrggbb`);
    out.placeholder = o.placeholder;
  }
  return out;
}

/** Validates a parsed object into a MessageContent (drops unknown fields). */
export function toContent(v: unknown): MessageContent {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('not an object');
  const o = v as Record<string, unknown>;
  switch (o.kind) {
    case 'text':
      return { kind: 'text', text: str(o.text, 'text') };
    case 'reply':
      return { kind: 'reply', target: ref(o.target, 'target'), text: str(o.text, 'text') };
    case 'edit':
      return { kind: 'edit', target: ref(o.target, 'target'), text: str(o.text, 'text') };
    case 'delete':
      return { kind: 'delete', target: ref(o.target, 'target') };
    case 'reaction': {
      const r: MessageContent = { kind: 'reaction', target: ref(o.target, 'target'), emoji: str(o.emoji, 'emoji', 64) };
      if (o.remove === true) r.remove = true;
      return r;
    }
    case 'attachment': {
      const r: Extract<MessageContent, { kind: 'attachment' }> = { kind: 'attachment', file: attachment(o.file, 'file') };
      if (o.thumbnail !== undefined) r.thumbnail = attachment(o.thumbnail, 'thumbnail');
      const caption = optStr(o.caption, 'caption');
      if (caption !== undefined) r.caption = caption;
      if (o.replyTo !== undefined) r.replyTo = ref(o.replyTo, 'replyTo');
      return r;
    }
    case 'call-signal': {
      if (o.signal !== 'offer' && o.signal !== 'answer' && o.signal !== 'ice' && o.signal !== 'hangup') fail('signal');
      const r: Extract<MessageContent, { kind: 'call-signal' }> = { kind: 'call-signal', callId: str(o.callId, 'callId', 128), signal: o.signal };
      for (const k of ['sdp', 'candidate', 'fingerprint'] as const) {
        const s = optStr(o[k], k);
        if (s !== undefined) r[k] = s;
      }
      return r;
    }
    default:
      return { kind: 'unknown', type: typeof o.kind === 'string' ? o.kind.slice(0, 64) : '' };
  }
}

export function encodeContent(c: MessageContent): Uint8Array {
  if (c.kind === 'unknown') throw new CryptoError('malformed', 'cannot send an unknown message kind');
  return utf8(JSON.stringify(toContent(c)));
}

export function decodeContent(bytes: Uint8Array): MessageContent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(bytes));
  } catch {
    fail('not JSON');
  }
  return toContent(parsed);
}
