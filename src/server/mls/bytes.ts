/** Opaque MLS bytes on the wire: base64url without padding (RFC 4648 §5). */
import { ChatroomError } from '../../shared/errors.ts';

/** Decodes base64url the schema already matched; a length no encoding produces is BAD_REQUEST. */
export function decodeB64Url(s: string, field: string): Uint8Array {
  // 4n+1 characters cannot come from any byte string.
  if (s.length % 4 === 1) throw new ChatroomError('BAD_REQUEST', `${field}: not base64url.`);
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

export function encodeB64Url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}
