/**
 * Unencrypted bodies, for tests only: message content (web-client/src/crypto/content.ts) as UTF-8
 * JSON in base64, what a server (or an old client) could store instead of an envelope. The app
 * never sends one; tests use them to check that such bodies are refused, never shown as text.
 */
import { fromBase64, toBase64 } from '../../src/shared/base64.ts';
import { decodeContent, encodeContent as contentBytes, type MessageContent } from '../../web-client/src/crypto/content.ts';

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
