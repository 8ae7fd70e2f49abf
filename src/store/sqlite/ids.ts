/** Ids for users, servers and conversations (the store must not import from src/server). */
import { randomBytes } from 'node:crypto';

/** 16 random bytes, base64url (22 chars). */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}
