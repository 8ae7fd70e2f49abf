/**
 * What a message body holds. Today: JSON `{"type":"text","text":…}` as UTF-8, base64 for the wire.
 * End-to-end encryption will replace this one module (encrypt after encode, decrypt before decode),
 * so nothing else in the client may look inside `body`.
 */
import { fromBase64, toBase64 } from '../../src/shared/base64.ts';

export type Content = { type: 'text'; text: string } | { type: 'unsupported' };

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** Body (base64) for a text message. */
export function encodeText(text: string): string {
  return toBase64(enc.encode(JSON.stringify({ type: 'text', text })));
}

/** Never throws: a body this client cannot read becomes `unsupported`. */
export function decodeBody(body: string): Content {
  try {
    const value: unknown = JSON.parse(dec.decode(fromBase64(body)));
    if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'text') {
      const text = (value as { text?: unknown }).text;
      if (typeof text === 'string') return { type: 'text', text };
    }
  } catch {
    // fall through: not our format
  }
  return { type: 'unsupported' };
}
