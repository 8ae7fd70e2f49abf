/**
 * Session cookies: `__Host-sid=<token>; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=30 days`.
 * The database keeps only the token's SHA-256; a new session replaces the caller's old one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../../store/types.ts';
import { hashToken, newToken, SESSION_COOKIE } from './tokens.ts';

/** Session lifetime, seconds (30 days). */
export const SESSION_MAX_AGE_S = 30 * 24 * 3600;

const COOKIE_OPTIONS = { path: '/', secure: true, httpOnly: true, sameSite: 'strict' } as const;

/** The cookie's token hash on this request, whether or not the session is still valid. */
export function cookieTokenHash(request: FastifyRequest): string | null {
  const token = request.cookies?.[SESSION_COOKIE];
  return token ? hashToken(token) : null;
}

/**
 * Signs the user in on this reply: deletes the session the request came with (rotation at sign-in,
 * against session fixation) and sets a fresh cookie. Returns the new session's hash.
 */
export async function startSession(store: Store, request: FastifyRequest, reply: FastifyReply, userId: string, now: number): Promise<string> {
  const previous = cookieTokenHash(request);
  if (previous) await store.deleteSession(previous);
  const token = newToken();
  const tokenHash = hashToken(token);
  await store.createSession({ tokenHash, userId, createdAt: now, expiresAt: now + SESSION_MAX_AGE_S * 1000 });
  reply.setCookie(SESSION_COOKIE, token, { ...COOKIE_OPTIONS, maxAge: SESSION_MAX_AGE_S });
  return tokenHash;
}

/** Expires the cookie in the browser. */
export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, COOKIE_OPTIONS);
}
