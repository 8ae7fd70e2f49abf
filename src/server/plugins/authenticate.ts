/**
 * Attaches `request.auth` from the `__Host-sid` session cookie before any route or WebSocket
 * upgrade runs. An unknown or expired cookie simply leaves the request unauthenticated.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ChatroomError } from '../../shared/errors.ts';
import type { AuthContext } from '../context.ts';
import { cookieTokenHash } from '../auth/sessions.ts';

export function installAuthentication(app: FastifyInstance): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    request.auth = null;
    const sessionHash = cookieTokenHash(request);
    if (!sessionHash) return;
    const { store } = app.deps;
    const session = await store.getSession(sessionHash);
    if (!session || session.expiresAt <= app.deps.now()) return;
    const user = await store.getUser(session.userId);
    if (!user) return;
    request.auth = { userId: user.id, username: user.username, role: user.role, sessionHash };
  });
}

/** The caller's auth context, or UNAUTHENTICATED (401). */
export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new ChatroomError('UNAUTHENTICATED');
  return request.auth;
}
