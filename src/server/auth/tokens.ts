/** Random bearer tokens (session cookies, invite links) and how they are stored: only as hashes. */
import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes, base64url (43 chars). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 hex of the token: what the database keeps, so a stolen database holds no usable token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Short random ids for users, servers, conversations: 16 random bytes, base64url (22 chars). */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}

/** The session cookie. `__Host-` forces Secure, Path=/ and no Domain. */
export const SESSION_COOKIE = '__Host-sid';
