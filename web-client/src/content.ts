/**
 * Unencrypted bodies: message content (crypto/content.ts) as UTF-8 JSON, base64 for the wire. Only
 * the plain codec (state/plain-codec.ts) and test helpers use this; encrypted bodies are envelopes.
 */
import { fromBase64, toBase64 } from '../../src/shared/base64.ts';
import { decodeContent, encodeContent as contentBytes, type MessageContent } from './crypto/content.ts';

/** Body (base64) for any content. */
export function encodeContent(content: MessageContent): string {
  return toBase64(contentBytes(content));
}

/** Body (base64) for a text message. */
export function encodeText(text: string): string {
  return encodeContent({ kind: 'text', text });
}

/** Never throws: a body this client cannot read becomes `{ kind: 'unknown', type: '' }`. */
export function decodeBody(body: string): MessageContent {
  try {
    return decodeContent(fromBase64(body));
  } catch {
    return { kind: 'unknown', type: '' };
  }
}
